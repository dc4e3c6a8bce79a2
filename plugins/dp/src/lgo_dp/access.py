"""Who may reach a patient's DP, with which identity, and the trace of every access.

Three rules hold for every DP operation started at the counter (consultation, creation, refusal, closing, masking):

1. the operator is active in this pharmacy and holds the plugin's habilitation for it — else the refusal is traced
   and :class:`PermissionDenied` says so in French;
2. the patient's identity is *qualifiée* (the DP has required a qualified INS since 1 January 2024) — else the
   refusal is traced and :class:`IdentityNotShareable` says what to do;
3. the access is written to the audit log with the operator's name **before** the call to the DP, and its outcome
   (completed, refused, failed) in a second entry after it: the log shows an access even when the process dies
   during the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgo.api import IdentityNotShareable, Operator, Patient, PermissionDenied, audit, get_scoped
from sqlalchemy.orm import Session

from lgo_dp.transport import DpPatient, Professional

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "dp"

HABILITATION_CONSULT = "dp.consult"
HABILITATION_CONSENT = "dp.consent"
HABILITATION_BULLETINS = "dp.bulletins"

IDENTITY_REQUIRED_FR = (
    "Le Dossier Pharmaceutique exige une INS qualifiée : qualifiez d'abord l'identité du patient (appel INSi et "
    "pièce d'identité à haut niveau de confiance), puis recommencez."
)


@dataclass(frozen=True)
class Caller:
    """The operator at the counter, as traced here and sent to the DP."""

    operator_id: int
    name: str
    professional: Professional


def caller(session: Session, pharmacy_id: int, operator_id: int) -> Caller | None:
    operator = session.get(Operator, operator_id)
    if operator is None or operator.pharmacy_id != pharmacy_id or not operator.active:
        return None
    name = operator.display_name
    return Caller(operator.id, name, Professional(name, operator.role.label_fr, operator.rpps))


def patient_name(session: Session, pharmacy_id: int, patient_id: int) -> str:
    patient = session.get(Patient, patient_id)
    return patient.display_name if patient is not None and patient.pharmacy_id == pharmacy_id else f"n° {patient_id}"


def trace(
    session: Session,
    pharmacy_id: int,
    action: str,
    message_fr: str,
    *,
    operator_id: int | None = None,
    patient_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        pharmacy_id,
        action,
        message_fr[:500],
        actor=PLUGIN,
        operator_id=operator_id,
        patient_id=patient_id,
        object_type="dp",
        object_id=patient_id,
        details=details,
    )


def authorise(
    kernel: Kernel, pharmacy_id: int, operator_id: int, habilitation: str, what_fr: str, patient_id: int | None = None
) -> Caller:
    """The operator if they may do ``what_fr``; otherwise the refusal is traced and raised (French)."""
    with kernel.transaction() as session:
        found = caller(session, pharmacy_id, operator_id)
        operator = session.get(Operator, operator_id) if found else None
        if found is not None and operator is not None and operator.has(habilitation):
            return found
        who = found.name if found else f"opérateur n° {operator_id}"
        trace(
            session,
            pharmacy_id,
            "dp.refused",
            f"DP — {what_fr} refusé(e) à {who} : habilitation « {habilitation} » manquante.",
            operator_id=operator_id if found else None,
            patient_id=patient_id,
        )
    raise PermissionDenied(
        f"Vous n'êtes pas habilité(e) pour cette opération du Dossier Pharmaceutique ({what_fr}).",
        detail=f"operator {operator_id} lacks {habilitation}",
    )


def require_identity(kernel: Kernel, pharmacy_id: int, who: Caller, patient_id: int, what_fr: str) -> DpPatient:
    """The patient's qualified INS for the DP; otherwise the refusal is traced and raised (French). The patient's id
    came from outside: a patient of another pharmacy, or no number at all, is :class:`NotFound`."""
    with kernel.transaction() as session:
        get_scoped(session, Patient, patient_id, pharmacy_id, "patient")
    try:
        return DpPatient.of(kernel.shareable_identity(pharmacy_id, patient_id))
    except IdentityNotShareable as exc:
        with kernel.transaction() as session:
            trace(
                session,
                pharmacy_id,
                "dp.refused",
                f"DP — {what_fr} impossible pour {who.name} : identité du patient non qualifiée.",
                operator_id=who.operator_id,
                patient_id=patient_id,
            )
        raise IdentityNotShareable(patient_id, IDENTITY_REQUIRED_FR) from exc
