"""Every access to a patient's DMP is traced, whatever happens: an entry is written *before* the call (who, which
patient, what), and its outcome *after* (done, refused, failed — a time-out, an unavailable DMP, an answer lost), in
the audit log with the operator's name (decision 0404).

The audit log is append-only, so the trace is two entries: ``dmp.access`` before, then the outcome entry that
names it (``details["attempt"]``). An attempt without an outcome is an access interrupted (the process stopped):
:func:`access_history` shows it as such, never hides it. A patient or an operator unknown to the pharmacy (an id
typed at the command line) is traced too, with the id given, and refused in French.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lgo.api import (
    AuditEntry,
    IdentityNotShareable,
    LgoError,
    NotFound,
    Operator,
    Patient,
    PermissionDenied,
    audit,
    parse_id,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_dmp.client import DmpRefused, DmpUnavailable

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "dmp"
#: The habilitation this plugin declares (``lgo_register_habilitations``) for consulting the DMP.
HABILITATION_CONSULT = "dmp.consult"
ATTEMPT = "dmp.access"
REFUSED = "dmp.consult.refused"
FAILED = "dmp.consult.failed"
INTERRUPTED_FR = "issue inconnue : l'accès a été interrompu avant sa fin"


@dataclass
class Trace:
    """An access under way: its attempt entry, and what the caller adds to the outcome once it succeeds."""

    kernel: Kernel
    pharmacy_id: int
    attempt_id: int
    operator_id: int | None
    operator_name: str
    patient_id: int | None
    what_fr: str
    #: The outcome written when the block ends without an error (action, French message, details).
    done_action: str = "dmp.consult"
    done_fr: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def outcome(self, action: str, message_fr: str, **details: Any) -> None:
        self.kernel.audit(
            self.pharmacy_id,
            action,
            message_fr[:500],
            actor=PLUGIN,
            operator_id=self.operator_id,
            patient_id=self.patient_id,
            object_type="dmp_access",
            object_id=self.attempt_id,
            details={"attempt": self.attempt_id, "operator_name": self.operator_name, **details},
        )


def _in_pharmacy(session: Session, model: type[Any], row_id: Any, pharmacy_id: int) -> Any:
    try:
        number = parse_id(row_id)
    except NotFound:
        return None
    row = session.get(model, number)
    return row if row is not None and row.pharmacy_id == pharmacy_id else None


def _begin(
    kernel: Kernel, pharmacy_id: int, operator_id: Any, patient_id: Any, what_fr: str
) -> tuple[Trace, LgoError | None]:
    """The attempt entry, written whoever asks for whichever patient, and the refusal when the operator may not
    consult or the patient is not the pharmacy's."""
    with kernel.transaction() as session:
        operator = _in_pharmacy(session, Operator, operator_id, pharmacy_id)
        patient = _in_pharmacy(session, Patient, patient_id, pharmacy_id)
        name = operator.display_name if operator is not None else f"opérateur inconnu (n° {str(operator_id)[:20]})"
        entry = audit.record(
            session,
            pharmacy_id,
            ATTEMPT,
            f"Accès au DMP demandé par {name} : {what_fr}."[:500],
            actor=PLUGIN,
            operator_id=operator.id if operator is not None else None,
            patient_id=patient.id if patient is not None else None,
            object_type="dmp_access",
            details={"operator_name": name, "patient_given": str(patient_id)[:40], "what": what_fr[:200]},
        )
        session.flush()
        trace = Trace(
            kernel,
            pharmacy_id,
            entry.id,
            operator.id if operator is not None else None,
            name,
            patient.id if patient is not None else None,
            what_fr,
        )
        allowed = operator is not None and operator.active and operator.has(HABILITATION_CONSULT)
    if not allowed:
        return trace, PermissionDenied(
            "Vous n'êtes pas habilité(e) à consulter le DMP.",
            detail=f"operator {operator_id} lacks {HABILITATION_CONSULT} in pharmacy {pharmacy_id}",
        )
    if trace.patient_id is None:
        return trace, NotFound(
            f"Patient n° {str(patient_id)[:20]} introuvable dans l'officine.", detail=f"patient {patient_id!r}"
        )
    return trace, None


def _reason(exc: BaseException) -> tuple[str, str]:
    """The outcome entry (action, French text) of an access that ended with ``exc``."""
    if isinstance(exc, PermissionDenied):
        return REFUSED, "refusé : habilitation manquante"
    if isinstance(exc, NotFound):
        return REFUSED, "refusé : patient inconnu de l'officine"
    if isinstance(exc, IdentityNotShareable):
        return REFUSED, "impossible : identité non qualifiée"
    if isinstance(exc, DmpRefused):
        return REFUSED, f"refusé par le DMP : {exc.message_fr}"
    if isinstance(exc, DmpUnavailable):
        return FAILED, f"échec : {exc.message_fr}"
    if isinstance(exc, LgoError):
        return FAILED, f"échec : {exc.message_fr}"
    return FAILED, f"échec : erreur inattendue ({type(exc).__name__})"


@contextmanager
def traced(kernel: Kernel, pharmacy_id: int, operator_id: Any, patient_id: Any, what_fr: str) -> Iterator[Trace]:
    """Trace one access: the attempt now (then the habilitation and the patient are checked), the outcome when the
    block ends — the caller's ``done_action``/``done_fr`` on success, else the reason of the exception, which goes
    on. A consultation the DMP did not answer is told as such (nothing is retried for the pharmacist)."""
    trace, refusal = _begin(kernel, pharmacy_id, operator_id, patient_id, what_fr)
    try:
        if refusal is not None:
            raise refusal
        yield trace
    except BaseException as exc:  # whatever ends the access (even an interruption) is its outcome
        action, reason = _reason(exc)
        trace.outcome(action, f"Accès au DMP ({what_fr}) par {trace.operator_name} : {reason}.", error=repr(exc)[:300])
        if isinstance(exc, DmpUnavailable):
            raise DmpUnavailable(
                "Le DMP ne répond pas : réessayez dans quelques instants (l'accès est tracé).", detail=exc.detail
            ) from exc
        raise
    trace.outcome(
        trace.done_action,
        trace.done_fr or f"Accès au DMP ({what_fr}) par {trace.operator_name} : effectué.",
        **trace.details,
    )


@dataclass(frozen=True)
class Access:
    at: datetime
    operator_id: int | None
    #: The outcome's action (``dmp.consult.list``, ``dmp.consult.refused``, ``dmp.consult.failed``...), or
    #: ``dmp.access`` for an access interrupted before its end; other DMP entries (sendings) as written.
    action: str
    #: What happened, in French, with the operator's name.
    message_fr: str
    #: When the access was asked (the attempt entry), if it was traced in two steps.
    asked_at: datetime | None = None


def access_history(session: Session, pharmacy_id: int, patient_id: int) -> list[Access]:
    """Every DMP access for this patient (consultations, refusals, failures, sendings), newest first; each attempt
    is shown once, with its outcome."""
    rows = list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.pharmacy_id == pharmacy_id,
                AuditEntry.patient_id == patient_id,
                AuditEntry.action.like("dmp.%"),
            )
            .order_by(AuditEntry.id)
        )
    )
    outcomes = {row.details.get("attempt"): row for row in rows if "attempt" in (row.details or {})}
    history: list[tuple[int, Access]] = []
    for row in rows:
        if "attempt" in (row.details or {}):
            continue  # shown with its attempt
        if row.action != ATTEMPT:
            history.append((row.id, Access(row.at, row.operator_id, row.action, row.message_fr)))
            continue
        outcome = outcomes.get(row.id)
        if outcome is None:
            history.append((row.id, Access(row.at, row.operator_id, ATTEMPT, f"{row.message_fr} ({INTERRUPTED_FR})")))
        else:
            history.append(
                (outcome.id, Access(outcome.at, row.operator_id, outcome.action, outcome.message_fr, asked_at=row.at))
            )
    return [access for _key, access in sorted(history, key=lambda item: item[0], reverse=True)]
