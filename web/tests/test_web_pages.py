"""The admin pages through Flask's test client: sign-in, roles, modules, providers, settings, operations."""

from __future__ import annotations

from typing import Any

from lgo.demo_data import FINESS, PASSWORD, Seeded
from lgo.kernel import Kernel
from web_fakes import MSS_CAPABILITY, post_form, sign_in, text


def test_sign_in_then_every_page_answers_in_french(web_client: Any) -> None:
    assert web_client.get("/modules").headers["Location"].endswith("/connexion")
    page = text(web_client.get("/connexion"))
    assert "Connexion" in page and "Pro Santé Connect" not in page
    response = sign_in(web_client, "titulaire", PASSWORD)
    assert response.status_code == 302
    for path, expected in [
        ("/modules", "Identité nationale de santé"),
        ("/fournisseurs", MSS_CAPABILITY),
        ("/parametres", "Messagerie sécurisée"),
        ("/parametres/ins", "Nombre de relances INS"),
        ("/certificat", "Aucun certificat"),
        ("/exploitation", "File d'envoi"),
    ]:
        answer = web_client.get(path)
        assert answer.status_code == 200, path
        assert expected in text(answer), path


def test_enable_a_module_with_its_dependency_and_the_wave_1_and_wave_2_actions(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    pharmacy = web_seeded.pharmacy_id
    sign_in(web_client, "admin", PASSWORD)
    page = text(web_client.get("/modules"))
    assert "« vaccination » nécessite « ins »" in page and "Activer avec ins" in page
    assert "vague 2" in page and "0.4.2" in page
    assert "incompatible" in page and "demande l'API de plugins >=0.1,<1" in page
    assert "en échec" in page and "échec au démarrage : RuntimeError: fichier de configuration introuvable" in page

    response = post_form(web_client, "/modules", "/modules/vaccination/activer", follow_redirects=True)
    assert "Module(s) activé(s) : ins, vaccination." in text(response)
    assert web_kernel.active_plugins(pharmacy) >= {"ins", "vaccination"}

    response = post_form(web_client, "/modules", "/modules/ins/desactiver", follow_redirects=True)
    assert "« ins » est nécessaire à « vaccination » : désactivez-les d'abord." in text(response)
    assert web_kernel.is_active(pharmacy, "ins")

    response = post_form(web_client, "/modules", "/modules/vague-1/activer", follow_redirects=True)
    assert "Modules de la vague 1 activés : dmp, mssante." in text(response)
    assert {"dmp", "mssante"} <= web_kernel.active_plugins(pharmacy)
    assert "psc" not in web_kernel.active_plugins(pharmacy)  # wave 2 stays off

    post_form(web_client, "/modules", "/modules/vaccination/desactiver")
    assert not web_kernel.is_active(pharmacy, "vaccination")

    page = text(web_client.get("/modules"))
    assert "Activer les modules Ségur de la vague 2" in page and "Activer les modules Ségur de la vague 1" not in page
    response = post_form(web_client, "/modules", "/modules/vague-2/activer", follow_redirects=True)
    assert "Modules de la vague 2 activés : psc, vaccination." in text(response)  # not the vendor's « piege »
    assert {"psc", "vaccination"} <= web_kernel.active_plugins(pharmacy)
    assert "Activer les modules Ségur de la vague" not in text(web_client.get("/modules"))
    assert post_form(web_client, "/modules", "/modules/vague-3/activer").status_code == 404


def test_switch_the_secure_mail_provider(web_client: Any, web_kernel: Kernel, web_seeded: Seeded) -> None:
    sign_in(web_client, "titulaire", PASSWORD)
    page = text(web_client.get("/fournisseurs"))
    assert "Mailiz (boîte nominative)" in page and "Boîte organisationnelle" in page
    for choice in ("mailiz", "organisationnelle"):
        response = post_form(
            web_client,
            "/fournisseurs",
            "/fournisseurs",
            {"capability": MSS_CAPABILITY, "provider": choice},
            follow_redirects=True,
        )
        assert f"Fournisseur « {choice} » choisi" in text(response)
        assert web_kernel.selected_provider(web_seeded.pharmacy_id, MSS_CAPABILITY) == choice
    response = post_form(
        web_client,
        "/fournisseurs",
        "/fournisseurs",
        {"capability": MSS_CAPABILITY, "provider": "apicrypt"},
        follow_redirects=True,
    )
    assert "Fournisseur « apicrypt » inconnu" in text(response)
    assert web_kernel.selected_provider(web_seeded.pharmacy_id, MSS_CAPABILITY) == "organisationnelle"


def test_settings_forms_validate_in_french_and_the_kernel_applies_them(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    pharmacy = web_seeded.pharmacy_id
    sign_in(web_client, "admin", PASSWORD)
    web_kernel.enable(pharmacy, "ins")

    bad = post_form(
        web_client,
        "/parametres/ins",
        "/parametres/ins",
        {"reprompt_count": "42", "endpoint": "pas une adresse", "mode": "auto"},
    )
    page = text(bad)
    assert bad.status_code == 400
    assert "La valeur doit être inférieure ou égale à 10." in page and "Adresse (URL) invalide." in page
    assert web_kernel.plugin_settings(pharmacy, "ins").reprompt_count == 3  # type: ignore[attr-defined]

    good = post_form(
        web_client,
        "/parametres/ins",
        "/parametres/ins",
        {"reprompt_count": "5", "endpoint": "https://insi.example.test/ws", "mode": "auto"},
        follow_redirects=True,
    )
    assert "Paramètres de « Identité nationale de santé » enregistrés." in text(good)
    assert web_kernel.plugin_settings(pharmacy, "ins").reprompt_count == 5  # type: ignore[attr-defined]
    # The plugin's own admin page, mounted by the kernel's registration hook, reads the new value.
    plugin_page = text(web_client.get("/plugins/ins/"))
    assert "Relances INS : 5" in plugin_page
    assert 'href="/plugins/ins/"' in text(web_client.get("/modules"))

    mss = {
        "endpoint": "https://mss.example.test/",
        "mailbox": "officine@pharmacie.mssante.fr",
        "password": "mot-de-passe-boite",
    }
    post_form(web_client, "/parametres/mssante", "/parametres/mssante", mss)
    stored = web_kernel.plugin_settings(pharmacy, "mssante")
    assert stored.password.get_secret_value() == "mot-de-passe-boite"  # type: ignore[attr-defined]
    page = text(web_client.get("/parametres/mssante"))
    assert "mot-de-passe-boite" not in page and "Laisser vide pour conserver" in page
    # An empty password field keeps the stored secret; a plugin's own validator speaks French.
    post_form(web_client, "/parametres/mssante", "/parametres/mssante", {**mss, "password": ""})
    stored = web_kernel.plugin_settings(pharmacy, "mssante")
    assert stored.password.get_secret_value() == "mot-de-passe-boite"  # type: ignore[attr-defined]
    refused = post_form(
        web_client, "/parametres/mssante", "/parametres/mssante", {**mss, "mailbox": "officine@gmail.com"}
    )
    assert "L'adresse doit appartenir à l'espace de confiance" in text(refused)

    page = text(web_client.get("/parametres/dmp"))
    assert "Alimentation automatique du DMP par type de document" in page and "entretien" in page
    post_form(web_client, "/parametres/dmp", "/parametres/dmp", {"auto_feed__entretien": "y"})
    assert web_kernel.plugin_settings(pharmacy, "dmp").auto_feed == {  # type: ignore[attr-defined]
        "vaccination": False,
        "entretien": True,
        "bilan_medication": False,
    }


def test_operations_show_outbox_health_failures_and_retry_a_dead_letter(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    from lgo.db import utcnow
    from lgo.domain.outbox import OutboxMessage, OutboxStatus, enqueue
    from lgo.domain.plugin_state import PluginFailure

    pharmacy = web_seeded.pharmacy_id
    with web_kernel.transaction() as db:
        dead = enqueue(db, pharmacy, plugin="dmp", kind="dmp.feed", payload={})
        dead.status = OutboxStatus.DEAD
        dead.attempts = dead.max_attempts
        dead.last_error = "ConnectError: [Errno 111] Connection refused"
        dead.last_error_fr = "Le service ne répond pas ou la connexion sécurisée a échoué."
        done = enqueue(db, pharmacy, plugin="mssante", kind="mssante.send", payload={})
        done.status = OutboxStatus.DELIVERED
        done.delivered_at = utcnow()
        db.add(
            PluginFailure(
                pharmacy_id=pharmacy,
                plugin="dmp",
                hook="lgo_on_billing_end",
                error_type="KeyError",
                message="'type_code'",
                traceback="Traceback (most recent call last):\n  secret line",
            )
        )
        dead_id = dead.id
    sign_in(web_client, "titulaire", PASSWORD)
    page = text(web_client.get("/exploitation"))
    assert "en échec définitif : 1" in page and "Le service ne répond pas ou la connexion sécurisée a échoué." in page
    assert "ConnectError" not in page and "Connection refused" not in page  # the technical error stays in the log
    assert "dmp.feed" in page and "en échec" in page and "fonctionne" in page
    assert "lgo_on_billing_end" in page and "Traceback" not in page and "secret line" not in page
    assert "lgo_startup" in page and "fichier de configuration introuvable" in page

    response = post_form(
        web_client, "/exploitation", f"/exploitation/messages/{dead_id}/relancer", follow_redirects=True
    )
    assert f"Message n° {dead_id} remis en file d'envoi." in text(response)
    with web_kernel.transaction() as db:
        message = db.get(OutboxMessage, dead_id)
        assert message is not None and message.status == OutboxStatus.PENDING
    assert "outbox.retry" in text(web_client.get("/exploitation"))


def test_organisation_certificate_upload_shows_subject_and_expiry(
    web_client: Any, web_seeded: Seeded, tmp_path: Any
) -> None:
    import io

    from lgo_sandbox.pki import TestAuthority

    authority = TestAuthority(tmp_path / "pki")
    soon = authority.organisation("INSI-AUTO", finess=FINESS, days=10).pkcs12("phrase du p12")
    sign_in(web_client, "titulaire", PASSWORD)
    wrong = post_form(
        web_client,
        "/certificat",
        "/certificat",
        {"file": (io.BytesIO(soon), "org.p12"), "passphrase": "mauvaise"},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 400 and "mot de passe incorrect" in text(wrong)
    done = post_form(
        web_client,
        "/certificat",
        "/certificat",
        {"file": (io.BytesIO(soon), "org.p12"), "passphrase": "phrase du p12"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = text(done)
    assert "Certificat enregistré" in page and "renouvelez-le" in page
    assert f"PHARMACIE DU BAC A SABLE, FINESS {FINESS}, INSI-AUTO" in page and "IGC-Santé, autorité de test" in page
    assert "CN=" not in page and "2.5.4." not in page
    assert "Certificat d'organisation : expire le" in text(web_client.get("/modules"))
