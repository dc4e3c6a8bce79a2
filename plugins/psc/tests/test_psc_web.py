"""The sign-in button, PSC's return, the refresh while working and the PSC logout through lgo-web."""

from __future__ import annotations

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
    assert back.status_code == 302 and back.headers["Location"] == "/modules"
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
    assert done.status_code == 302 and done.headers["Location"] == "/modules"
    with client.session_transaction() as session:
        assert session["operator_id"] == psc_world.titulaire_id and session["auth_method"] == "psc"


def test_counter_refuses_an_operator_without_rpps(psc_world: PscWorld) -> None:
    client = _client(psc_world)
    form = client.get("/plugins/psc/comptoir").get_data(as_text=True)
    refused = client.post("/plugins/psc/comptoir", data={"code": "preparatrice", "csrf_token": _csrf(form)})
    assert refused.status_code == 400 and "RPPS" in refused.get_data(as_text=True)


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
