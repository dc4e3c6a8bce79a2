"""The invariant checker finds nothing after real billings, and catches each invariant broken on purpose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from lgo.counter import Counter
from lgo.db import utcnow
from lgo.demo_data import Seeded, with_luhn
from lgo.domain.audit import AuditEntry
from lgo.domain.billing import Invoice, InvoiceLine
from lgo.domain.dispensing import Dispensation, create_prescription
from lgo.domain.outbox import OutboxMessage, OutboxStatus, enqueue
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.stock import Movement, MovementKind
from lgo.kernel import Kernel
from lgo.testing.invariants import RULES, InvariantError, assert_invariants, check
from sqlalchemy import Connection, delete, func, insert, select, update


@pytest.fixture
def billed(lgo_kernel: Kernel, lgo_seeded: Seeded) -> Seeded:
    """Three billings of the demo pharmacy: two on a prescription (ordonnancier), one forced beyond the stock."""
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        prescription = create_prescription(
            session, pharmacy, lgo_seeded.patients["jean"], prescriber_name="Dr Test", prescribed_on=date.today()
        ).id
        enqueue(session, pharmacy, plugin="kernel", kind="http.post", payload={"url": "http://127.0.0.1:9/"})
    counter = Counter(lgo_kernel, pharmacy, lgo_seeded.operators["adjoint"])
    for products in (("paracetamol", "levothyroxine"), ("amoxicilline",)):
        billing = counter.start_billing(prescription_id=prescription)
        for key in products:
            counter.add_product(billing, lgo_seeded.products[key], 1)
        counter.end_billing(billing)
    billing = counter.start_billing(patient_id=lgo_seeded.patients["camille"])
    counter.add_product(billing, lgo_seeded.products["serum"], 30, force=True, force_reason="livraison en retard")
    counter.end_billing(billing)
    return lgo_seeded


def test_real_billings_keep_every_invariant(lgo_kernel: Kernel, billed: Seeded) -> None:
    assert check(lgo_kernel.engine) == []
    assert check(lgo_kernel.engine, billed.pharmacy_id) == []
    assert_invariants(lgo_kernel.engine)


def _first(connection: Connection, column: Any) -> Any:
    return connection.scalar(select(column).order_by(column))


def _break_ordonnancier(connection: Connection) -> None:
    connection.execute(delete(Dispensation).where(Dispensation.number == 1))


def _break_invoice_numbers(connection: Connection) -> None:
    connection.execute(update(Invoice).where(Invoice.number == 2).values(number=7))


def _break_invoice_total(connection: Connection) -> None:
    connection.execute(update(Invoice).where(Invoice.number == 1).values(total_cents=Invoice.total_cents + 1))


def _break_line_amount(connection: Connection) -> None:
    line = _first(connection, InvoiceLine.id)
    connection.execute(update(InvoiceLine).where(InvoiceLine.id == line).values(unit_price_cents=1))


def _break_sale_movement(connection: Connection) -> None:
    movement = connection.scalar(select(func.max(Movement.id)).where(Movement.kind == MovementKind.SALE))
    connection.execute(delete(Movement).where(Movement.id == movement))


def _break_stock_level(connection: Connection) -> None:
    lot, pharmacy = connection.execute(select(Movement.lot_id, Movement.pharmacy_id).limit(1)).one()
    connection.execute(
        insert(Movement).values(
            pharmacy_id=pharmacy,
            lot_id=lot,
            quantity=-1000,
            kind=MovementKind.CORRECTION,
            forced=False,
            reason="",
            at=utcnow(),
        )
    )


def _break_forced_reason(connection: Connection) -> None:
    connection.execute(update(Movement).where(Movement.forced).values(reason=" "))


def _break_dispensation_patient(connection: Connection) -> None:
    other = connection.scalar(select(func.min(Patient.id)))
    connection.execute(update(Dispensation).where(Dispensation.number == 2).values(patient_id=other))


def _break_audit(connection: Connection) -> None:
    invoice, pharmacy = connection.execute(select(Invoice.id, Invoice.pharmacy_id).limit(1)).one()
    connection.execute(
        insert(AuditEntry).values(
            pharmacy_id=pharmacy,
            at=utcnow(),
            actor="kernel",
            action="billing.validated",
            message_fr="deux fois",
            object_type="invoice",
            object_id=str(invoice),
            details={},
        )
    )


def _break_outbox(connection: Connection) -> None:
    connection.execute(update(OutboxMessage).values(status=OutboxStatus.DELIVERED))


def _break_scope(connection: Connection) -> None:
    other = connection.execute(
        insert(Pharmacy).values(
            name="Autre",
            finess=with_luhn("99000003"),
            address="",
            postal_code="",
            city="",
            test_mode=True,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]
    line = _first(connection, InvoiceLine.id)
    connection.execute(update(InvoiceLine).where(InvoiceLine.id == line).values(pharmacy_id=other))


def _break_search_words(connection: Connection) -> None:
    patient = _first(connection, Patient.id)
    connection.execute(update(Patient).where(Patient.id == patient).values(birth_name="RENOMME"))


BREAKERS: dict[str, Callable[[Connection], None]] = {
    "ordonnancier.gap_free": _break_ordonnancier,
    "invoice.gap_free": _break_invoice_numbers,
    "invoice.equals_its_lines": _break_invoice_total,
    "invoice_line.amounts": _break_line_amount,
    "stock.sales_match_lines": _break_sale_movement,
    "stock.no_unexplained_negative": _break_stock_level,
    "stock.forced_sales_have_a_reason": _break_forced_reason,
    "ordonnancier.one_entry_per_prescribed_line": _break_dispensation_patient,
    "audit.one_entry_per_invoice": _break_audit,
    "outbox.coherent_status": _break_outbox,
    "scope.same_pharmacy": _break_scope,
    "patient_search.words_match_names": _break_search_words,
}


def test_every_rule_has_a_test_that_breaks_it() -> None:
    assert set(BREAKERS) == set(RULES)


def test_each_invariant_broken_on_purpose_is_caught(lgo_kernel: Kernel, billed: Seeded) -> None:
    for rule, breaker in BREAKERS.items():
        with lgo_kernel.engine.connect() as connection:
            transaction = connection.begin()  # Core statements: past the ORM's own guards, as a bug would be
            try:
                breaker(connection)
                violations = check(connection)
                assert rule in {v.rule for v in violations}, (rule, violations)
                with pytest.raises(InvariantError, match=rule.replace(".", r"\.")):
                    assert_invariants(connection)
            finally:
                transaction.rollback()
    assert check(lgo_kernel.engine) == []  # each break was undone
