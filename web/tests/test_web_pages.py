"""The admin pages through Flask's test client: sign-in, roles, modules, providers, settings, operations."""

from __future__ import annotations

from typing import Any

from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from web_fakes import MSS_CAPABILITY, post_form, sign_in


def test_sign_in_then_every_page_answers_in_french(web_client: Any) -> None:
    assert web_client.get("/modules").headers["Location"].endswith("/connexion")
    page = web_client.get("/connexion").get_data(as_text=True)
    assert "Connexion" in page and "Pro Santé Connect" not in page
    response = sign_in(web_client, "titulaire", PASSWORD)
    assert response.status_code == 302
    for path, text in [("/modules", "Identité nationale de santé"), ("/fournisseurs", MSS_CAPABILITY),
                       ("/parametres", "Messagerie sécurisée"), ("/parametres/ins", "Nombre de relances INS"),
                       ("/certificat", "Aucun certificat"), ("/exploitation", "File d'envoi")]:
        answer = web_client.get(path)
        assert answer.status_code == 200, path
        assert text in answer.get_data(as_text=True), path
