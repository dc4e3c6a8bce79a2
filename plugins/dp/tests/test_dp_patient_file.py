"""The DP section of the patient's file (``Alt+P``) with Flask's test client, against the DP sandbox and two
pharmacies: the file itself never calls the DP; its fragment is the DP key's consultation (the 12 months of every
pharmacy with lot and pharmacy, this pharmacy's lines with their sending state), traced with the operator's name; a
patient without a DP is told so with the key; without a qualified INS, the clear refusal; an operator without the
habilitation sees nothing of the DP and no link that would refuse. In the browser:
``tests/test_counter_dp_in_the_browser.py``."""

from __future__ import annotations

import html
import re
from typing import Any

from dp_helpers import SQLITE_ONLY, DpWorld
from lgo.demo_data import PASSWORD, Seeded
from lgo.domain.audit import AuditEntry
from lgo.domain.pharmacy import OperatorHabilitation
from lgo_dp import access, consent, counter, file
from sqlalchemy import delete, select

FRAGMENT = {"X-LGO-Fragment": "1"}


def _client(world: DpWorld, code: str) -> Any:
    from lgo_web import create_app

    finess = world.finess[world.a.pharmacy_id]
    client = create_app(world.kernel, secure_cookies=False, pharmacy_finess=finess).test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, page[:500]
    signed = client.post("/connexion", data={"code": code, "password": PASSWORD, "csrf_token": token.group(1)})
    assert signed.status_code == 302
    return client


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _section(page: str) -> str:
    found = re.search(r'<section class="card file-section" id="dp".*?</section>', page, re.S)
    assert found, page[:2000]
    return found.group(0)


def _consultations(world: DpWorld, pharmacy: Seeded) -> list[AuditEntry]:
    with world.kernel.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.pharmacy_id == pharmacy.pharmacy_id, AuditEntry.action.like("dp.consult.%")
                )
            )
        )


@SQLITE_ONLY
def test_the_file_shows_every_pharmacy_s_lines_with_lot_and_pharmacy_in_a_fragment(dp_world: DpWorld) -> None:
    world = dp_world
    a, b = world.a, world.b
    for pharmacy in (a, b):
        world.qualify(pharmacy)
    consent.create(world.kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"])
    world.drain(b)
    world.dispense(b, "camille", [("amoxicilline", 2)], lot="AM24C")
    world.drain(b)
    consent.create(world.kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["camille"])
    world.drain(a)
    world.dispense(a, "camille", [("paracetamol", 1)])  # not sent yet: shown with its state
    patient = a.patients["camille"]
    client = _client(world, "titulaire")

    page = client.get(f"/comptoir/patients/{patient}/dossier")
    assert page.status_code == 200
    section = _section(_text(page))
    fragment_url = f"/plugins/dp/patients/{patient}/historique"
    assert f'data-fragment="{fragment_url}"' in section and "Dossier Pharmaceutique" in section
    assert "<p>DP ouvert.</p>" in section
    # The file never waits on the DP: it did not call it, and shows none of its lines.
    assert "AM24C" not in section and _consultations(world, a) == []

    fragment = client.get(fragment_url, headers=FRAGMENT)
    assert fragment.status_code == 200
    part = _text(fragment)
    assert "<html" not in part and "Retour au dossier" not in part
    rows = re.findall(r"<tr>(.*?)</tr>", part, re.S)
    cells = [re.sub(r"<[^>]+>", "", row).split() for row in rows]
    flat = [" ".join(c) for c in cells]
    assert any("AM24C" in row and "PHARMACIE DU MARCHE" in row and "AMOXICILLINE" in row.upper() for row in flat), flat
    assert any("LOT-PARA" in row and "cette officine" in row and "(" in row for row in flat), flat  # its sending state
    assert "Réponse du DP : DP ouvert." in part and "2 délivrance(s), dont 1 dans 1 autre(s) officine(s)." in part
    assert "signalement" not in part  # the file has no billing to flag against

    # Traced before and after the call, with the operator's name, as the DP key's window is.
    traced = _consultations(world, a)
    assert {e.action for e in traced} == {"dp.consult.requested", "dp.consult.completed"}
    assert all(
        e.operator_id == a.operators["titulaire"] and "par Claire Durand-Démo" in e.message_fr for e in traced
    ), [e.message_fr for e in traced]

    # Without JavaScript the link opens the whole counter page with the same history.
    whole = client.get(fragment_url)
    assert whole.status_code == 200
    assert "Retour au dossier" in _text(whole) and "AM24C" in _text(whole)
    # A patient of pharmacy B through A's session: not found, nothing asked of the DP.
    before = len(_consultations(world, a))
    assert client.get(f"/plugins/dp/patients/{b.patients['camille']}/historique", headers=FRAGMENT).status_code == 404
    assert len(_consultations(world, a)) == before


@SQLITE_ONLY
def test_the_fragment_is_the_dp_key_s_window_one_code_path(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    patient = a.patients["camille"]
    window = counter.history_window(world.kernel, a.pharmacy_id, a.operators["titulaire"], patient)
    shown = counter.history(world.kernel, a.pharmacy_id, a.operators["titulaire"], patient)
    assert window.data == shown.data and window.title_fr == shown.title_fr
    assert [c.value for c in window.choices] == [c.value for c in shown.choices]


@SQLITE_ONLY
def test_a_patient_without_a_dp_is_told_so_with_the_key_to_create_it_or_record_the_refusal(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    patient = a.patients["camille"]
    client = _client(world, "titulaire")
    part = _text(client.get(f"/plugins/dp/patients/{patient}/historique", headers=FRAGMENT))
    assert file.NO_FILE_FR in part and "Alt+D" in part
    # Once the pharmacy knows the patient has no DP, the file says so before any call.
    assert file.no_file(consent.consent(world.kernel, a.pharmacy_id, patient).state)
    assert file.NO_FILE_FR in _section(_text(client.get(f"/comptoir/patients/{patient}/dossier")))
    # A refusal recorded from the Alt+D window is the state the file shows.
    consent.refuse(world.kernel, a.pharmacy_id, a.operators["titulaire"], patient)
    section = _section(_text(client.get(f"/comptoir/patients/{patient}/dossier")))
    assert "Création refusée par le patient le" in section and file.NO_FILE_FR not in section


@SQLITE_ONLY
def test_without_a_qualified_ins_the_file_gives_the_clear_refusal_and_asks_nothing(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    patient = a.patients["camille"]  # never qualified
    client = _client(world, "titulaire")
    section = _section(_text(client.get(f"/comptoir/patients/{patient}/dossier")))
    assert access.IDENTITY_REQUIRED_FR in section and "data-fragment" not in section
    # The address typed by hand: the same refusal in French, traced, and nothing asked of the DP.
    refused = client.get(f"/plugins/dp/patients/{patient}/historique", headers=FRAGMENT)
    assert refused.status_code == 409 and access.IDENTITY_REQUIRED_FR in _text(refused)
    with world.kernel.transaction() as session:
        traced = session.scalars(select(AuditEntry).where(AuditEntry.action == "dp.refused")).all()
        assert any("identité du patient non qualifiée" in e.message_fr for e in traced)
    assert not any(e.action == "dp.consult.completed" for e in _consultations(world, a))


@SQLITE_ONLY
def test_an_operator_without_the_habilitation_sees_nothing_of_the_dp_and_no_link_that_refuses(
    dp_world: DpWorld,
) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    patient = a.patients["camille"]
    preparer = a.operators["preparatrice"]
    with world.kernel.transaction() as session:
        session.execute(
            delete(OperatorHabilitation).where(
                OperatorHabilitation.operator_id == preparer,
                OperatorHabilitation.habilitation == access.HABILITATION_CONSULT,
            )
        )
    client = _client(world, "preparatrice")
    section = _section(_text(client.get(f"/comptoir/patients/{patient}/dossier")))
    assert file.NOT_HABILITATED_FR in section
    assert "data-fragment" not in section and "href" not in section and "DP ouvert" not in section
    # The address typed by hand: refused in French, the refusal traced with her name.
    refused = client.get(f"/plugins/dp/patients/{patient}/historique", headers=FRAGMENT)
    assert refused.status_code == 403 and "pas habilité(e)" in _text(refused)
    with world.kernel.transaction() as session:
        traced = session.scalars(select(AuditEntry).where(AuditEntry.action == "dp.refused")).all()
        assert any(e.operator_id == preparer and "habilitation" in e.message_fr for e in traced)
    assert _consultations(world, a) == []


@SQLITE_ONLY
def test_the_dp_down_leaves_the_file_and_this_pharmacy_s_lines_with_a_french_notice(dp_world: DpWorld) -> None:
    world = dp_world
    a = world.a
    world.qualify(a)
    world.dispense(a, "camille", [("paracetamol", 1)])
    patient = a.patients["camille"]
    client = _client(world, "titulaire")
    assert client.get("/plugins/dp/patients/pas-un-numero/historique", headers=FRAGMENT).status_code == 404
    world.kernel.save_plugin_settings(a.pharmacy_id, "dp", {"endpoint": "https://127.0.0.1:9", "timeout_seconds": 1})
    assert client.get(f"/comptoir/patients/{patient}/dossier").status_code == 200  # the file never waits on the DP
    part = client.get(f"/plugins/dp/patients/{patient}/historique", headers=FRAGMENT)
    assert part.status_code == 200
    shown = _text(part)
    assert "Seules les délivrances de l'officine sont affichées." in shown and "LOT-PARA" in shown
    assert {e.action for e in _consultations(world, a)} == {"dp.consult.requested", "dp.consult.degraded"}
