"""What the counter's screens need from the DP, as plain functions the plugin's hooks call (a vendor's interface may
call them too): the consultation window opened by the DP key, the answer to one of the plugin's windows, the DP's
line in the patient banner and its state in the status bar.

The consultation is the only part that calls the DP while the operator waits: the operator asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgo.api import ActionRequired, Choice, OutboxMessage, OutboxStatus, Product, ValidationError
from sqlalchemy import func, select

from lgo_dp import bulletins, clock, consent, consultation
from lgo_dp.model import DpSync, FedLine, LineStatus
from lgo_dp.transport import FileState

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "dp"
#: The counter key that opens the consultation, and its command.
CONSULT_KEY = "Alt+D"
CONSULT = "dp.consulter"
#: The kind of the consultation window.
HISTORY = "dp.historique"
#: Lines shown in the window (the most recent); the CLI ``lgo dp consulter`` prints them all.
SHOWN_LINES = 60


def answer(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    kind: str,
    data: dict[str, Any],
    choice: str,
    patient_id: int | None = None,
) -> None:
    """The person at the counter chose ``choice`` in the window of an action of kind ``kind``."""
    patient = patient_id if patient_id is not None else data.get("patient_id")
    if kind == "dp.propose_creation" and patient is not None:
        consent.answer(kernel, pharmacy_id, operator_id, int(patient), choice)
    elif kind in ("dp.rappel", "dp.alerte") and choice == "acknowledge":
        bulletins.acknowledge(kernel, pharmacy_id, int(data["bulletin_id"]), operator_id)
    elif kind == HISTORY and choice == "close":
        return
    elif kind == HISTORY and choice in ("create", "refuse") and patient is not None:
        consent.answer(kernel, pharmacy_id, operator_id, int(patient), choice)
    else:
        raise ValidationError(f"Réponse inconnue pour le Dossier Pharmaceutique : « {str(choice)[:40]} ».")


@dataclass(frozen=True)
class History:
    """The merged history as the DP key's window and the patient's file show it (one code path for both)."""

    title_fr: str
    #: How many lines, and from how many other pharmacies (what the patient's file says).
    summary_fr: str
    #: The summary and the flags against the billing on screen (what the window says).
    message_fr: str
    #: The window's answers: creation and refusal only when the patient has no DP (or the refusal expired).
    choices: tuple[Choice, ...]
    #: What the templates read: ``state_fr``, ``ask_consent``, ``notice``, ``others``, ``total``, ``flags``, ``lines``.
    data: dict[str, Any]


def history(
    kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int | None, cip13s: tuple[str, ...] = ()
) -> History:
    """The 12 months of every pharmacy merged with this pharmacy's lines, duplicates flagged against the products on
    the billing screen (``cip13s``). A patient without a qualified INS, an operator without the habilitation: the
    French refusal is raised (and traced) before any call to the DP; the consultation is traced with the operator's
    name."""
    if patient_id is None:
        raise ValidationError("Dossier Pharmaceutique : sélectionnez d'abord le patient (F2).")
    with kernel.transaction() as session:
        product_ids = (
            list(
                session.scalars(
                    select(Product.id).where(Product.pharmacy_id == pharmacy_id, Product.cip13.in_(list(cip13s)))
                )
            )
            if cip13s
            else []
        )
    found = consultation.consult(kernel, pharmacy_id, operator_id, patient_id, product_ids=product_ids)
    known = consent.consent(kernel, pharmacy_id, patient_id)
    # The DP's answer, unless this pharmacy knows better (a refusal or creation still in the outbox).
    state = FileState.ACTIVE if found.file_state is FileState.ACTIVE else (known.state or found.file_state)
    ask = state in (None, FileState.NONE) or (
        state is FileState.REFUSED
        and known.refusal_valid_until is not None
        and clock.today() > known.refusal_valid_until
    )
    choices = [Choice("close", "Fermer")]
    if ask:
        choices = [
            Choice("create", "Créer le DP (le patient accepte)"),
            Choice("refuse", "Le patient refuse"),
            *choices,
        ]
    elsewhere = [line for line in found.lines if not line.own]
    others = len({line.pharmacy_finess for line in elsewhere})
    summary = f"{len(found.lines)} délivrance(s), dont {len(elsewhere)} dans {others} autre(s) officine(s)"
    return History(
        title_fr=f"Dossier Pharmaceutique — 12 derniers mois (depuis le {found.since:%d/%m/%Y})",
        summary_fr=f"{summary}.",
        message_fr=f"{summary} ; {len(found.flags)} signalement(s) contre la facturation en cours.",
        choices=tuple(choices),
        data={
            "state_fr": known.text_fr if state is None or known.state is state else state.label_fr,
            "ask_consent": ask,
            "notice": found.notice_fr,
            "others": others,
            "total": len(found.lines),
            "flags": [flag.text_fr for flag in found.flags],
            "lines": [
                {
                    "date": f"{line.dispensed_on:%d/%m/%Y}",
                    "label": line.label,
                    "quantity": line.quantity,
                    "lot": line.lot or "",
                    "pharmacy": line.pharmacy_name,
                    "own": line.own,
                    "status": line.status_fr,
                    "flagged": any(flag.line.reference == line.reference for flag in found.flags),
                }
                for line in found.lines[:SHOWN_LINES]
            ],
        },
    )


def history_window(
    kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int | None, cip13s: tuple[str, ...] = ()
) -> ActionRequired:
    """The consultation opened by the DP key: :func:`history` in the counter's window."""
    found = history(kernel, pharmacy_id, operator_id, patient_id, cip13s)
    return ActionRequired(
        kind=HISTORY,
        plugin=PLUGIN,
        title_fr=found.title_fr,
        message_fr=found.message_fr,
        patient_id=patient_id,
        choices=found.choices,
        data=found.data,
    )


def banner_lines(kernel: Kernel, pharmacy_id: int, patient_id: int) -> tuple[str, ...]:
    """The DP in the patient banner: its state here and how to consult it (read from the database only)."""
    text = consent.consent(kernel, pharmacy_id, patient_id).text_fr
    return (f"{text[:1].upper()}{text[1:]}.",)


@dataclass(frozen=True)
class Status:
    #: ``ok``, ``degraded`` (messages retried, last fetch failed) or ``down`` (messages given up).
    state: str
    text_fr: str
    #: Lines of this patient not in the DP yet (queued, waiting).
    waiting_for_patient: int = 0

    @property
    def detail_fr(self) -> str:
        """The reason alone, for the status bar that already names the DP and its state (empty when all is well)."""
        if self.state == "ok":
            return ""
        for prefix in ("DP dégradé : ", "DP : "):
            if self.text_fr.startswith(prefix):
                return self.text_fr[len(prefix) :]
        return self.text_fr


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
