"""Recalls and alerts: fetched by ``lgo worker``, blocking every counter of the pharmacy until one operator acknowledges
(who and when traced and sent to the DP); for a recall, the lots in stock and the patients who received them."""

from __future__ import annotations

import pytest
from dp_helpers import SQLITE_ONLY, DpWorld
from lgo.domain.audit import AuditEntry
from lgo.errors import NotFound, PermissionDenied, ValidationError
from lgo_dp import bulletins
from lgo_dp.model import DpBulletin, DpSync
from sqlalchemy import select


def _recall(world: DpWorld, lot: str) -> str:
    return world.sandbox.publish(
        "rappel",
        "Rappel du lot d'amoxicilline",
        "Défaut de dissolution : retirer le lot de la vente et contacter les patients.",
        issuer="ANSM",
        products=[{"cip13": world.a.products["amoxicilline"], "libelle": "AMOXICILLINE LGO 1 g", "lots": [lot]}],
    )


def _blocking(world: DpWorld, pharmacy_id: int) -> list:  # type: ignore[type-arg]
    """What blocks every counter page of the pharmacy (``lgo_counter_blocking``, asked by each page)."""
    return [a for p, a in world.kernel.hooks.counter_blocking(pharmacy_id) if p == "dp" and a.blocking]


def test_a_recall_blocks_both_counters_until_one_acknowledges_and_lists_the_patients(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    lot = "AM24C"
    world.dispense(a, "camille", [("amoxicilline", 3)], lot=lot)
    world.dispense(a, "jean", [("amoxicilline", 1)], lot=lot)
    world.dispense(a, "lea", [("amoxicilline", 1)], lot="AM23K")  # another lot: not concerned
    _recall(world, lot)
    assert _blocking(world, a.pharmacy_id) == []  # published, not fetched yet

    world.turn(a)  # the worker's periodic job fetches it
    for _page in range(2):  # asked again by each page: the same window, recognised by its key
        (recall,) = _blocking(world, a.pharmacy_id)
        assert recall.data["key"] == f"bulletin-{recall.data['bulletin_id']}"
        assert recall.title_fr == "Rappel de lots (DP-Rappels) — Rappel du lot d'amoxicilline"
        assert {p["name"] for p in recall.data["patients"]} == {"CAMILLE MARTIN-DÉMO", "JEAN BERNARD-DÉMO"}
        assert recall.data["stock"] == [
            {
                "label": "AMOXICILLINE LGO 1 g, comprimé dispersible, boîte de 6",
                "cip13": a.products["amoxicilline"],
                "lot": lot,
                "on_hand": 16,
            }
        ]
        assert "Le comptoir reste bloqué jusqu'à l'accusé de lecture." in recall.message_fr
    (pending,) = bulletins.pending(world.kernel, a.pharmacy_id)
    assert [name for _, name in pending.impact.patients] == ["JEAN BERNARD-DÉMO", "CAMILLE MARTIN-DÉMO"]

    bulletins.acknowledge(world.kernel, a.pharmacy_id, pending.id, a.operators["preparatrice"])
    assert _blocking(world, a.pharmacy_id) == []
    actions = world.counter(a).select_patient(a.patients["lea"])  # no longer a patient-selection action
    assert [x for x in actions if x.kind in ("dp.rappel", "dp.alerte")] == []
    with pytest.raises(ValidationError, match="déjà été lu par Inès Roux-Démo le"):
        bulletins.acknowledge(world.kernel, a.pharmacy_id, pending.id, a.operators["titulaire"])
    with world.kernel.transaction() as session:
        row = session.get(DpBulletin, pending.id)
        assert row is not None and row.acknowledged_by == a.operators["preparatrice"] and row.acknowledged_at
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "dp.bulletin.acknowledged"))
        assert entry.operator_id == a.operators["preparatrice"]
        assert "accusé de lecture par Inès Roux-Démo le " in entry.message_fr
    world.turn(a)
    (ack,) = world.sandbox.acknowledgements["1"]
    assert ack["finess"] == world.finess[a.pharmacy_id] and ack["professionnel"] == "Inès Roux-Démo"


@SQLITE_ONLY
def test_a_recall_reaches_every_pharmacy_each_acknowledging_for_itself(dp_world: DpWorld) -> None:
    world = dp_world
    a, b = world.a, world.b
    _recall(world, "AM24C")
    world.sandbox.publish("alerte", "Alerte sanitaire : rupture", "Tension d'approvisionnement, dépannage possible.")
    for pharmacy in (a, b):
        world.turn(pharmacy)
    kinds = [x.kind for x in _blocking(world, b.pharmacy_id)]
    assert kinds == ["dp.rappel", "dp.alerte"]
    for pending in bulletins.pending(world.kernel, a.pharmacy_id):
        bulletins.acknowledge(world.kernel, a.pharmacy_id, pending.id, a.operators["titulaire"])
    assert _blocking(world, a.pharmacy_id) == []
    assert len(_blocking(world, b.pharmacy_id)) == 2  # B has not read them
    world.turn(a)
    assert world.turn(a) == 0  # fetched once: the cursor moved on
    with pytest.raises(NotFound):  # a bulletin of another pharmacy cannot be acknowledged from here
        bulletins.acknowledge(
            world.kernel, a.pharmacy_id, bulletins.pending(world.kernel, b.pharmacy_id)[0].id, a.operators["titulaire"]
        )


@SQLITE_ONLY
def test_the_dp_down_during_a_fetch_is_recorded_and_the_worker_goes_on(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.sandbox.down = True
    assert world.worker(a).run_periodic(force=True) == 1  # the failing job is logged, never raised
    with world.kernel.transaction() as session:
        sync = session.get(DpSync, a.pharmacy_id)
        assert sync is not None and sync.last_error_fr.startswith("Le Dossier Pharmaceutique ne répond pas")
    world.sandbox.down = False
    _recall(world, "AM24C")
    assert bulletins.fetch(world.kernel, a.pharmacy_id) == 1


@SQLITE_ONLY
def test_an_operator_without_the_habilitation_cannot_acknowledge(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    _recall(world, "AM24C")
    world.turn(a)
    (pending,) = bulletins.pending(world.kernel, a.pharmacy_id)
    with pytest.raises(PermissionDenied, match="accusé de lecture"):
        bulletins.acknowledge(world.kernel, a.pharmacy_id, pending.id, a.operators["admin"])
    assert len(bulletins.pending(world.kernel, a.pharmacy_id)) == 1


@SQLITE_ONLY
def test_the_counter_answers_the_windows_and_reads_the_dp_s_state_without_calling_it(dp_world: DpWorld) -> None:
    from lgo_dp import counter

    world = dp_world
    a = world.a
    world.qualify(a)
    patient = a.patients["camille"]
    (proposal,) = [x for x in world.counter(a).select_patient(patient) if x.kind == "dp.propose_creation"]
    assert counter.status(world.kernel, a.pharmacy_id).state == "ok"
    world.sandbox.down = True
    counter.answer(
        world.kernel, a.pharmacy_id, a.operators["titulaire"], proposal.kind, {"patient_id": patient}, "create"
    )
    world.dispense(a, "camille", [("paracetamol", 1)])
    world.turn(a)
    state = counter.status(world.kernel, a.pharmacy_id, patient)
    assert state.state == "degraded" and state.waiting_for_patient == 1
    assert state.text_fr.startswith("DP dégradé : Le Dossier Pharmaceutique ne répond pas")
    assert state.text_fr.endswith("1 ligne(s) de ce patient en attente d'envoi")
    world.sandbox.down = False
    _recall(world, "AM24C")
    world.drain(a)
    world.turn(a)
    assert counter.status(world.kernel, a.pharmacy_id, patient).state == "ok"
    (recall,) = _blocking(world, a.pharmacy_id)
    counter.answer(world.kernel, a.pharmacy_id, a.operators["titulaire"], recall.kind, recall.data, "acknowledge")
    assert _blocking(world, a.pharmacy_id) == []
    with pytest.raises(ValidationError, match="Réponse inconnue"):
        counter.answer(world.kernel, a.pharmacy_id, a.operators["titulaire"], "dp.rappel", recall.data, "ignorer")
