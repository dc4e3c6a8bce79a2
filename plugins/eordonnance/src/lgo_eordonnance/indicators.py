"""REMU NUM « ordonnance numérique » (socle, 70 %): the share of dispensations on a prescription (invoices bearing
one) made on an executed e-prescription. Cancelled invoices and their cancellations do not count; a prescription
the pharmacist writes under a protocol is not a physician's (decision 1502)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lgo.api import IndicatorSource, Miss, Tally

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CODE = "ordonnance_numerique"


def _dispensations(pharmacy_id: int, start: datetime, end: datetime) -> Any:
    from lgo.api import Invoice, Prescription, PrescriptionSource, counted_invoices
    from sqlalchemy import select

    return (
        select(Invoice, Prescription)
        .join(Prescription, Prescription.id == Invoice.prescription_id)
        .where(*counted_invoices(pharmacy_id, start, end), Prescription.source != PrescriptionSource.PROTOCOL)
    )


def count(session: Session, pharmacy_id: int, start: datetime, end: datetime) -> Tally:
    from lgo.api import PrescriptionSource
    from sqlalchemy import case, func, select

    query = _dispensations(pharmacy_id, start, end).subquery()
    electronic = case((query.c.source == PrescriptionSource.ELECTRONIC, 1), else_=0)
    row = session.execute(select(func.count(), func.coalesce(func.sum(electronic), 0)).select_from(query)).one()
    return Tally(int(row[1]), int(row[0]))


def misses(session: Session, pharmacy_id: int, start: datetime, end: datetime, limit: int) -> list[Miss]:
    from lgo.api import Invoice, Patient, Prescription, PrescriptionSource

    query = (
        _dispensations(pharmacy_id, start, end)
        .add_columns(Patient)
        .outerjoin(Patient, Patient.id == Invoice.patient_id)
        .where(Prescription.source != PrescriptionSource.ELECTRONIC)
        .order_by(Invoice.validated_at, Invoice.id)
        .limit(limit)
    )
    found: list[Miss] = []
    for invoice, prescription, patient in session.execute(query):
        prescriber = prescription.prescriber_name or "prescripteur non renseigné"
        found.append(
            Miss(
                invoice.validated_at,
                f"Facture n° {invoice.number}",
                f"Ordonnance papier de {prescriber} du {prescription.prescribed_on:%d/%m/%Y} : elle aurait pu être "
                "numérique si le prescripteur l'avait émise ainsi.",
                invoice.patient_id,
                patient.display_name if patient is not None else "",
            )
        )
    return found


def sources() -> list[IndicatorSource]:
    return [IndicatorSource(CODE, count, misses)]
