"""REMU NUM « échanges MSSanté » (above 5 %): the share of dispensations to a patient (invoices with a patient, not
cancelled) with an MSSanté message for that patient, sent or received, within 7 days before or after (decision
1502)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lgo.api import IndicatorSource, Miss, Tally

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CODE = "mssante_echanges"
WINDOW = timedelta(days=7)


def _invoices(query: Any, pharmacy_id: int, start: datetime, end: datetime) -> Any:
    from lgo.api import Invoice, counted_invoices

    return query.where(*counted_invoices(pharmacy_id, start, end), Invoice.patient_id.is_not(None))


def _ids(session: Session, pharmacy_id: int, start: datetime, end: datetime) -> tuple[set[int], set[int]]:
    """(all invoice ids of the period with a patient, those with a message within 7 days)."""
    from lgo.api import Invoice
    from sqlalchemy import select

    from lgo_mssante.model import MssMessage

    every = set(session.scalars(_invoices(select(Invoice.id), pharmacy_id, start, end)))
    rows = session.execute(
        _invoices(select(Invoice.id, Invoice.validated_at, MssMessage.created_at), pharmacy_id, start, end).join(
            MssMessage,
            (MssMessage.pharmacy_id == pharmacy_id)
            & (MssMessage.patient_id == Invoice.patient_id)
            & (MssMessage.created_at >= start - WINDOW)
            & (MssMessage.created_at < end + WINDOW),
        )
    )
    exchanged = {invoice_id for invoice_id, at, sent in rows if abs(sent - at) <= WINDOW}
    return every, exchanged


def count(session: Session, pharmacy_id: int, start: datetime, end: datetime) -> Tally:
    every, exchanged = _ids(session, pharmacy_id, start, end)
    return Tally(len(exchanged), len(every))


def misses(session: Session, pharmacy_id: int, start: datetime, end: datetime, limit: int) -> list[Miss]:
    from lgo.api import Invoice, Patient
    from sqlalchemy import select

    every, exchanged = _ids(session, pharmacy_id, start, end)
    wanted = sorted(every - exchanged)[:limit]
    query = (
        select(Invoice, Patient)
        .join(Patient, Patient.id == Invoice.patient_id)
        .where(Invoice.id.in_(wanted))
        .order_by(Invoice.validated_at, Invoice.id)
    )
    return [
        Miss(
            invoice.validated_at,
            f"Facture n° {invoice.number}",
            "Aucun message MSSanté pour ce patient à 7 jours près (professionnels ou Mon espace santé).",
            invoice.patient_id,
            patient.display_name,
        )
        for invoice, patient in session.execute(query)
    ]


def sources() -> list[IndicatorSource]:
    return [IndicatorSource(CODE, count, misses)]
