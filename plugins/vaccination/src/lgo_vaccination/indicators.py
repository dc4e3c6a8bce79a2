"""REMU NUM « vaccination » : the share of RVA acts billed 9,60 € (the pharmacist prescribes and injects) among all
RVA acts (9,60 € and 7,50 €); the threshold is strictly above 5 % in 2024, 15 % in 2025, 25 % in 2026 (decision
1502). Lines of cancelled invoices and of their cancellations do not count."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lgo.api import IndicatorSource, Miss, Tally

from lgo_vaccination import codes

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CODE = "vaccination_rva"
ACT = "RVA"


def prescribed_cents() -> int:
    """The fee of an RVA act the pharmacist prescribes himself: the act's PRESCRIBED tariff, not a copy of it."""
    return next(act for act in codes.ACTS if act.code == ACT).fee(codes.PRESCRIBED)[1]


def _lines(pharmacy_id: int, start: datetime, end: datetime) -> Any:
    from lgo.api import Invoice, InvoiceLine, counted_invoices
    from sqlalchemy import select

    return (
        select(InvoiceLine, Invoice)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(*counted_invoices(pharmacy_id, start, end), InvoiceLine.act_code == ACT)
    )


def count(session: Session, pharmacy_id: int, start: datetime, end: datetime) -> Tally:
    from sqlalchemy import case, func, select

    lines = _lines(pharmacy_id, start, end).subquery()
    prescribed = case((lines.c.unit_price_cents >= prescribed_cents(), lines.c.quantity), else_=0)
    row = session.execute(
        select(func.coalesce(func.sum(lines.c.quantity), 0), func.coalesce(func.sum(prescribed), 0)).select_from(lines)
    ).one()
    return Tally(int(row[1]), int(row[0]))


def misses(session: Session, pharmacy_id: int, start: datetime, end: datetime, limit: int) -> list[Miss]:
    from lgo.api import Invoice, InvoiceLine, Patient

    query = (
        _lines(pharmacy_id, start, end)
        .add_columns(Patient)
        .outerjoin(Patient, Patient.id == Invoice.patient_id)
        .where(InvoiceLine.unit_price_cents < prescribed_cents())
        .order_by(Invoice.validated_at, Invoice.id)
        .limit(limit)
    )
    return [
        Miss(
            invoice.validated_at,
            f"Facture n° {invoice.number}",
            f"Acte RVA facturé {line.unit_price_cents / 100:.2f} €".replace(".", ",")
            + " : le vaccin n'a pas été prescrit par le pharmacien.",
            invoice.patient_id,
            patient.display_name if patient is not None else "",
        )
        for line, invoice, patient in session.execute(query)
    ]


def sources() -> list[IndicatorSource]:
    return [IndicatorSource(CODE, count, misses)]
