"""Finding the patient of a received document by INS and traits, with the CI-SIS error codes when it cannot be
done automatically (decision 0601): 903 no INS, 905 INS without its traits, 902 unknown patient, 904 an INS or
traits that do not match exactly what the pharmacy holds (including an identity the pharmacy has not qualified)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgo.api import IdentityNotShareable, Patient, SharedIdentity, traits
from sqlalchemy import func, or_, select

from lgo_mssante.message import CdaPatient

if TYPE_CHECKING:
    from lgo.api import Kernel


@dataclass(frozen=True)
class Match:
    patient_id: int | None
    error_code: str | None = None
    reason_fr: str = ""


def _iso(birth_time: str) -> str:
    return f"{birth_time[0:4]}-{birth_time[4:6]}-{birth_time[6:8]}" if len(birth_time) >= 8 else birth_time


def _same_traits(identity: SharedIdentity, patient: CdaPatient) -> bool:
    sex = {"U": "I", "UN": "I"}.get(patient.sex, patient.sex)
    return (
        traits.same_name(identity.birth_name, patient.birth_name)
        and traits.same_name(identity.first_first_name, patient.first_name)
        and identity.birth_date == _iso(patient.birth_time)
        and identity.sex == sex
    )


def match(kernel: Kernel, pharmacy_id: int, patient: CdaPatient) -> Match:
    if not patient.has_ins:
        return Match(None, "903", "le document ne porte pas l'INS du patient")
    if not patient.complete:
        return Match(None, "905", "l'INS du document est incomplète (traits manquants)")
    with kernel.transaction() as session:
        candidates = list(
            session.scalars(
                select(Patient.id).where(
                    Patient.pharmacy_id == pharmacy_id,
                    or_(
                        Patient.birth_date_text == _iso(patient.birth_time),
                        func.upper(Patient.birth_name) == patient.birth_name.upper(),
                    ),
                )
            )
        )
    unqualified = []
    for patient_id in candidates:
        try:
            identity = kernel.shareable_identity(pharmacy_id, patient_id)
        except IdentityNotShareable:
            unqualified.append(patient_id)
            continue
        if identity.matricule == patient.matricule and identity.oid == patient.oid:
            if _same_traits(identity, patient):
                return Match(patient_id)
            return Match(None, "904", "les traits d'identité du document diffèrent de ceux de l'INS qualifiée")
    if unqualified:
        return Match(None, "904", "l'identité du patient n'est pas qualifiée à l'officine")
    return Match(None, "902", "patient inconnu de l'officine")
