"""The patient's consent at the counter: creation proposed, refusal recorded (dated, valid ten years), closing and line
masking at the patient's request.

The pharmacist decides with the patient at the counter; the DP learns it through the outbox (kind ``dp.consent``), so
the counter never waits on the DP. The local record (``dp_patient``) changes at once, in the same transaction as the
queued message and the audit entry naming the operator; the handler writes the outcome to the audit log when the DP
has answered. A refusal or a closing stops feeding immediately: lines still queued for the patient are marked "not
fed", and the feeding handler checks the record again before every sending.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Choice,
    IdentityNotShareable,
    LgoError,
    OutboxMessage,
    OutboxStatus,
    PermanentFailure,
    ValidationError,
    outbox,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_dp import access, clock
from lgo_dp.model import REFUSAL_YEARS, FedLine, LineStatus, PatientFile
from lgo_dp.settings import transport
from lgo_dp.transport import DpFile, DpPatient, DpRefused, FileState, Professional

if TYPE_CHECKING:
    from lgo.api import Delivery, Kernel, PatientSelected

PLUGIN = "dp"
KIND_CONSENT = "dp.consent"

#: Operations of ``dp.consent`` messages and how the audit log names them.
OPERATIONS = {
    "create": "création du DP",
    "refuse": "refus du DP",
    "close": "fermeture du DP",
    "mask": "masquage de lignes du DP",
    "status": "lecture de l'état du DP",
}


def record(session: Session, pharmacy_id: int, patient_id: int) -> PatientFile | None:
    return session.scalars(
        select(PatientFile).where(PatientFile.pharmacy_id == pharmacy_id, PatientFile.patient_id == patient_id)
    ).one_or_none()


def _record_for_update(session: Session, pharmacy_id: int, patient_id: int) -> PatientFile:
    row = record(session, pharmacy_id, patient_id)
    if row is None:
        row = PatientFile(pharmacy_id=pharmacy_id, patient_id=patient_id, state=FileState.NONE.value)
        session.add(row)
    return row


def ten_years_after(day: date) -> date:
    try:
        return day.replace(year=day.year + REFUSAL_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year + REFUSAL_YEARS, day=28)


def refusal_in_force(row: PatientFile | None, today: date) -> bool:
    return (
        row is not None
        and row.state == FileState.REFUSED.value
        and row.refusal_valid_until is not None
        and today <= row.refusal_valid_until
    )


def feeding_blocked(row: PatientFile | None, today: date) -> str:
    """Why the patient's lines must not reach the DP (French), or ``""``."""
    if row is None:
        return ""
    if refusal_in_force(row, today) and row.refused_on is not None:
        return f"refus du patient du {row.refused_on:%d/%m/%Y}"
    if row.state == FileState.CLOSED.value:
        closed = f" le {row.closed_on:%d/%m/%Y}" if row.closed_on else ""
        return f"DP fermé à la demande du patient{closed}"
    return ""


@dataclass(frozen=True)
class Consent:
    """What the counter shows about the patient's DP."""

    state: FileState | None
    refused_on: date | None
    refusal_valid_until: date | None
    closed_on: date | None
    created_on: date | None

    @property
    def text_fr(self) -> str:
        if self.state is None:
            return "DP inconnu de l'officine"
        if self.state is FileState.REFUSED and self.refused_on and self.refusal_valid_until:
            return (
                f"création refusée par le patient le {self.refused_on:%d/%m/%Y} "
                f"(refus valable jusqu'au {self.refusal_valid_until:%d/%m/%Y})"
            )
        if self.state is FileState.CLOSED and self.closed_on:
            return f"DP fermé à la demande du patient le {self.closed_on:%d/%m/%Y}"
        return self.state.label_fr


def consent(kernel: Kernel, pharmacy_id: int, patient_id: int) -> Consent:
    with kernel.transaction() as session:
        row = record(session, pharmacy_id, patient_id)
        if row is None:
            return Consent(None, None, None, None, None)
        return Consent(FileState(row.state), row.refused_on, row.refusal_valid_until, row.closed_on, row.created_on)


# --- at the counter ----------------------------------------------------------------------------------------------


def on_patient_selected(kernel: Kernel, event: PatientSelected) -> ActionRequired | None:
    """The creation to propose when the patient's identity is qualified and no DP is known (or the refusal expired).
    The first time, the DP is also asked for the patient's state in the background (traced, with the operator who
    selected the patient)."""
    pharmacy_id, patient_id = event.pharmacy_id, event.patient_id
    today = clock.today()
    with kernel.transaction() as session:
        row = record(session, pharmacy_id, patient_id)
        expired = row is not None and row.state == FileState.REFUSED.value and not refusal_in_force(row, today)
        wanted = row is None or row.state == FileState.NONE.value or expired
    if not wanted or not kernel.is_identity_shareable(pharmacy_id, patient_id):
        return None
    if row is None:
        _ask_state(kernel, pharmacy_id, patient_id, event.operator_id, today)
    return ActionRequired(
        kind="dp.propose_creation",
        plugin=PLUGIN,
        title_fr="Dossier Pharmaceutique : proposer la création",
        message_fr="Aucun Dossier Pharmaceutique n'est connu pour ce patient. Proposez-lui sa création : le DP "
        "rassemble ses délivrances de toutes les pharmacies. Il peut refuser (refus enregistré, valable "
        f"{REFUSAL_YEARS} ans).",
        patient_id=patient_id,
        choices=(
            Choice("create", "Créer le DP (le patient accepte)"),
            Choice("refuse", "Le patient refuse"),
            Choice("later", "Plus tard"),
        ),
    )


def _ask_state(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, today: date) -> None:
    """Ask the DP, in the background and once a day at most, for the state of a patient's DP (traced)."""
    key = f"dp:status:{patient_id}:{today.isoformat()}"
    with kernel.transaction() as session:
        asked = session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.pharmacy_id == pharmacy_id, OutboxMessage.idempotency_key == key
            )
        )
        if asked:
            return
        who = access.caller(session, pharmacy_id, operator_id) if operator_id else None
        _request(
            session,
            pharmacy_id,
            patient_id,
            operator_id,
            "status",
            f"État du DP de {access.patient_name(session, pharmacy_id, patient_id)} demandé au DP (patient "
            f"sélectionné par {who.name if who else 'un opérateur'}).",
            key=key,
        )


def answer(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, choice: str) -> None:
    """The choice made in the creation window."""
    if choice == "create":
        create(kernel, pharmacy_id, operator_id, patient_id)
    elif choice == "refuse":
        refuse(kernel, pharmacy_id, operator_id, patient_id)
    elif choice != "later":
        raise ValidationError(f"Choix inconnu pour le Dossier Pharmaceutique : « {choice[:40]} ».")


def create(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> None:
    """The patient agrees: the DP is created (queued), refusal and closing lifted, waiting lines sent once it exists."""
    with _asked(kernel, pharmacy_id, operator_id, patient_id, "create") as asked:
        row = asked.change_record()
        row.state, row.created_on = FileState.ACTIVE.value, row.created_on or asked.today
        row.refused_on = row.refusal_valid_until = row.closed_on = None
        asked.queue(
            f"Création du DP de {asked.name} demandée par {asked.who.name} (consentement du patient recueilli)."
        )


def refuse(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> date:
    """The patient refuses a DP: recorded today, valid ten years; nothing of theirs is fed meanwhile. Returns the last
    day of validity."""
    with _asked(kernel, pharmacy_id, operator_id, patient_id, "refuse") as asked:
        row, today = asked.change_record(), asked.today
        if row.state == FileState.ACTIVE.value:
            raise ValidationError(
                "Ce patient a un DP ouvert : pour qu'il ne soit plus alimenté, fermez-le à sa demande."
            )
        row.state, row.refused_on, row.refusal_valid_until = FileState.REFUSED.value, today, ten_years_after(today)
        valid_until = row.refusal_valid_until
        stopped = asked.stop_feeding(f"refus du patient du {today:%d/%m/%Y}")
        asked.queue(
            f"Refus du DP par {asked.name} enregistré le {today:%d/%m/%Y} (valable jusqu'au {valid_until:%d/%m/%Y}) "
            f"par {asked.who.name} ; {stopped} ligne(s) en attente non transmise(s).",
            day=today,
        )
    return valid_until


def close(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> None:
    """The patient asks to close the DP: no line is fed any more."""
    with _asked(kernel, pharmacy_id, operator_id, patient_id, "close") as asked:
        row = asked.change_record()
        row.state, row.closed_on = FileState.CLOSED.value, asked.today
        stopped = asked.stop_feeding(f"DP fermé à la demande du patient le {asked.today:%d/%m/%Y}")
        asked.queue(
            f"Fermeture du DP de {asked.name} demandée par {asked.who.name} ; {stopped} ligne(s) en attente non "
            "transmise(s)."
        )


def mask(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, references: Sequence[str]) -> int:
    """Mask lines at the patient's request (references shown by the consultation). A line of this pharmacy not yet
    sent is simply never sent; the others are masked in the DP. Returns how many lines were named."""
    cleaned = sorted({r.strip() for r in references if isinstance(r, str) and r.strip()})
    if not cleaned:
        raise ValidationError("Choisissez au moins une ligne du DP à masquer.")
    if any(len(r) > 80 for r in cleaned) or len(cleaned) > 500:
        raise ValidationError("Référence de ligne du DP invalide.", detail=f"{len(cleaned)} references")
    with _asked(kernel, pharmacy_id, operator_id, patient_id, "mask") as asked:
        own = {
            line.reference: line
            for line in asked.session.scalars(
                select(FedLine).where(
                    FedLine.pharmacy_id == pharmacy_id,
                    FedLine.patient_id == patient_id,
                    FedLine.reference.in_(cleaned),
                )
            )
        }
        remote = []
        for reference in cleaned:
            line = own.get(reference)
            if line is not None:
                line.masked = True
                if line.status != LineStatus.SENT:
                    line.status, line.reason_fr = LineStatus.NOT_FED, "masquée à la demande du patient"
                    continue
            remote.append(reference)
        asked.queue(
            f"Masquage de {len(cleaned)} ligne(s) du DP de {asked.name} demandé par {asked.who.name}.",
            details={"references": cleaned},
            queued=bool(remote),
            references=remote,
        )
    return len(cleaned)


@dataclass(frozen=True)
class _Asked:
    """A consent operation the patient asked for at the counter, inside its transaction: the local record changed
    at once, traced with the operator's name and queued for the DP together (:func:`_request`)."""

    session: Session
    pharmacy_id: int
    patient_id: int
    operator_id: int
    operation: str
    who: access.Caller
    today: date

    def change_record(self) -> PatientFile:
        """The patient's local record (created if need be), the operator named as its last editor."""
        row = _record_for_update(self.session, self.pharmacy_id, self.patient_id)
        row.updated_by = self.operator_id
        return row

    @property
    def name(self) -> str:
        return access.patient_name(self.session, self.pharmacy_id, self.patient_id)

    def stop_feeding(self, reason_fr: str) -> int:
        return _stop_feeding(self.session, self.pharmacy_id, self.patient_id, reason_fr)

    def queue(self, message_fr: str, **options: Any) -> None:
        """Trace the operation and queue it for the DP (``options`` of :func:`_request`)."""
        _request(
            self.session, self.pharmacy_id, self.patient_id, self.operator_id, self.operation, message_fr, **options
        )


@contextmanager
def _asked(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, operation: str) -> Iterator[_Asked]:
    """The operator's habilitation and the patient's qualified identity checked (refusals traced), then the
    operation's transaction."""
    what = OPERATIONS[operation]
    who = access.authorise(kernel, pharmacy_id, operator_id, access.HABILITATION_CONSENT, what, patient_id)
    access.require_identity(kernel, pharmacy_id, who, patient_id, what)
    today = clock.today()
    with kernel.transaction() as session:
        yield _Asked(session, pharmacy_id, patient_id, operator_id, operation, who, today)


def _stop_feeding(session: Session, pharmacy_id: int, patient_id: int, reason_fr: str) -> int:
    pending = session.scalars(
        select(FedLine).where(
            FedLine.pharmacy_id == pharmacy_id,
            FedLine.patient_id == patient_id,
            FedLine.status.in_([LineStatus.QUEUED, LineStatus.WAITING_IDENTITY, LineStatus.WAITING_FILE]),
        )
    ).all()
    for line in pending:
        line.status, line.reason_fr = LineStatus.NOT_FED, reason_fr
    return len(pending)


def _request(
    session: Session,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    operation: str,
    message_fr: str,
    *,
    details: dict[str, Any] | None = None,
    queued: bool = True,
    day: date | None = None,
    references: Sequence[str] = (),
    key: str | None = None,
) -> None:
    """Trace that ``operation`` was asked of the DP and queue it, in the caller's transaction: both or neither."""
    access.trace(
        session,
        pharmacy_id,
        f"dp.{operation}.requested",
        message_fr,
        operator_id=operator_id,
        patient_id=patient_id,
        details=details,
    )
    if not queued:
        return
    outbox.enqueue(
        session,
        pharmacy_id,
        plugin=PLUGIN,
        kind=KIND_CONSENT,
        payload={
            "operation": operation,
            "patient_id": patient_id,
            "operator_id": operator_id,
            "date": day.isoformat() if day else None,
            "references": list(references),
        },
        idempotency_key=key or f"dp:{operation}:{patient_id}:{uuid.uuid4().hex}",
        patient_id=patient_id,
    )


def operation_pending(session: Session, pharmacy_id: int, patient_id: int) -> bool:
    """A creation, refusal, closing or masking of this patient still waits in the outbox: what the DP says of the
    patient's DP now is older than what the patient asked here."""
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.pharmacy_id == pharmacy_id,
                OutboxMessage.plugin == PLUGIN,
                OutboxMessage.kind == KIND_CONSENT,
                OutboxMessage.patient_id == patient_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .limit(1)
        )
        is not None
    )


# --- delivery ----------------------------------------------------------------------------------------------------


def apply_file(session: Session, pharmacy_id: int, patient_id: int, file: DpFile) -> None:
    """What the DP says of the patient's DP becomes the local record (the DP is the reference)."""
    row = _record_for_update(session, pharmacy_id, patient_id)
    row.state = file.state.value
    row.created_on = file.created_on or row.created_on
    if file.state is FileState.REFUSED and file.refused_on:
        row.refused_on, row.refusal_valid_until = file.refused_on, ten_years_after(file.refused_on)
    if file.state is FileState.CLOSED:
        row.closed_on = file.closed_on or row.closed_on or clock.today()


def deliver(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler ``dp.consent``: one consent operation sent to the DP, its outcome traced."""
    payload = delivery.payload
    pharmacy_id, patient_id, operation = delivery.pharmacy_id, int(payload["patient_id"]), str(payload["operation"])
    operator_id = payload.get("operator_id")
    what = OPERATIONS.get(operation, operation)
    with kernel.transaction() as session:
        who = access.caller(session, pharmacy_id, int(operator_id)) if operator_id else None
        name = access.patient_name(session, pharmacy_id, patient_id)
    by = f" (demandée par {who.name})" if who else ""

    def failed(message_fr: str) -> None:
        with kernel.transaction() as session:
            access.trace(
                session, pharmacy_id, "dp.consent.failed", message_fr, operator_id=operator_id, patient_id=patient_id
            )

    try:
        patient = DpPatient.of(kernel.shareable_identity(pharmacy_id, patient_id))
    except IdentityNotShareable as exc:
        if operation == "status":
            return
        failed(f"{what} de {name} abandonnée{by} : l'identité du patient n'est plus qualifiée.")
        raise PermanentFailure("identity no longer qualified") from exc
    professional = who.professional if who else Professional("Logiciel de l'officine", "système")
    key = delivery.idempotency_key
    try:
        driver = transport(kernel, pharmacy_id)
        if operation == "status":
            file = driver.file(patient, professional)
        elif operation == "create":
            file = driver.create(patient, professional, idempotency_key=key)
        elif operation == "refuse":
            file = driver.refuse(patient, professional, date.fromisoformat(payload["date"]), idempotency_key=key)
        elif operation == "close":
            file = driver.close(patient, professional, idempotency_key=key)
        elif operation == "mask":
            driver.mask(patient, professional, payload["references"], idempotency_key=key)
            file = None
        else:
            raise PermanentFailure(f"unknown dp.consent operation {operation!r}")
    except DpRefused as exc:
        failed(f"{what} de {name} refusée par le DP{by} : {exc.message_fr}")
        raise PermanentFailure(exc.message_fr) from exc
    except LgoError:  # the DP down, or the pharmacy's certificate missing: retried
        if delivery.last_attempt:
            failed(f"{what} de {name} non transmise au DP{by} : le DP ne répond pas (dernier essai).")
        raise
    with kernel.transaction() as session:
        if file is not None:
            apply_file(session, pharmacy_id, patient_id, file)
        access.trace(
            session,
            pharmacy_id,
            f"dp.{operation}.completed",
            f"État du DP de {name} : {file.state.label_fr if file else '?'}."
            if operation == "status"
            else f"{what.capitalize()} de {name} effectuée dans le DP{by}.",
            operator_id=operator_id,
            patient_id=patient_id,
        )
    if operation == "create":
        from lgo_dp import feeding

        feeding.requeue(kernel, pharmacy_id, patient_id, LineStatus.WAITING_FILE)
