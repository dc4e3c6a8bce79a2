"""Feeding the DP: every dispensation queued in the billing's transaction and delivered by the outbox, once;
corrections corrected in the DP; lines waiting for a qualified identity or for the DP's creation; a refusal or a
closing stops it."""

from __future__ import annotations

from datetime import date

import pytest
from dp_helpers import SQLITE_ONLY, DpWorld
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.domain.dispensing import Dispensation
from lgo.domain.outbox import OutboxMessage, OutboxStatus
from lgo.errors import InsufficientStock
from lgo_dp import consent
from lgo_dp.model import FedLine, LineStatus
from sqlalchemy import select


def _lines(world: DpWorld, patient_id: int | None = None) -> list[FedLine]:
    with world.kernel.transaction() as session:
        query = select(FedLine).order_by(FedLine.id)
        if patient_id is not None:
            query = query.where(FedLine.patient_id == patient_id)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def _feeds(world: DpWorld) -> list[OutboxMessage]:
    with world.kernel.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dp.feed")))
        session.expunge_all()
        return rows


def _opened(world: DpWorld, patient: str = "camille") -> str:
    """The patient's identity qualified in A and their DP created (delivered); returns the matricule."""
    identity = world.qualify(world.a, patient)
    consent.create(world.kernel, world.a.pharmacy_id, world.a.operators["titulaire"], world.a.patients[patient])
    world.drain(world.a)
    return identity.matricule


def test_every_dispensation_is_queued_with_the_billing_and_delivered_with_product_quantity_lot_and_date(
    dp_world: DpWorld,
) -> None:
    world = dp_world
    matricule = _opened(world)
    result = world.dispense(world.a, "camille", [("paracetamol", 2), ("amoxicilline", 1)])
    world.dispense(world.a, "camille", [("paracetamol", 1)], prescription=False)  # a sale without prescription
    (first, second, sale) = _lines(world)
    lot = f"LOT-PARA-{world.finess[world.a.pharmacy_id][-3:]}"
    assert (first.status, first.lot_number, first.quantity) == (LineStatus.QUEUED, lot, 2)
    assert first.reference.endswith(f"-O{result.dispensation_numbers[0]}") and sale.reference.endswith("-F2-1")
    assert world.sandbox.lines_of(matricule, "1.2.250.1.213.1.4.10") == []  # the counter did not wait on the DP
    assert len(_feeds(world)) == 2  # one message per billing, written with it

    assert world.turn(world.a) == 2
    sent = {line.reference: line for line in world.sandbox.lines_of(matricule, "1.2.250.1.213.1.4.10")}
    assert set(sent) == {first.reference, second.reference, sale.reference}
    line = sent[first.reference]
    assert (line.cip13, line.quantity, line.lot, line.dispensed_on, line.finess) == (
        world.a.products["paracetamol"],
        2,
        first.lot_number,
        date.today(),
        world.finess[world.a.pharmacy_id],
    )
    assert {row.status for row in _lines(world)} == {LineStatus.SENT}


@SQLITE_ONLY
def test_a_billing_that_fails_leaves_nothing_to_feed(dp_world: DpWorld) -> None:
    world = dp_world
    _opened(world)
    with pytest.raises(InsufficientStock):
        world.dispense(world.a, "camille", [("paracetamol", 1), ("tramadol", 5)])
    assert _lines(world) == [] and _feeds(world) == []


def test_dp_down_then_back_every_dispensation_is_delivered_exactly_once(dp_world: DpWorld) -> None:
    world = dp_world
    matricule = _opened(world)
    world.sandbox.down = True
    for _ in range(3):
        world.dispense(world.a, "camille", [("paracetamol", 1), ("metformine", 1)])
    world.turn(world.a)
    assert {row.status for row in _lines(world)} == {LineStatus.QUEUED}
    world.sandbox.down = False
    world.sandbox.lose_answers = 2  # recorded by the DP, answer lost: the worker sends again with the same key
    world.drain(world.a)
    references = [line.reference for line in world.sandbox.lines_of(matricule, "1.2.250.1.213.1.4.10")]
    assert len(references) == len(set(references)) == 6
    assert {row.status for row in _lines(world)} == {LineStatus.SENT}
    assert {m.status for m in _feeds(world)} == {OutboxStatus.DELIVERED}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(faults=st.lists(st.sampled_from(["down", "up", "lose", "turn", "bill"]), min_size=3, max_size=7))
@SQLITE_ONLY
def test_any_sequence_of_faults_delivers_each_dispensation_exactly_once(dp_world: DpWorld, faults: list[str]) -> None:
    """Fewer faults than the outbox's attempts: whatever their order, every line reaches the DP once."""
    world = dp_world
    world.sandbox.down, world.sandbox.lose_answers = False, 0
    patient = world.a.patients["camille"]
    if (world.a.pharmacy_id, patient) not in world.identities.identities:
        _opened(world)
    for fault in [*faults, "bill"]:
        if fault == "down":
            world.sandbox.down = True
        elif fault == "up":
            world.sandbox.down = False
        elif fault == "lose":
            world.sandbox.lose_answers += 1
        elif fault == "turn":
            world.turn(world.a)
        else:
            world.dispense(world.a, "camille", [("paracetamol", 1)])
    world.sandbox.down = False
    world.drain(world.a)
    identity = world.identities.identities[(world.a.pharmacy_id, patient)]
    references = [line.reference for line in world.sandbox.lines_of(identity.matricule, identity.oid)]
    assert len(references) == len(set(references)) == len(_lines(world, patient))
    assert {row.status for row in _lines(world, patient)} == {LineStatus.SENT}


def test_a_corrected_ordonnancier_line_is_corrected_in_the_dp(dp_world: DpWorld) -> None:
    world = dp_world
    matricule = _opened(world)
    result = world.dispense(world.a, "camille", [("paracetamol", 3)])
    world.drain(world.a)
    with world.kernel.transaction() as session:
        original = session.scalars(
            select(Dispensation.id).where(Dispensation.number == result.dispensation_numbers[0])
        ).one()
    world.counter(world.a).correct_dispensation(original, quantity=1, reason="deux boîtes rendues")
    correction = _lines(world)[-1]
    assert correction.replaces == _lines(world)[0].reference and correction.status == LineStatus.QUEUED
    world.drain(world.a)
    lines = world.sandbox.lines_of(matricule, "1.2.250.1.213.1.4.10")
    assert [(line.quantity, line.replaced_by) for line in lines] == [(3, correction.reference), (1, None)]


@SQLITE_ONLY
def test_lines_wait_for_a_qualified_identity_then_leave_by_themselves(dp_world: DpWorld) -> None:
    world = dp_world
    world.dispense(world.a, "camille", [("paracetamol", 1)])
    world.drain(world.a)
    (line,) = _lines(world)
    assert line.status == LineStatus.WAITING_IDENTITY and line.status_fr == "en attente : identité non qualifiée"
    identity = world.qualify(world.a)  # announces lgo_on_identity_qualified: queued again
    consent.create(world.kernel, world.a.pharmacy_id, world.a.operators["titulaire"], world.a.patients["camille"])
    world.drain(world.a)
    assert [row.status for row in _lines(world)] == [LineStatus.SENT]
    assert len(world.sandbox.lines_of(identity.matricule, identity.oid)) == 1


def test_a_patient_without_a_dp_keeps_the_lines_until_the_creation_proposed_at_the_counter(dp_world: DpWorld) -> None:
    world = dp_world
    identity = world.qualify(world.a)
    world.dispense(world.a, "camille", [("paracetamol", 1)])
    world.drain(world.a)
    assert [row.status for row in _lines(world)] == [LineStatus.WAITING_FILE]
    actions = world.counter(world.a).select_patient(world.a.patients["camille"])
    (proposal,) = [a for a in actions if a.kind == "dp.propose_creation"]
    assert {c.value for c in proposal.choices} == {"create", "refuse", "later"} and not proposal.blocking
    consent.answer(
        world.kernel, world.a.pharmacy_id, world.a.operators["preparatrice"], world.a.patients["camille"], "create"
    )
    world.drain(world.a)
    assert [row.status for row in _lines(world)] == [LineStatus.SENT]
    assert world.sandbox.file_of(identity.matricule, identity.oid).state == "actif"
    again = world.counter(world.a).select_patient(world.a.patients["camille"])
    assert not [a for a in again if a.kind == "dp.propose_creation"]


def test_a_refusal_is_recorded_with_its_date_for_ten_years_and_stops_feeding_everywhere(dp_world: DpWorld) -> None:
    world = dp_world
    identity = world.qualify(world.a)
    world.dispense(world.a, "camille", [("paracetamol", 1)])  # queued before the refusal
    until = consent.refuse(
        world.kernel, world.a.pharmacy_id, world.a.operators["titulaire"], world.a.patients["camille"]
    )
    today = date.today()
    assert until == consent.ten_years_after(today) and until.year == today.year + 10
    state = consent.consent(world.kernel, world.a.pharmacy_id, world.a.patients["camille"])
    assert state.refused_on == today and f"valable jusqu'au {until:%d/%m/%Y}" in state.text_fr
    world.dispense(world.a, "camille", [("amoxicilline", 1)])
    world.drain(world.a)
    assert [(row.status, row.reason_fr) for row in _lines(world)] == [
        (LineStatus.NOT_FED, f"refus du patient du {today:%d/%m/%Y}")
    ] * 2
    assert world.sandbox.lines_of(identity.matricule, identity.oid) == []
    assert world.sandbox.file_of(identity.matricule, identity.oid).refused_on == today  # the DP knows it too
    selected = world.counter(world.a).select_patient(world.a.patients["camille"])
    assert not [a for a in selected if a.kind.startswith("dp.")]

    # Pharmacy B does not know yet: its line is refused by the DP and never sent.
    world.qualify(world.b)
    world.dispense(world.b, "camille", [("paracetamol", 1)])
    world.drain(world.b)
    assert _lines(world, world.b.patients["camille"])[0].status == LineStatus.NOT_FED
    assert consent.consent(world.kernel, world.b.pharmacy_id, world.b.patients["camille"]).state is not None
    assert world.sandbox.lines_of(identity.matricule, identity.oid) == []


@SQLITE_ONLY
def test_closing_the_dp_stops_feeding_and_is_traced(dp_world: DpWorld) -> None:
    from lgo.domain.audit import AuditEntry

    world = dp_world
    matricule = _opened(world)
    world.dispense(world.a, "camille", [("paracetamol", 1)])
    world.drain(world.a)
    consent.close(world.kernel, world.a.pharmacy_id, world.a.operators["adjoint"], world.a.patients["camille"])
    world.dispense(world.a, "camille", [("paracetamol", 1)])
    world.drain(world.a)
    assert [row.status for row in _lines(world)] == [LineStatus.SENT, LineStatus.NOT_FED]
    assert len(world.sandbox.lines_of(matricule, "1.2.250.1.213.1.4.10")) == 1
    assert world.sandbox.file_of(matricule, "1.2.250.1.213.1.4.10").state == "ferme"
    with world.kernel.transaction() as session:
        messages = [
            e.message_fr
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("dp.close.%")).order_by(AuditEntry.id)
            )
        ]
    assert messages[0].startswith("Fermeture du DP de CAMILLE MARTIN-DÉMO demandée par Paul Lemoine-Démo")
    assert "effectuée dans le DP (demandée par Paul Lemoine-Démo)" in messages[1]


def test_a_refusal_lasts_ten_years_to_the_day_then_the_creation_may_be_proposed_again() -> None:
    from lgo_dp.model import PatientFile

    refused_on = date(2016, 2, 29)
    until = consent.ten_years_after(refused_on)
    assert until == date(2026, 2, 28)
    row = PatientFile(state="refus", refused_on=refused_on, refusal_valid_until=until)
    assert consent.feeding_blocked(row, until) == "refus du patient du 29/02/2016"
    assert consent.refusal_in_force(row, until)
    assert not consent.refusal_in_force(row, date(2026, 3, 1))
    assert consent.feeding_blocked(row, date(2026, 3, 1)) == ""
    assert consent.feeding_blocked(PatientFile(state="ferme", closed_on=date(2026, 1, 5)), date(2026, 3, 1)) == (
        "DP fermé à la demande du patient le 05/01/2026"
    )
