"""The sign-in button, PSC's return, the refresh while working and the PSC logout through lgo-web."""

from __future__ import annotations

import html
import re
from typing import Any

from lgo_psc import service
from lgo_sandbox.psc import browse_logout, browse_sign_in
from psc_helpers import REDIRECT_URI, TITULAIRE_RPPS, PscWorld


def _client(world: PscWorld) -> Any:
    from lgo_web import create_app

    return create_app(world.kernel, secure_cookies=False).test_client()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _psc_sign_in(client: Any) -> Any:
    login = client.get("/connexion").get_data(as_text=True)
    assert "Se connecter avec Pro Santé Connect" in login and 'href="/plugins/psc/login"' in login
    started = client.get(f"/plugins/psc/login?login_hint=8{TITULAIRE_RPPS}")
    assert started.status_code == 302
    params = browse_sign_in(started.headers["Location"], REDIRECT_URI)
    return client.get("/plugins/psc/retour", query_string=params)


def test_web_sign_in_refresh_and_logout(psc_world: PscWorld) -> None:
    client = _client(psc_world)
    back = _psc_sign_in(client)
    assert back.status_code == 302 and back.headers["Location"] == "/"  # "/" sends each role to its landing page
    with client.session_transaction() as session:
        assert session["auth_method"] == "psc" and session["operator_id"] == psc_world.titulaire_id
        handle = session["psc_handle"]
    modules = client.get("/modules").get_data(as_text=True)
    assert 'action="/plugins/psc/deconnexion"' in modules  # the sign-out button ends the PSC session too
    # The operator works while the access token is about to expire: it is renewed on the next page.
    psc_world.configure(refresh_margin_seconds=3600)
    before = service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, handle)
    page = client.get("/plugins/psc/").get_data(as_text=True)
    after = service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, handle)
    assert before is not None and after is not None and after.access_token != before.access_token
    assert "Se déconnecter de Pro Santé Connect" in page
    psc_world.configure(refresh_margin_seconds=60)
    # Keep the connection on leaving the module: still signed in.
    kept = client.post("/plugins/psc/quitter", data={"csrf_token": _csrf(page)})
    assert kept.status_code == 302 and client.get("/modules").status_code == 200
    out = client.post(
        "/plugins/psc/deconnexion", data={"csrf_token": _csrf(client.get("/plugins/psc/").get_data(as_text=True))}
    )
    assert out.status_code == 302 and "id_token_hint=" in out.headers["Location"]
    landing = browse_logout(out.headers["Location"])
    assert landing.startswith("http://localhost/plugins/psc/deconnecte")
    assert client.get(landing.replace("http://localhost", "")).status_code == 302
    assert client.get("/modules").status_code == 302  # signed out
    assert service.tokens_of(psc_world.kernel, psc_world.pharmacy_id, handle) is None


def test_web_refused_sign_in_shows_french_message(psc_world: PscWorld) -> None:
    client = _client(psc_world)
    started = client.get(f"/plugins/psc/login?login_hint=8{TITULAIRE_RPPS}")
    params = browse_sign_in(started.headers["Location"], REDIRECT_URI)
    refused = client.get("/plugins/psc/retour", query_string={**params, "state": "falsifie"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/connexion")
    page = client.get("/connexion").get_data(as_text=True)
    assert "ne correspond pas à la demande de connexion" in page
    with client.session_transaction() as session:
        assert "operator_id" not in session


def test_password_sign_in_still_works(psc_world: PscWorld) -> None:
    from lgo.demo_data import PASSWORD

    client = _client(psc_world)
    token = _csrf(client.get("/connexion").get_data(as_text=True))
    signed = client.post("/connexion", data={"code": "adjoint", "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 302
    with client.session_transaction() as session:
        assert session["auth_method"] == "password"
    modules = client.get("/modules").get_data(as_text=True)
    assert 'action="/deconnexion"' in modules


def test_return_without_cookie_reloads_once_same_site(psc_world: PscWorld) -> None:
    # A browser drops the SameSite=Strict cookie on the redirect from PSC: the page reloads itself once.
    client = _client(psc_world)
    first = client.get("/plugins/psc/retour?code=abc&state=xyz")
    assert first.status_code == 200 and 'http-equiv="refresh"' in first.get_data(as_text=True)
    assert "relance=1" in first.get_data(as_text=True)
    second = client.get("/plugins/psc/retour?code=abc&state=xyz&relance=1")
    assert second.status_code == 302 and second.headers["Location"].endswith("/connexion")


def test_counter_sign_in_with_ciba(psc_world: PscWorld) -> None:
    client = _client(psc_world)
    assert 'href="/plugins/psc/comptoir"' in client.get("/connexion").get_data(as_text=True)
    form = client.get("/plugins/psc/comptoir").get_data(as_text=True)
    started = client.post("/plugins/psc/comptoir", data={"code": "titulaire", "csrf_token": _csrf(form)})
    assert started.status_code == 302 and started.headers["Location"].endswith("/plugins/psc/comptoir/attente")
    waiting = client.get("/plugins/psc/comptoir/attente")
    assert waiting.status_code == 200 and "Validez sur votre application e-CPS" in waiting.get_data(as_text=True)
    psc_world.sandbox.ciba_approve("8" + TITULAIRE_RPPS)
    done = client.get("/plugins/psc/comptoir/attente")
    assert done.status_code == 302 and done.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session["operator_id"] == psc_world.titulaire_id and session["auth_method"] == "psc"


def _ask_at_the_counter(client: Any, code: str) -> tuple[int, str]:
    form = client.get("/plugins/psc/comptoir").get_data(as_text=True)
    answer = client.post("/plugins/psc/comptoir", data={"code": code, "csrf_token": _csrf(form)})
    if answer.status_code != 302:
        return answer.status_code, html.unescape(answer.get_data(as_text=True))
    assert answer.headers["Location"].endswith("/plugins/psc/comptoir/attente")
    waiting = client.get("/plugins/psc/comptoir/attente")
    page = re.sub(r'value="[^"]+"', "", html.unescape(waiting.get_data(as_text=True)))  # without the CSRF tokens
    return waiting.status_code, page


def test_the_counter_answers_the_same_for_every_code_and_pushes_only_to_a_known_pharmacist(
    psc_world: PscWorld,
) -> None:
    """Known with an RPPS, unknown, known without an RPPS: one answer, one page; a request reaches a phone only
    for the first; the journal says what happened (issue 16)."""
    from lgo.domain.audit import AuditEntry
    from sqlalchemy import select

    before = len(psc_world.sandbox.ciba_pending())
    answers = {code: _ask_at_the_counter(_client(psc_world), code) for code in ("titulaire", "inconnu", "preparatrice")}
    assert len(set(answers.values())) == 1
    status, page = answers["inconnu"]
    assert status == 200 and "Si ce code est celui d'un professionnel de l'officine" in page
    assert len(psc_world.sandbox.ciba_pending()) == before + 1
    with psc_world.kernel.transaction() as db:
        journal = [e.message_fr for e in db.scalars(select(AuditEntry).where(AuditEntry.action.like("psc.counter%")))]
    assert any("« inconnu » (code inconnu : aucune demande envoyée)" in line for line in journal)
    assert any("non envoyée" in line and "RPPS" in line for line in journal)


def test_the_counter_is_rate_limited_per_code_and_per_workstation(psc_world: PscWorld) -> None:
    from lgo_psc.web import MAX_PER_ADDRESS, MAX_PER_CODE

    before = len(psc_world.sandbox.ciba_pending())
    for code in ("titulaire", "inconnu"):  # the same limit for a code that exists and one that does not
        client = _client(psc_world)
        statuses = [_ask_at_the_counter(client, code)[0] for _ in range(MAX_PER_CODE + 2)]
        assert statuses == [200] * MAX_PER_CODE + [429, 429]
    assert len(psc_world.sandbox.ciba_pending()) == before + MAX_PER_CODE  # nothing pushed beyond the limit
    refused = _ask_at_the_counter(_client(psc_world), "titulaire")
    assert refused[0] == 429 and "Trop de demandes de connexion" in refused[1]
    # One workstation trying many codes is stopped too.
    sprayer = _client(psc_world)
    sprayer.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    statuses = [_ask_at_the_counter(sprayer, f"code{n}")[0] for n in range(MAX_PER_ADDRESS + 1)]
    assert statuses == [200] * MAX_PER_ADDRESS + [429]


def test_titulaire_unbinds_an_account(psc_world: PscWorld) -> None:
    from lgo_psc.model import PscBinding
    from sqlalchemy import select

    client = _client(psc_world)
    _psc_sign_in(client)
    page = client.get("/plugins/psc/").get_data(as_text=True)
    assert "Durand-Démo" in page and TITULAIRE_RPPS in page and "Délier" in page
    done = client.post(f"/plugins/psc/liaisons/{psc_world.titulaire_id}/delier", data={"csrf_token": _csrf(page)})
    assert done.status_code == 302
    with psc_world.kernel.transaction() as db:
        assert db.scalar(select(PscBinding)) is None


def test_read_only_role_cannot_unbind(psc_world: PscWorld) -> None:
    from lgo.demo_data import PASSWORD

    client = _client(psc_world)
    token = _csrf(client.get("/connexion").get_data(as_text=True))
    client.post("/connexion", data={"code": "adjoint", "password": PASSWORD, "csrf_token": token})
    page = client.get("/plugins/psc/").get_data(as_text=True)
    assert "Délier" not in page
    refused = client.post(f"/plugins/psc/liaisons/{psc_world.titulaire_id}/delier", data={"csrf_token": _csrf(page)})
    assert refused.status_code == 403
