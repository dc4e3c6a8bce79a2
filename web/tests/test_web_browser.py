"""The admin page in a real browser: Debian's Chromium driven by Playwright (headless), on a server started by the
test over HTTPS (certificate from the sandbox's test authority). Each page is screenshot-checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lgo.demo_data import FINESS, PASSWORD, Seeded
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo_sandbox.browser import BrowserUnavailable, chromium_page, screenshot
from web_fakes import MSS_CAPABILITY, serving

# One backend is enough in the browser: the pages' logic runs on both in test_web_pages.py.
pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


@pytest.fixture
def browser_page() -> Iterator[Any]:
    try:
        with chromium_page() as page:
            yield page
    except BrowserUnavailable as exc:
        _require_or_skip(f"{exc} : tests dans le navigateur ignorés")


@pytest.fixture
def base_url(web_kernel: Kernel, web_seeded: Seeded, tmp_path: Path) -> Iterator[str]:
    from lgo_sandbox.pki import TestAuthority, server_context
    from lgo_web import create_app

    authority = TestAuthority(tmp_path / "pki")
    context = server_context(authority.server("admin"), require_client_certificate=False)
    with serving(create_app(web_kernel), context) as url:
        yield url


def test_an_administrator_configures_the_pharmacy_in_the_browser(
    browser_page: Any, base_url: str, web_kernel: Kernel, web_seeded: Seeded, tmp_path: Path
) -> None:
    from lgo.domain.outbox import OutboxMessage, OutboxStatus, enqueue
    from lgo_sandbox.pki import TestAuthority

    page, shots, pharmacy = browser_page, tmp_path / "captures", web_seeded.pharmacy_id
    shots.mkdir()
    with web_kernel.transaction() as db:
        dead = enqueue(db, pharmacy, plugin="dmp", kind="dmp.feed", payload={})
        dead.status, dead.attempts = OutboxStatus.DEAD, dead.max_attempts
        dead.last_error, dead.last_error_fr = "ConnectError: DMP muet", "Le service ne répond pas."
        dead_id = dead.id

    # Sign in.
    page.goto(f"{base_url}/modules")
    assert page.url.endswith("/connexion")
    screenshot(page, shots, "01-connexion", "Connexion", "FINESS")
    page.fill("#code", "admin")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Se connecter')")
    page.wait_for_url("**/modules")

    # Enable a module with its dependency.
    screenshot(page, shots, "02-modules", "Modules", "« vaccination » nécessite « ins »", "vague 2")
    page.click("#module-vaccination button:has-text('Activer avec ins')")
    page.wait_for_selector("text=Module(s) activé(s) : ins, vaccination.")
    assert web_kernel.active_plugins(pharmacy) >= {"ins", "vaccination"}
    assert page.inner_text("#module-vaccination .state") == "actif"
    screenshot(page, shots, "03-modules-actives", "Module(s) activé(s) : ins, vaccination.")

    # Switch the secure-mail provider.
    page.click("nav >> text=Fournisseurs")
    page.select_option(f"#provider-{MSS_CAPABILITY}", "organisationnelle")
    page.click(f"#capability-{MSS_CAPABILITY} button:has-text('Choisir')")
    page.wait_for_selector("text=Fournisseur « organisationnelle » choisi")
    assert web_kernel.selected_provider(pharmacy, MSS_CAPABILITY) == "organisationnelle"
    page.select_option(f"#provider-{MSS_CAPABILITY}", "mailiz")
    page.click(f"#capability-{MSS_CAPABILITY} button:has-text('Choisir')")
    page.wait_for_selector("text=Fournisseur « mailiz » choisi")
    assert web_kernel.selected_provider(pharmacy, MSS_CAPABILITY) == "mailiz"
    screenshot(page, shots, "04-fournisseurs", "Mailiz (boîte nominative)", "Fournisseur actuel : mailiz")

    # Change a setting: refused in French first, then applied by the kernel and seen by the plugin's own page.
    page.goto(f"{base_url}/parametres/ins")
    page.fill("#reprompt_count", "12")
    page.click("button:has-text('Enregistrer')")
    page.wait_for_selector("text=La valeur doit être inférieure ou égale à 10.")
    screenshot(page, shots, "05-parametres-erreur", "Nombre de relances INS", "inférieure ou égale à 10")
    page.fill("#reprompt_count", "6")
    page.click("button:has-text('Enregistrer')")
    page.wait_for_selector("text=Paramètres de « Identité nationale de santé » enregistrés.")
    assert web_kernel.plugin_settings(pharmacy, "ins").reprompt_count == 6  # type: ignore[attr-defined]
    screenshot(page, shots, "06-parametres", "enregistrés")
    page.click("nav >> text=Identité nationale de santé")
    page.wait_for_selector("text=Relances INS : 6")

    # Upload the organisation certificate.
    p12 = tmp_path / "organisation.p12"
    p12.write_bytes(
        TestAuthority(tmp_path / "pki-org").organisation("INSI-AUTO", finess=FINESS, days=20).pkcs12("phrase p12")
    )
    page.goto(f"{base_url}/certificat")
    screenshot(page, shots, "07-certificat-absent", "Aucun certificat n'est enregistré")
    page.set_input_files("#file", str(p12))
    page.fill("#passphrase", "phrase p12")
    page.click("button:has-text('Enregistrer le certificat')")
    page.wait_for_selector("text=Certificat enregistré")
    assert page.inner_text("#certificate-organisation .subject") == "INSI-AUTO"
    screenshot(
        page, shots, "08-certificat", f"FINESS {FINESS}", "renouvelez-le", "Certificat d'organisation : expire le"
    )

    # Retry a dead letter.
    page.click("nav >> text=Exploitation")
    screenshot(
        page,
        shots,
        "09-exploitation",
        "File d'envoi",
        "Le service ne répond pas.",
        "Services nationaux",
        "Journal d'audit",
    )
    page.click(f"#message-{dead_id} button:has-text('Relancer')")
    page.wait_for_selector(f"text=Message n° {dead_id} remis en file d'envoi.")
    with web_kernel.transaction() as db:
        message = db.get(OutboxMessage, dead_id)
        assert message is not None and message.status == OutboxStatus.PENDING
    screenshot(page, shots, "10-exploitation-relance", "remis en file d'envoi")

    # Sign out.
    page.click("button:has-text('Se déconnecter')")
    page.wait_for_url("**/connexion")
    assert len(list(shots.glob("*.png"))) == 10


def test_a_preparateur_sees_read_only_pages_in_the_browser(browser_page: Any, base_url: str, tmp_path: Path) -> None:
    page = browser_page
    page.goto(f"{base_url}/connexion")
    page.fill("#code", "preparatrice")
    page.fill("#password", "pas-le-bon")
    page.click("button:has-text('Se connecter')")
    page.wait_for_selector("text=Code ou mot de passe incorrect.")
    page.fill("#code", "preparatrice")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Se connecter')")
    page.wait_for_url("**/comptoir/")  # an operator who is not the administrator lands at the counter
    page.goto(f"{base_url}/modules")
    assert page.locator("button:has-text('Activer')").count() == 0
    screenshot(page, tmp_path, "preparateur-modules", "lecture seule", "Modules")
    page.goto(f"{base_url}/parametres/mssante")
    assert page.locator("button:has-text('Enregistrer')").count() == 0
    screenshot(page, tmp_path, "preparateur-parametres", "Messagerie sécurisée", "Boîte aux lettres")
    page.goto(f"{base_url}/nulle-part")
    screenshot(page, tmp_path, "page-introuvable", "Page introuvable", "Revenir à l'accueil")
