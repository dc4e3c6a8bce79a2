"""« Équipe » and « Officine »: the team is managed on the page by a titulaire or an administrator only, the last
administrator stays, a new operator replaces the temporary password at the first sign-in, and test mode is a
setting shown by a banner on every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lgo.demo_data import PASSWORD, Seeded
from lgo.domain.audit import AuditEntry
from lgo.domain.pharmacy import Operator, Pharmacy, Role
from lgo.kernel import Kernel
from sqlalchemy import select
from web_fakes import post_form, sign_in, text

pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


def _operator(kernel: Kernel, pharmacy_id: int, code: str) -> Operator:
    with kernel.transaction() as db:
        found = db.scalar(select(Operator).where(Operator.pharmacy_id == pharmacy_id, Operator.code == code))
        assert found is not None
        db.expunge(found)
        return found


def _create(client: Any, **fields: str) -> Any:
    return post_form(client, "/equipe/nouveau", "/equipe/nouveau", fields)


def test_an_administrator_creates_the_team_on_the_page(web_client: Any, web_kernel: Kernel, web_seeded: Seeded) -> None:
    pharmacy = web_seeded.pharmacy_id
    sign_in(web_client, "admin", PASSWORD)
    assert "Équipe" in text(web_client.get("/modules"))
    listing = text(web_client.get("/equipe"))
    assert "Claire Durand-Démo" in listing and "Modifier les paramètres" in listing  # habilitations in words

    refused = _create(web_client, code="bmartin", last_name="Martin", first_name="Bruno", role="titulaire", rpps="")
    assert refused.status_code == 400 and "doit avoir un numéro RPPS" in text(refused)
    created = _create(
        web_client, code="bmartin", last_name="Martin", first_name="Bruno", role="titulaire", rpps="99999000021"
    )
    page = text(created)
    assert created.status_code == 200 and "Opérateur créé" in page and "il ne sera plus affiché" in page
    temporary = re.search(r'id="password-value">([^<]+)<', created.get_data(as_text=True))
    assert temporary is not None
    bruno = _operator(web_kernel, pharmacy, "bmartin")
    assert bruno.role == Role.TITULAIRE and bruno.must_change_password and bruno.check_password(temporary.group(1))
    assert {h.habilitation for h in bruno.habilitations} >= {"stock.force", "settings.edit"}  # the role's defaults
    taken = _create(web_client, code="bmartin", last_name="M", first_name="B", role="preparateur", rpps="")
    assert "déjà utilisé" in text(taken)

    edited = post_form(
        web_client,
        f"/equipe/{bruno.id}",
        f"/equipe/{bruno.id}",
        {
            "last_name": "Martin",
            "first_name": "Bruno",
            "role": "pharmacien_adjoint",
            "rpps": "99999000021",
            "habilitations": ["stock.force"],
        },
        follow_redirects=True,
    )
    assert "Opérateur modifié : Bruno Martin." in text(edited)
    bruno = _operator(web_kernel, pharmacy, "bmartin")
    assert bruno.role == Role.ADJOINT and {h.habilitation for h in bruno.habilitations} == {"stock.force"}
    with web_kernel.transaction() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "team.updated")).one()
        assert entry.operator_id == web_seeded.operators["admin"]
        assert "par Marc Petit-Démo" in entry.message_fr and "retirées : Corriger l'ordonnancier" in entry.message_fr

    disabled = post_form(web_client, f"/equipe/{bruno.id}", f"/equipe/{bruno.id}/desactiver", follow_redirects=True)
    assert "Bruno Martin est désactivé" in text(disabled)
    assert not _operator(web_kernel, pharmacy, "bmartin").active
    again = post_form(web_client, f"/equipe/{bruno.id}", f"/equipe/{bruno.id}/reactiver", follow_redirects=True)
    assert "Bruno Martin est réactivé" in text(again)
    assert web_client.get("/equipe/999999").status_code == 404


def test_the_last_administrator_cannot_be_disabled_nor_lose_the_role(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    pharmacy, admin = web_seeded.pharmacy_id, web_seeded.operators["admin"]
    sign_in(web_client, "titulaire", PASSWORD)
    refused = post_form(web_client, f"/equipe/{admin}", f"/equipe/{admin}/desactiver", follow_redirects=True)
    assert "Marc Petit-Démo est le dernier administrateur actif de l'officine" in text(refused)
    demoted = post_form(
        web_client,
        f"/equipe/{admin}",
        f"/equipe/{admin}",
        {"last_name": "Petit-Démo", "first_name": "Marc", "role": "preparateur", "rpps": ""},
    )
    assert demoted.status_code == 400 and "dernier administrateur actif" in text(demoted)
    assert _operator(web_kernel, pharmacy, "admin").active
    assert _operator(web_kernel, pharmacy, "admin").role == Role.ADMINISTRATEUR

    _create(web_client, code="admin2", last_name="Second", first_name="Admin", role="administrateur", rpps="")
    done = post_form(web_client, f"/equipe/{admin}", f"/equipe/{admin}/desactiver", follow_redirects=True)
    assert "Marc Petit-Démo est désactivé" in text(done)  # another administrator remains


@pytest.mark.parametrize("code", ["preparatrice", "adjoint"])
def test_a_preparateur_or_an_adjoint_cannot_manage_the_team(
    code: str, web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    titulaire = web_seeded.operators["titulaire"]
    sign_in(web_client, code, PASSWORD)
    assert "Équipe" not in text(web_client.get("/modules"))
    assert web_client.get("/equipe").status_code == 403
    assert web_client.get(f"/equipe/{titulaire}").status_code == 403
    for path, data in [
        ("/equipe/nouveau", {"code": "intrus", "last_name": "I", "first_name": "I", "role": "administrateur"}),
        (f"/equipe/{titulaire}/desactiver", {}),
        (f"/equipe/{titulaire}/mot-de-passe", {}),
    ]:
        response = post_form(web_client, "/modules", path, data)
        assert response.status_code == 403 and "Votre rôle ne permet pas cette action." in text(response), path
    with web_kernel.transaction() as db:
        assert db.scalar(select(Operator).where(Operator.code == "intrus")) is None
    assert _operator(web_kernel, web_seeded.pharmacy_id, "titulaire").active


def test_a_temporary_password_is_replaced_at_the_first_sign_in(
    web_app: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    from web_fakes import https_client

    pharmacy, preparatrice = web_seeded.pharmacy_id, web_seeded.operators["preparatrice"]
    admin = https_client(web_app)
    sign_in(admin, "admin", PASSWORD)
    reset = post_form(admin, f"/equipe/{preparatrice}", f"/equipe/{preparatrice}/mot-de-passe")
    temporary = re.search(r'id="password-value">([^<]+)<', reset.get_data(as_text=True))
    assert reset.status_code == 200 and temporary is not None and "Mot de passe réinitialisé" in text(reset)
    assert not _operator(web_kernel, pharmacy, "preparatrice").check_password(PASSWORD)

    client = https_client(web_app)
    assert sign_in(client, "preparatrice", temporary.group(1)).status_code == 302
    forced = client.get("/modules")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/mot-de-passe")
    page = text(client.get("/mot-de-passe"))
    assert "Vous vous êtes connecté avec un mot de passe provisoire" in page
    mismatch = post_form(
        client,
        "/mot-de-passe",
        "/mot-de-passe",
        {"current": temporary.group(1), "new": "mon-secret-1", "confirmation": "mon-secret-2"},
    )
    assert mismatch.status_code == 400 and "différentes" in text(mismatch)
    done = post_form(
        client,
        "/mot-de-passe",
        "/mot-de-passe",
        {"current": temporary.group(1), "new": "mon-secret-1", "confirmation": "mon-secret-1"},
        follow_redirects=True,
    )
    assert "Votre mot de passe est enregistré." in text(done) and "Rechercher" in text(done)  # at the counter
    chosen = _operator(web_kernel, pharmacy, "preparatrice")
    assert not chosen.must_change_password and chosen.check_password("mon-secret-1")
    assert not chosen.check_password(temporary.group(1))


def test_test_mode_is_set_on_the_pharmacy_page_and_shown_on_every_page(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    pharmacy = web_seeded.pharmacy_id
    sign_in(web_client, "titulaire", PASSWORD)
    fields = {"name": "Pharmacie des Tilleuls", "address": "1 rue", "postal_code": "99100", "city": "Villedémo"}
    to_production = post_form(
        web_client, "/officine", "/officine", {**fields, "mode": "production"}, follow_redirects=True
    )
    assert "L'officine est en production" in text(to_production)
    for path in ("/modules", "/officine", "/certificat", "/parametres/ins"):
        assert "test-mode-banner" not in text(web_client.get(path)), path
    wrong = post_form(web_client, "/officine", "/officine", {**fields, "postal_code": "991", "mode": "test"})
    assert wrong.status_code == 400 and "Le code postal compte 5 chiffres." in text(wrong)
    post_form(web_client, "/officine", "/officine", {**fields, "mode": "test"})
    with web_kernel.transaction() as db:
        stored = db.get(Pharmacy, pharmacy)
        assert stored is not None and stored.test_mode and stored.name == "Pharmacie des Tilleuls"
        modes = db.scalars(select(AuditEntry).where(AuditEntry.action == "pharmacy.mode")).all()
        assert [e.operator_id for e in modes] == [web_seeded.operators["titulaire"]] * 2
    for path in ("/modules", "/officine", "/certificat", "/parametres/ins", "/exploitation", "/equipe"):
        page = text(web_client.get(path))
        assert 'id="test-mode-banner"' in page and "l'officine utilise les plateformes nationales de test" in page, path
