"""What the counter's screens need from the DP, as plain functions: the answer to one of the plugin's actions, and
the state of the DP for the status bar.

The counter's hooks (windows, answered actions, status bar) are being added to the kernel by the counter's issue;
until they reach this branch, the counter (or a vendor's interface) calls these functions, and the hook
implementations will be one line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgo.api import OutboxMessage, OutboxStatus, ValidationError
from sqlalchemy import func, select

from lgo_dp import bulletins, consent
from lgo_dp.model import DpSync, FedLine, LineStatus

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "dp"


def answer(kernel: Kernel, pharmacy_id: int, operator_id: int, kind: str, data: dict[str, Any], choice: str) -> None:
    """The person at the counter chose ``choice`` in the window of an action of kind ``kind``."""
    if kind == "dp.propose_creation":
        consent.answer(kernel, pharmacy_id, operator_id, int(data["patient_id"]), choice)
    elif kind in ("dp.rappel", "dp.alerte") and choice == "acknowledge":
        bulletins.acknowledge(kernel, pharmacy_id, int(data["bulletin_id"]), operator_id)
    else:
        raise ValidationError(f"Réponse inconnue pour le Dossier Pharmaceutique : « {str(choice)[:40]} ».")


@dataclass(frozen=True)
class Status:
    #: ``ok``, ``degraded`` (messages retried, last fetch failed) or ``down`` (messages given up).
    state: str
    text_fr: str
    #: Lines of this patient not in the DP yet (queued, waiting).
    waiting_for_patient: int = 0


def status(kernel: Kernel, pharmacy_id: int, patient_id: int | None = None) -> Status:
    """The DP as the status bar shows it, from the outbox and the last fetch of bulletins (never a call to the DP)."""
    with kernel.transaction() as session:
        retried = session.scalar(
            select(func.count()).where(
                OutboxMessage.pharmacy_id == pharmacy_id,
                OutboxMessage.plugin == PLUGIN,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.attempts > 0,
            )
        )
        dead = session.scalar(
            select(func.count()).where(
                OutboxMessage.pharmacy_id == pharmacy_id,
                OutboxMessage.plugin == PLUGIN,
                OutboxMessage.status == OutboxStatus.DEAD,
            )
        )
        sync = session.get(DpSync, pharmacy_id)
        waiting = 0
        if patient_id is not None:
            waiting = int(
                session.scalar(
                    select(func.count()).where(
                        FedLine.pharmacy_id == pharmacy_id,
                        FedLine.patient_id == patient_id,
                        FedLine.status.in_([LineStatus.QUEUED, LineStatus.WAITING_IDENTITY, LineStatus.WAITING_FILE]),
                    )
                )
                or 0
            )
    suffix = f" ; {waiting} ligne(s) de ce patient en attente d'envoi" if waiting else ""
    if dead:
        return Status("down", f"DP : {dead} envoi(s) en échec définitif (voir « lgo dp suivi »){suffix}.", waiting)
    if retried or (sync is not None and sync.last_error_fr):
        reason = sync.last_error_fr if sync is not None and sync.last_error_fr else f"{retried} envoi(s) à réessayer"
        return Status("degraded", f"DP dégradé : {reason}{suffix}", waiting)
    return Status("ok", f"DP : disponible{suffix}.", waiting)
