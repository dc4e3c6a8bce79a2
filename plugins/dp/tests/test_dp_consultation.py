"""Consulting the DP: 12 months from every pharmacy merged with this pharmacy's own lines, each with its pharmacy and
lot; a qualified INS required; duplicates against the current billing flagged; every access traced."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from dp_helpers import SQLITE_ONLY, DpWorld
from hypothesis import given
from hypothesis import strategies as st
from lgo.demo_data import cip13
from lgo.domain.audit import AuditEntry
from lgo.domain.products import create_product, product_by_cip13
from lgo.errors import PermissionDenied
from lgo.identity import IdentityNotShareable
from lgo_dp import consent
from lgo_dp.consultation import FlagKind, HistoryLine, consult, flags, merge
from lgo_dp.transport import DpLine
from sqlalchemy import select


def _audit(world: DpWorld, prefix: str) -> list[AuditEntry]:
    with world.kernel.transaction() as session:
        rows = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id))
        )
        session.expunge_all()
        return rows


def test_a_dispensation_in_pharmacy_a_appears_in_pharmacy_b_within_one_worker_turn_with_its_lot(
    dp_world: DpWorld,
) -> None:
    world = dp_world
    a, b = world.a, world.b
    for pharmacy in (a, b):
        world.qualify(pharmacy)
    consent.create(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["camille"])
    world.turn(a)
    sold = world.dispense(a, "camille", [("amoxicilline", 2)]).event.lines[0]
    assert sold.lot_number == "AM23K"  # first expired, first out
    before = consult(world.kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"])
    assert before.lines == () and before.dp_reached

    assert world.turn(a) == 1  # one worker turn in pharmacy A
    after = consult(world.kernel, b.pharmacy_id, b.operators["preparatrice"], b.patients["camille"])
    (line,) = after.lines
    assert (line.label, line.quantity, line.lot) == (
        "AMOXICILLINE LGO 1 g, comprimé dispersible, boîte de 6",
        2,
        "AM23K",
    )
    assert (line.pharmacy_finess, line.pharmacy_name, line.own, line.in_dp) == (
        world.finess[a.pharmacy_id],
        "PHARMACIE DES TILLEULS",
        False,
        True,
    )
    assert line.dispensed_on == date.today() and "PHARMACIE DES TILLEULS" in line.text_fr


def test_a_patient_without_a_qualified_ins_is_refused_with_a_clear_message_and_traced(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    for call in (
        lambda: consult(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["jean"]),
        lambda: consent.create(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["jean"]),
        lambda: consent.refuse(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["jean"]),
    ):
        with pytest.raises(IdentityNotShareable) as refused:
            call()
        assert refused.value.message_fr.startswith("Le Dossier Pharmaceutique exige une INS qualifiée")
        assert "qualifiez d'abord l'identité du patient" in refused.value.message_fr
    traced = _audit(world, "dp.refused")
    assert len(traced) == 3 and all("identité du patient non qualifiée" in e.message_fr for e in traced)
    assert (
        traced[0].message_fr
        == "DP — consultation impossible pour Claire Durand-Démo : identité du patient non qualifiée."
    )
    assert world.sandbox.accesses == []  # the DP was never called


@SQLITE_ONLY
def test_an_operator_without_the_habilitation_is_refused_and_traced(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    with pytest.raises(PermissionDenied, match="pas habilité"):
        consult(world.kernel, a.pharmacy_id, a.operators["admin"], a.patients["camille"])
    (entry,) = _audit(world, "dp.refused")
    assert "Marc Petit-Démo" in entry.message_fr and "dp.consult" in entry.message_fr


def test_the_history_merges_this_pharmacy_s_lines_with_the_dp_and_flags_the_billing(dp_world: DpWorld) -> None:
    world = dp_world
    a, b = world.a, world.b
    for pharmacy in (a, b):
        world.qualify(pharmacy)
    consent.create(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["camille"])
    world.drain(a)
    world.dispense(b, "camille", [("amoxicilline", 1)])
    world.drain(b)
    world.dispense(a, "camille", [("paracetamol", 1)])
    world.drain(a)
    world.sandbox.down = True
    world.dispense(a, "camille", [("levothyroxine", 1)])  # not sent yet: known from the ordonnancier only
    world.turn(a)
    world.sandbox.down = False
    with world.kernel.transaction() as session:  # a penicillin of the same class (J01CA) as amoxicilline
        pivmecillinam = create_product(
            session,
            a.pharmacy_id,
            cip13=cip13("3000110"),
            label="PIVMÉCILLINAM DÉMO 200 mg",
            price_cents=400,
            cis="69000110",
            atc="J01CA08",
        ).id
        paracetamol = product_by_cip13(session, a.pharmacy_id, a.products["paracetamol"]).id

    found = consult(
        world.kernel,
        a.pharmacy_id,
        a.operators["adjoint"],
        a.patients["camille"],
        product_ids=[paracetamol, pivmecillinam],
    )
    assert {(line.label.split()[0], line.own, line.in_dp) for line in found.lines} == {
        ("LÉVOTHYROXINE", True, False),
        ("PARACÉTAMOL", True, True),
        ("AMOXICILLINE", False, True),
    }
    by_label = {line.label.split()[0]: line for line in found.lines}
    assert by_label["LÉVOTHYROXINE"].status_fr == "en file d'envoi"
    assert by_label["PARACÉTAMOL"].status_fr == "transmise au DP"
    assert by_label["AMOXICILLINE"].pharmacy_name == "PHARMACIE DU MARCHE"
    assert found.pharmacies == 2
    assert {(f.kind, f.billed_label.split()[0], f.line.label.split()[0]) for f in found.flags} == {
        (FlagKind.SAME_SUBSTANCE, "PARACÉTAMOL", "PARACÉTAMOL"),
        (FlagKind.SAME_CLASS, "PIVMÉCILLINAM", "AMOXICILLINE"),
    }
    assert any("même classe thérapeutique" in f.text_fr and "PHARMACIE DU MARCHE" in f.text_fr for f in found.flags)

    # Traced before the call and after it, with the operator's name.
    requested, completed = _audit(world, "dp.consult")[-2:]
    assert requested.action == "dp.consult.requested" and "par Paul Lemoine-Démo" in requested.message_fr
    assert completed.action == "dp.consult.completed" and "3 ligne(s), dont 2 du DP" in completed.message_fr


@SQLITE_ONLY
def test_the_dp_down_still_shows_this_pharmacy_s_lines_with_a_french_notice(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    world.dispense(a, "camille", [("paracetamol", 1)])
    world.sandbox.down = True
    found = consult(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["camille"])
    assert not found.dp_reached and len(found.lines) == 1
    assert found.notice_fr.startswith("Le Dossier Pharmaceutique ne répond pas")
    assert _audit(world, "dp.consult")[-1].action == "dp.consult.degraded"


@SQLITE_ONLY
def test_a_patient_without_a_dp_is_told_so_and_the_creation_can_be_proposed(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    world.counter(a).select_patient(a.patients["camille"])
    world.drain(a)  # the DP was asked for the patient's state in the background, traced before and after
    assert [e.message_fr for e in _audit(world, "dp.status.")] == [
        "État du DP de CAMILLE MARTIN-DÉMO demandé au DP (patient sélectionné par Claire Durand-Démo).",
        "État du DP de CAMILLE MARTIN-DÉMO : pas de DP.",
    ]
    found = consult(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["camille"])
    assert found.dp_reached and "n'a pas de Dossier Pharmaceutique" in found.notice_fr
    assert consent.consent(world.kernel, a.pharmacy_id, a.patients["camille"]).text_fr == "pas de DP"


@SQLITE_ONLY
def test_masked_lines_are_no_longer_shown_to_other_pharmacies(dp_world: DpWorld) -> None:
    world = dp_world
    a, b = world.a, world.b
    for pharmacy in (a, b):
        world.qualify(pharmacy)
    consent.create(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["camille"])
    world.drain(a)
    world.dispense(a, "camille", [("paracetamol", 1), ("levothyroxine", 1)])
    world.drain(a)
    shown = consult(world.kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"])
    levothyroxine = next(line for line in shown.lines if line.label.startswith("LÉVO"))
    assert (
        consent.mask(
            world.kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"], [levothyroxine.reference]
        )
        == 1
    )
    world.drain(b)
    after = consult(world.kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"])
    assert [line.label.split()[0] for line in after.lines] == ["PARACÉTAMOL"]
    assert "Masquage de 1 ligne(s) du DP de CAMILLE MARTIN-DÉMO demandé par Claire Durand-Démo." in [
        e.message_fr for e in _audit(world, "dp.mask")
    ]


# --- the merge itself, over any input ---------------------------------------------------------------------------------

FINESS = "990000013"
_refs = st.integers(min_value=1, max_value=40)
_days = st.integers(min_value=0, max_value=364)


def _own(number: int, days: int) -> HistoryLine:
    return HistoryLine(
        date.today() - timedelta(days=days),
        f"P{number}",
        "3400930000011",
        1,
        None,
        FINESS,
        "ICI",
        f"{FINESS}-O{number}",
        own=True,
        in_dp=False,
        status_fr="en file d'envoi",
    )


@given(
    own=st.dictionaries(_refs, _days, max_size=15),
    sent=st.sets(_refs, max_size=15),
    others=st.lists(st.tuples(st.sampled_from(["990000021", "990000039", "990000047"]), _refs, _days), max_size=20),
)
def test_the_merge_shows_each_line_once_newest_first(
    own: dict[int, int], sent: set[int], others: list[tuple[str, int, int]]
) -> None:
    mine = [_own(number, days) for number, days in own.items()]
    remote = [
        DpLine(
            f"{FINESS}-O{n}",
            date.today() - timedelta(days=own.get(n, 1)),
            "3400930000011",
            f"P{n}",
            1,
            "L",
            FINESS,
            "ICI",
        )
        for n in sent
    ] + [
        DpLine(f"{finess}-O{n}", date.today() - timedelta(days=d), "3400930000028", f"Q{n}", 1, "M", finess, "AILLEURS")
        for finess, n, d in others
    ]
    merged = merge(mine, remote, FINESS)
    keys = [(line.pharmacy_finess, line.reference) for line in merged]
    assert len(keys) == len(set(keys))
    assert {line.reference for line in merged} == {line.reference for line in mine} | {r.reference for r in remote}
    assert [line.dispensed_on for line in merged] == sorted((line.dispensed_on for line in merged), reverse=True)
    for line in merged:
        if line.pharmacy_finess == FINESS and int(line.reference.split("-O")[1]) in own:
            assert line.in_dp == (int(line.reference.split("-O")[1]) in sent)


def test_flags_compare_substances_and_classes_through_the_catalogue() -> None:
    line = _own(1, 3)
    with_codes = [replace(line, atc="N02BE01", cis="69000011")]
    assert [f.kind for f in flags([("X", "N02BE01", None)], with_codes)] == [FlagKind.SAME_SUBSTANCE]
    assert [f.kind for f in flags([("X", None, "69000011")], with_codes)] == [FlagKind.SAME_SUBSTANCE]
    assert [f.kind for f in flags([("X", "N02BE05", "69000999")], with_codes)] == [FlagKind.SAME_CLASS]
    assert flags([("X", "N02AX02", None)], with_codes) == []
    assert flags([("X", None, None)], [line]) == []  # a product unknown here cannot be compared


@SQLITE_ONLY
def test_a_patient_of_another_pharmacy_or_no_number_is_not_found(dp_world: DpWorld) -> None:
    from lgo.errors import NotFound

    world = dp_world
    a, b = world.a, world.b
    world.qualify(b)  # qualified in B: still not reachable from A
    for wrong in (b.patients["camille"], 2**40, "abc"):
        with pytest.raises(NotFound, match="Patient"):
            consult(world.kernel, a.pharmacy_id, a.operators["titulaire"], wrong)  # type: ignore[arg-type]
    assert world.sandbox.accesses == []
