"""Security of the admin page: CSRF, roles, escaping, password guessing, sessions, cookies, error pages."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from lgo.demo_data import PASSWORD, Seeded
from lgo.domain import audit
from lgo.kernel import Kernel
from lgo_web import create_app, session_keys
from web_fakes import EVIL_LABEL, MSS_CAPABILITY, csrf_token, https_client, post_form, sign_in, text


def test_a_post_without_csrf_token_is_refused(web_client: Any, web_kernel: Kernel, web_seeded: Seeded) -> None:
    sign_in(web_client, "titulaire", PASSWORD)
    for path, data in [
        ("/modules/ins/activer", {}),
        ("/parametres/ins", {"reprompt_count": "7"}),
        ("/fournisseurs", {"capability": MSS_CAPABILITY, "provider": "mailiz"}),
    ]:
        response = web_client.post(path, data=data)
        assert response.status_code == 400, path
        assert "jeton de sécurité absent ou périmé" in text(response)
        forged = web_client.post(path, data={**data, "csrf_token": "forged"})
        assert forged.status_code == 400
    assert not web_kernel.is_active(web_seeded.pharmacy_id, "ins")
    assert web_kernel.selected_provider(web_seeded.pharmacy_id, MSS_CAPABILITY) is None
    # The sign-in form is protected too (login CSRF).
    assert web_client.post("/connexion", data={"code": "titulaire", "password": PASSWORD}).status_code == 400


def test_a_preparateur_reads_but_cannot_change_settings(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    pharmacy = web_seeded.pharmacy_id
    sign_in(web_client, "preparatrice", PASSWORD)
    page = text(web_client.get("/modules"))
    assert "lecture seule" in page and "Activer" not in page
    settings_page = text(web_client.get("/parametres/ins"))
    assert "Nombre de relances INS" in settings_page and "Enregistrer" not in settings_page
    for path, data in [
        ("/modules/ins/activer", {}),
        ("/modules/vague-1/activer", {}),
        ("/modules/vague-2/activer", {}),
        ("/parametres/ins", {"reprompt_count": "7", "endpoint": "https://a.test/", "mode": "auto"}),
        ("/fournisseurs", {"capability": MSS_CAPABILITY, "provider": "mailiz"}),
        ("/exploitation/messages/1/relancer", {}),
    ]:
        response = post_form(web_client, "/modules", path, data)
        assert response.status_code == 403, path
        assert "Votre rôle ne permet pas cette action." in text(response)
    assert not web_kernel.is_active(pharmacy, "ins")
    assert web_kernel.plugin_settings(pharmacy, "ins").reprompt_count == 3  # type: ignore[attr-defined]
    # Signing out stays possible.
    assert post_form(web_client, "/modules", "/deconnexion").status_code == 302


def test_plugin_and_patient_names_with_html_are_escaped(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    patient_name = "<script>alert('patient')</script>Dupont"
    with web_kernel.transaction() as db:
        audit.record(
            db,
            web_seeded.pharmacy_id,
            "patient.viewed",
            f"Dossier de {patient_name} consulté.",
            patient_id=web_seeded.patients["camille"],
        )
    sign_in(web_client, "titulaire", PASSWORD)
    modules = web_client.get("/modules").get_data(as_text=True)
    assert EVIL_LABEL not in modules and "<b>gras</b>" not in modules
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Module piégé" in modules
    operations = web_client.get("/exploitation").get_data(as_text=True)
    assert "<script>alert" not in operations
    assert "&lt;script&gt;alert(&#39;patient&#39;)&lt;/script&gt;Dupont" in operations


def test_five_wrong_passwords_slow_further_attempts(web_app: Flask, web_kernel: Kernel, web_seeded: Seeded) -> None:
    client = https_client(web_app)
    for _ in range(5):
        response = sign_in(client, "titulaire", "mauvais-mot-de-passe")
        assert response.status_code == 401 and "Code ou mot de passe incorrect." in text(response)
    refused = sign_in(client, "titulaire", PASSWORD)  # even the right password must wait now
    assert refused.status_code == 429 and "Trop de tentatives manquées pour ce code : réessayez dans" in text(refused)
    assert session_keys.OPERATOR_ID not in _session(client)

    # Persisted: another web process (a new app on the same database) refuses as well.
    other = https_client(create_app(web_kernel))
    assert sign_in(other, "titulaire", PASSWORD).status_code == 429
    # Per code and address: the same code from another address, or another code, is not slowed down.
    elsewhere = https_client(web_app)
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(elsewhere, "titulaire", PASSWORD).status_code == 302
    assert sign_in(https_client(web_app), "admin", PASSWORD).status_code == 302


def test_throttle_delay_doubles_and_a_success_resets() -> None:
    from datetime import timedelta

    from lgo_web.throttle import delay_after

    assert delay_after(4) == timedelta(0)
    assert delay_after(5) == timedelta(seconds=30)
    assert delay_after(6) == timedelta(seconds=60)
    assert delay_after(30) == timedelta(minutes=15)


def test_sessions_expire_and_cookies_are_locked_down(web_client: Any, web_seeded: Seeded) -> None:
    response = sign_in(web_client, "titulaire", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Expires=" in cookie
    page = web_client.get("/modules")
    assert (
        page.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    )
    with web_client.session_transaction() as session:
        assert session[session_keys.AUTH_METHOD] == "password"
        session[session_keys.SIGNED_IN_AT] = time.time() - 11 * 3600
    expired = web_client.get("/modules")
    assert expired.status_code == 302 and expired.headers["Location"].endswith("/connexion")
    assert "Votre session a expiré" in text(web_client.get("/connexion"))


def test_idle_sessions_are_refused_by_the_server(web_app: Flask, web_seeded: Seeded) -> None:
    from datetime import timedelta

    client = https_client(web_app)
    sign_in(client, "titulaire", PASSWORD)
    assert client.get("/modules").status_code == 200
    web_app.permanent_session_lifetime = timedelta(seconds=-1)  # the signed cookie's date is now too old
    assert client.get("/modules").status_code == 302


def test_errors_give_french_pages_without_traces(web_app: Flask, web_kernel: Kernel, web_seeded: Seeded) -> None:
    @web_app.route("/panne")
    def broken() -> str:
        raise RuntimeError("détail interne secret")

    client = https_client(web_app)
    sign_in(client, "titulaire", PASSWORD)
    response = client.get("/panne")
    page = text(response)
    assert response.status_code == 500 and "Erreur interne" in page
    assert "Traceback" not in page and "détail interne secret" not in page and "RuntimeError" not in page
    missing = client.get("/nulle-part")
    assert missing.status_code == 404 and "Page introuvable" in text(missing)
    # A plugin's page is there only while the plugin is active in the pharmacy.
    assert client.get("/plugins/ins/").status_code == 404


def test_pro_sante_connect_button_and_session_keys(web_app: Flask, web_kernel: Kernel, web_seeded: Seeded) -> None:
    client = https_client(web_app)
    assert "Pro Santé Connect" not in text(client.get("/connexion"))
    web_kernel.enable(web_seeded.pharmacy_id, "psc")
    page = text(client.get("/connexion"))
    assert "Se connecter avec Pro Santé Connect" in page and 'href="/plugins/psc/login"' in page
    # The psc plugin signs the operator in by setting the documented session keys.
    rpps = _rpps_of_titulaire(web_kernel, web_seeded)
    signed = client.get(f"/plugins/psc/login?rpps={rpps}")
    assert signed.status_code == 302
    assert "Durand-Démo" in text(client.get("/modules"))
    assert _session(client)[session_keys.AUTH_METHOD] == "psc"
    token = csrf_token(client.get("/modules").get_data(as_text=True))
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert client.get("/modules").status_code == 302


def _rpps_of_titulaire(kernel: Kernel, seeded: Seeded) -> str:
    from lgo.domain.pharmacy import Operator

    with kernel.transaction() as db:
        operator = db.get(Operator, seeded.operators["titulaire"])
        assert operator is not None and operator.rpps
        return operator.rpps


def _session(client: Any) -> dict[str, Any]:
    with client.session_transaction() as session:
        return dict(session)


def test_a_database_failure_still_gives_a_french_page(
    web_app: Flask, web_kernel: Kernel, web_seeded: Seeded, monkeypatch: Any
) -> None:
    from sqlalchemy.exc import OperationalError

    client = https_client(web_app)
    sign_in(client, "titulaire", PASSWORD)

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused: server at 10.0.0.9"))

    monkeypatch.setattr(web_kernel, "plugin_states", down)
    monkeypatch.setattr(web_kernel, "active_plugins", down)
    response = client.get("/modules")
    page = text(response)
    assert response.status_code == 500 and "Erreur interne" in page and "10.0.0.9" not in page
