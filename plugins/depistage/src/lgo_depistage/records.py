"""What the plugin's modules share about one test record: finding it in its pharmacy, the pharmacist who performs
and validates it, the médecin traitant and the conditional prescription, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lgo.api import (
    Operator,
    Patient,
    Product,
    ValidationError,
    acting_pharmacist,
    cda,
    documents,
    get_scoped,
    identifiers,
    utcnow,
)
from lgo.api import audit as journal
from sqlalchemy.orm import Session

from lgo_depistage import antibiotics
from lgo_depistage import cda as trod_cda
from lgo_depistage.model import DepistageTest, TrodStatus

PLUGIN = "depistage"
_MAX_TEXT = 2000


@dataclass(frozen=True)
class Physician:
    """The médecin traitant: named on the attestation; its MSSanté address receives the documents when the DMP
    cannot be fed."""

    name: str
    rpps: str | None = None
    mssante: str | None = None


@dataclass(frozen=True)
class ConditionalPrescription:
    """An ordonnance conditionnelle « si TROD positif » brought by the patient."""

    prescriber_name: str
    prescribed_on: date
    prescriber_rpps: str | None = None


def pharmacist(session: Session, pharmacy_id: int, operator_id: int) -> Operator:
    return acting_pharmacist(
        session,
        pharmacy_id,
        operator_id,
        "Un TROD est réalisé et validé par un pharmacien identifié par son numéro RPPS.",
    )


def get_test(session: Session, pharmacy_id: int, test_id: int) -> DepistageTest:
    return get_scoped(session, DepistageTest, test_id, pharmacy_id, "TROD")


def open_test(session: Session, pharmacy_id: int, test_id: int) -> DepistageTest:
    return documents.editable(get_test(session, pharmacy_id, test_id), TrodStatus.OPEN, "TROD")


def patient_of(session: Session, pharmacy_id: int, patient_id: int) -> Patient:
    return get_scoped(session, Patient, patient_id, pharmacy_id, "patient")


def today() -> date:
    return cda.local(utcnow()).date()


def clean_text(value: str, what: str) -> str:
    text = " ".join(str(value).split())
    if len(text) > _MAX_TEXT:
        raise ValidationError(f"{what} est trop long ({len(text)} caractères, {_MAX_TEXT} au plus).")
    return text


def clean_physician(physician: Physician | None) -> Physician | None:
    if physician is None:
        return None
    name = clean_text(physician.name, "Le nom du médecin traitant")
    if not name:
        raise ValidationError("Le nom du médecin traitant est vide.")
    rpps = identifiers.check_rpps(physician.rpps) if physician.rpps else None
    address = physician.mssante.strip().lower() if physician.mssante else None
    if address and ("@" not in address or " " in address or len(address) > 200):
        raise ValidationError(f"Adresse MSSanté du médecin traitant invalide : « {physician.mssante} ».")
    return Physician(name, rpps, address or None)


def last_physician(session: Session, pharmacy_id: int, patient_id: int) -> Physician | None:
    row = DepistageTest.last_of_patient(session, pharmacy_id, patient_id, DepistageTest.physician_name.is_not(None))
    if row is None or row.physician_name is None:
        return None
    return Physician(row.physician_name, row.physician_rpps, row.physician_mssante)


def audit(session: Session, test: DepistageTest, action: str, message: str, operator_id: int | None) -> None:
    journal.record_about(session, test, f"depistage.{action}", message, actor=PLUGIN, operator_id=operator_id)


def device_of(test: DepistageTest) -> trod_cda.Device:
    return trod_cda.Device(
        udi=test.device_udi,
        maker=test.device_maker or "",
        reference=test.device_reference or "",
        lot=test.device_lot or "",
        expiry=test.device_expiry,
    )


def posology_of(test: DepistageTest) -> antibiotics.Posology | None:
    if not (test.antibiotic and test.dose_mg and test.intakes_per_day and test.days):
        return None
    return antibiotics.Posology(test.dose_mg, test.intakes_per_day, test.days)


def treatment_of(session: Session, test: DepistageTest) -> str:
    """The antibiotic dispensed, as the attestation and the validation window say it (empty when none)."""
    posology = posology_of(test)
    if posology is None or not test.antibiotic:
        return ""
    product = session.get(Product, test.product_id)
    label = product.label if product else antibiotics.antibiotic(test.antibiotic).label_fr
    return f"{label} ({test.boxes or 1} boîte(s)) : {posology.text_fr}"


def local_day(moment: datetime | None) -> date:
    return cda.local(moment).date() if moment else today()
