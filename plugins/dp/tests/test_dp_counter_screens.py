"""The DP's counter hooks without a browser: the DP key's window (history of every pharmacy with lots, duplicates
against the products on screen, consent asked when the patient has no DP and the refusal recorded from it), the
clear refusal without a qualified INS, the banner panel and the status bar. Recalls blocking the counters:
``test_dp_bulletins.py`` (the hook) and ``tests/test_counter_dp_in_the_browser.py`` (two counters in a browser)."""

from __future__ import annotations

import pytest
from dp_helpers import SQLITE_ONLY, DpWorld
from lgo.domain.audit import AuditEntry
from lgo.events import ActionAnswered, CounterCommand, CounterView
from lgo.identity import IdentityNotShareable
from lgo_dp import consent
from sqlalchemy import select


def _command(world: DpWorld, pharmacy_id: int, operator_id: int, patient_id: int, *cip13s: str) -> list:  # type: ignore[type-arg]
    return world.kernel.hooks.on_counter_command(
        "dp", CounterCommand(pharmacy_id, operator_id, "dp.consulter", patient_id, None, cip13s=cip13s)
    )


@SQLITE_ONLY
def test_the_dp_key_shows_every_pharmacy_s_lines_with_their_lot_and_flags_the_billing(dp_world: DpWorld) -> None:
    world = dp_world
    a, b = world.a, world.b
    for pharmacy in (a, b):
        world.qualify(pharmacy)
    consent.create(world.kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"])
    world.drain(b)
    world.dispense(b, "camille", [("amoxicilline", 2)], lot="AM24C")
    world.drain(b)
    world.dispense(a, "camille", [("paracetamol", 1)])
    (window,) = _command(
        world, a.pharmacy_id, a.operators["preparatrice"], a.patients["camille"], a.products["amoxicilline"]
    )
    assert window.kind == "dp.historique" and window.title_fr.startswith("Dossier Pharmaceutique — 12 derniers mois")
    lines = {(x["pharmacy"], x["lot"], x["own"], x["flagged"]) for x in window.data["lines"]}
    assert ("PHARMACIE DU MARCHE", "AM24C", False, True) in lines  # B's line, its lot, the duplicate flagged
    assert any(own and not flagged for _p, _l, own, flagged in lines)  # this pharmacy's paracétamol, not flagged
    assert window.data["flags"] and window.data["flags"][0].startswith("même substance (doublon)")
    assert not window.data["ask_consent"] and [c.value for c in window.choices] == ["close"]
    with world.kernel.transaction() as session:
        traced = session.scalars(select(AuditEntry).where(AuditEntry.action.like("dp.consult.%"))).all()
        assert {e.action for e in traced} == {"dp.consult.requested", "dp.consult.completed"}
        assert all(e.operator_id == a.operators["preparatrice"] and "Inès Roux-Démo" in e.message_fr for e in traced)


@SQLITE_ONLY
def test_without_a_dp_the_window_asks_for_consent_and_records_the_refusal(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    patient = a.patients["camille"]
    (window,) = _command(world, a.pharmacy_id, a.operators["titulaire"], patient)
    assert window.data["ask_consent"] and [c.value for c in window.choices] == ["create", "refuse", "close"]
    answered = ActionAnswered(
        a.pharmacy_id, a.operators["titulaire"], window.kind, "dp", patient, "refuse", {}, window.data, None
    )
    assert world.kernel.hooks.on_action_answered(answered) == []
    known = consent.consent(world.kernel, a.pharmacy_id, patient)
    assert known.text_fr.startswith("création refusée par le patient le ")
    (again,) = _command(world, a.pharmacy_id, a.operators["titulaire"], patient)
    assert not again.data["ask_consent"] and "création refusée" in again.data["state_fr"]


@SQLITE_ONLY
def test_without_a_qualified_ins_the_key_gets_the_clear_refusal_before_any_call(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.sandbox.down = True  # nothing is asked of the DP: the refusal comes first
    with pytest.raises(IdentityNotShareable, match="exige une INS qualifiée"):
        _command(world, a.pharmacy_id, a.operators["titulaire"], a.patients["jean"])
    with world.kernel.transaction() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "dp.refused"))
        assert entry.operator_id == a.operators["titulaire"] and "Claire Durand-Démo" in entry.message_fr


@SQLITE_ONLY
def test_the_banner_panel_and_the_status_bar_read_the_database_only(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    patient = a.patients["camille"]
    view = CounterView(a.pharmacy_id, a.operators["titulaire"], patient)
    ((_, panel),) = [p for p in world.kernel.hooks.counter_panels(view) if p[0] == "dp"]
    assert panel.place == "banner" and panel.lines_fr == ("DP inconnu de l'officine.",)
    assert panel.key_hint_fr.startswith("Alt+D : consulter le DP")
    assert [p for p in world.kernel.hooks.counter_panels(CounterView(a.pharmacy_id, 1, None)) if p[0] == "dp"] == []
    ((_, state),) = [s for s in world.kernel.hooks.service_status(a.pharmacy_id, patient) if s[0] == "dp"]
    assert (state.label_fr, state.state, state.detail_fr) == ("DP", "ok", "")

    world.sandbox.down = True
    consent.create(world.kernel, a.pharmacy_id, a.operators["titulaire"], patient)
    world.dispense(a, "camille", [("paracetamol", 1)])
    world.turn(a)
    ((_, state),) = [s for s in world.kernel.hooks.service_status(a.pharmacy_id, patient) if s[0] == "dp"]
    assert state.state == "degraded" and state.waiting_for_patient == 1
    assert state.detail_fr.startswith("Le Dossier Pharmaceutique ne répond pas")
