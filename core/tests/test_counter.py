"""The counter workflow: atomic billing, stock rules, ordonnancier, acts and immutability."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain import stock
from lgo.domain.audit import AuditEntry
from lgo.domain.billing import Invoice, compute_shares
from lgo.domain.dispensing import Dispensation, correct_dispensation, create_prescription, ordonnancier
from lgo.domain.products import product_by_cip13
from lgo.errors import ImmutableRecordError, InsufficientStock, PermissionDenied, ValidationError
from lgo.kernel import Kernel
from sample_plugins import Acts
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError


def _prescription(kernel: Kernel, seeded: Seeded, patient: str = "camille") -> int:
    with kernel.transaction() as session:
        return create_prescription(
            session,
            seeded.pharmacy_id,
            seeded.patients[patient],
            prescriber_name="Dr Démo",
            prescribed_on=date.today(),
        ).id


def _counter(kernel: Kernel, seeded: Seeded, who: str = "adjoint") -> Counter:
    return Counter(kernel, seeded.pharmacy_id, seeded.operators[who])


def _on_hand(kernel: Kernel, seeded: Seeded, lot: str) -> int:
    with kernel.transaction() as session:
        return stock.on_hand(session, seeded.lots[lot])


def test_ending_a_billing_writes_everything_at_once(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    counter = _counter(lgo_kernel, lgo_seeded)
    billing = counter.start_billing(prescription_id=_prescription(lgo_kernel, lgo_seeded))
    counter.add_product(billing, lgo_seeded.products["amoxicilline"], 3)
    counter.add_product(billing, lgo_seeded.products["paracetamol"], 2)
    result = counter.end_billing(billing)

    assert result.invoice_number == 1
    assert result.dispensation_numbers == (1, 2)
    # FEFO among lots that can serve the whole quantity: AM23K (2 left) is skipped for 3 units.
    assert _on_hand(lgo_kernel, lgo_seeded, "AM23K") == 2
    assert _on_hand(lgo_kernel, lgo_seeded, "AM24C") == 17
    assert _on_hand(lgo_kernel, lgo_seeded, "PA24A") == 38
    # 3 × 2,32 € + 2 × 1,16 € at 65 %, complementary 100 % of the rest.
    assert (result.total_cents, result.amo_cents, result.amc_cents, result.patient_cents) == (928, 603, 325, 0)
    with lgo_kernel.transaction() as session:
        invoice = session.get(Invoice, result.invoice_id)
        assert invoice is not None and [line.position for line in invoice.lines] == [1, 2]
        actions = set(session.scalars(select(AuditEntry.action)))
        assert "billing.validated" in actions


def test_shares_round_half_up_and_add_up() -> None:
    shares = compute_shares(1001, 65, 50)
    assert shares.amo_cents == 651  # 650.65 → 651
    assert shares.amc_cents == 175  # half of 350
    assert shares.amo_cents + shares.amc_cents + shares.patient_cents == 1001


def test_selling_what_is_not_on_hand_is_refused_and_nothing_is_written(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    counter = _counter(lgo_kernel, lgo_seeded)
    prescription = _prescription(lgo_kernel, lgo_seeded)
    billing = counter.start_billing(prescription_id=prescription)
    counter.add_product(billing, lgo_seeded.products["paracetamol"], 1)
    counter.add_product(billing, lgo_seeded.products["tramadol"], 2)
    with pytest.raises(InsufficientStock, match="Stock insuffisant pour TRAMADOL.*1 en stock, 2 demandé"):
        counter.end_billing(billing)
    assert _on_hand(lgo_kernel, lgo_seeded, "PA24A") == 40
    with lgo_kernel.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0
        assert session.scalar(select(func.count()).select_from(Dispensation)) == 0
    # The numbers taken by the failed billing were given back: the next one is n° 1.
    billing = counter.start_billing(prescription_id=prescription)
    counter.add_product(billing, lgo_seeded.products["tramadol"], 1)
    result = counter.end_billing(billing)
    assert (result.invoice_number, result.dispensation_numbers) == (1, (1,))


def test_forcing_a_sale_needs_the_habilitation_and_a_reason(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    prescription = _prescription(lgo_kernel, lgo_seeded)
    preparatrice = _counter(lgo_kernel, lgo_seeded, "preparatrice")
    billing = preparatrice.start_billing(prescription_id=prescription)
    with pytest.raises(PermissionDenied, match="pas habilité"):
        preparatrice.add_product(billing, lgo_seeded.products["tramadol"], 2, force=True, force_reason="urgence")

    pharmacist = _counter(lgo_kernel, lgo_seeded)
    billing = pharmacist.start_billing(prescription_id=prescription)
    with pytest.raises(ValidationError, match="motivée"):
        pharmacist.add_product(billing, lgo_seeded.products["tramadol"], 2, force=True, force_reason="  ")
    pharmacist.add_product(billing, lgo_seeded.products["tramadol"], 2, force=True, force_reason="boîte en réserve")
    pharmacist.end_billing(billing)

    assert _on_hand(lgo_kernel, lgo_seeded, "TR24D") == -1
    with lgo_kernel.transaction() as session:
        movement = session.scalar(select(stock.Movement).where(stock.Movement.forced))
        assert movement is not None and movement.reason == "boîte en réserve"
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "stock.forced_sale"))
        assert entry is not None and entry.operator_id == lgo_seeded.operators["adjoint"]


def test_listed_medicines_need_a_prescription(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    counter = _counter(lgo_kernel, lgo_seeded)
    billing = counter.start_billing(lgo_seeded.patients["jean"])
    counter.add_product(billing, lgo_seeded.products["amoxicilline"], 1)
    with pytest.raises(ValidationError, match="sans ordonnance : AMOXICILLINE"):
        counter.end_billing(billing)


def test_expired_lots_are_never_sold(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    with lgo_kernel.transaction() as session:
        product = product_by_cip13(session, lgo_seeded.pharmacy_id, lgo_seeded.products["serum"])
        stock.receive(
            session, lgo_seeded.pharmacy_id, product, lot_number="OLD", expiry=date.today() - timedelta(1), quantity=5
        )
    counter = _counter(lgo_kernel, lgo_seeded)
    billing = counter.start_billing(lgo_seeded.patients["jean"])
    counter.add_product(billing, lgo_seeded.products["serum"], 1, lot_number="OLD")
    with pytest.raises(ValidationError, match="périmé"):
        counter.end_billing(billing)


def test_a_lot_named_and_first_expired_first_out_in_one_billing(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    # The lots are read in one query: the named lot alone, and the unexpired lots of a product sold without a number.
    counter = _counter(lgo_kernel, lgo_seeded)
    billing = counter.start_billing(prescription_id=_prescription(lgo_kernel, lgo_seeded))
    counter.add_product(billing, lgo_seeded.products["amoxicilline"], 1, lot_number="AM24C")
    counter.add_product(billing, lgo_seeded.products["amoxicilline"], 2)
    counter.add_product(billing, lgo_seeded.products["paracetamol"], 1)
    counter.end_billing(billing)

    assert _on_hand(lgo_kernel, lgo_seeded, "AM24C") == 19
    assert _on_hand(lgo_kernel, lgo_seeded, "AM23K") == 0
    assert _on_hand(lgo_kernel, lgo_seeded, "PA24A") == 39


def test_validated_records_are_immutable_and_corrections_are_linked(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    counter = _counter(lgo_kernel, lgo_seeded)
    billing = counter.start_billing(prescription_id=_prescription(lgo_kernel, lgo_seeded))
    counter.add_product(billing, lgo_seeded.products["metformine"], 2)
    result = counter.end_billing(billing)

    with pytest.raises(ImmutableRecordError), lgo_kernel.transaction() as session:
        invoice = session.get(Invoice, result.invoice_id)
        assert invoice is not None
        invoice.total_cents = 0
    with pytest.raises(ImmutableRecordError), lgo_kernel.transaction() as session:
        entry = session.scalar(select(Dispensation))
        session.delete(entry)
    with pytest.raises(ImmutableRecordError), lgo_kernel.transaction() as session:
        audit_entry = session.scalar(select(AuditEntry))
        assert audit_entry is not None
        audit_entry.message_fr = "effacé"
    # Below the ORM, the database itself refuses to change the audit log.
    with pytest.raises(DBAPIError, match="append-only"), lgo_kernel.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry"))

    with lgo_kernel.transaction() as session:
        original = session.scalar(select(Dispensation))
        assert original is not None
        fixed = correct_dispensation(
            session, original.id, quantity=1, reason="une boîte rendue", operator_id=lgo_seeded.operators["titulaire"]
        )
        assert (fixed.number, fixed.corrects_id, fixed.quantity) == (2, original.id, 1)
    with lgo_kernel.transaction() as session:
        entries = ordonnancier(session, lgo_seeded.pharmacy_id)
        assert [(e.number, e.quantity) for e in entries] == [(1, 2), (2, 1)]
        with pytest.raises(ValidationError, match="motivée"):
            correct_dispensation(session, entries[0].id, quantity=1, reason="", operator_id=1)


def test_acts_are_declared_by_plugins_and_billed(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> None:
    kernel = lgo_make_kernel(Acts())
    counter = _counter(kernel, lgo_seeded)
    billing = counter.start_billing(lgo_seeded.patients["jean"])
    with pytest.raises(ValidationError, match="Acte inconnu : « XYZ ». Actes disponibles : INJ, TRD, VGP"):
        counter.add_act(billing, "XYZ")
    counter.add_act(billing, "VGP")
    result = counter.end_billing(billing)
    assert (result.total_cents, result.amo_cents, result.patient_cents) == (750, 750, 0)
    assert result.event.lines[0].act_code == "VGP"
    assert result.dispensation_numbers == ()


def test_an_act_is_billed_at_its_named_tariff_and_at_its_drom_fee_overseas(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    from lgo.domain.pharmacy import Pharmacy

    kernel = lgo_make_kernel(Acts())
    counter = _counter(kernel, lgo_seeded)

    def fees() -> list[tuple[str, int]]:
        billing = counter.start_billing(lgo_seeded.patients["jean"])
        counter.add_act(billing, "TRD")
        counter.add_act(billing, "TRD", tariff="antibiotique")
        counter.add_act(billing, "VGP")
        return [(line.label, line.unit_price_cents) for line in billing.lines]

    assert fees() == [("TROD angine", 1000), ("TROD angine et antibiotique", 1500), (ACT_VGP, 750)]
    with kernel.transaction() as session:
        session.get(Pharmacy, lgo_seeded.pharmacy_id).postal_code = "97200"  # type: ignore[union-attr]
    # Martinique: the DROM fees; an act without one keeps its fee.
    assert fees() == [("TROD angine", 1050), ("TROD angine et antibiotique", 1570), (ACT_VGP, 750)]
    billing = counter.start_billing(lgo_seeded.patients["jean"])
    with pytest.raises(ValidationError, match="Tarif « gratuit » inconnu pour l'acte TRD"):
        counter.add_act(billing, "TRD", tariff="gratuit")


ACT_VGP = "Vaccination antigrippale par le pharmacien"


@pytest.mark.parametrize(
    ("postal_code", "drom"),
    [("97100", True), ("97411", True), ("97600", True), ("97500", False), ("97800", False), ("75001", False)],
)
def test_the_drom_are_guadeloupe_martinique_guyane_reunion_and_mayotte(postal_code: str, drom: bool) -> None:
    from lgo.domain.billing import in_drom

    assert in_drom(postal_code) is drom


def test_an_act_refuses_a_negative_fee_or_a_tariff_declared_twice() -> None:
    from lgo.domain.billing import ActDefinition, ActTariff

    with pytest.raises(ValidationError, match="Honoraire négatif"):
        ActDefinition("ABC", "Acte", 100, tariffs=(ActTariff("x", "X", -1),))
    with pytest.raises(ValidationError, match="Tarif déclaré deux fois"):
        ActDefinition("ABC", "Acte", 100, tariffs=(ActTariff("x", "X", 1), ActTariff("x", "Y", 2)))
