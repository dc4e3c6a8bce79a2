"""The admin page in a real browser: Debian's Chromium driven by Playwright (headless), on a server started by the
test over HTTPS (certificate from the sandbox's test authority). Each page is screenshot-checked."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from web_fakes import MSS_CAPABILITY, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# One backend is enough in the browser: the pages' logic runs on both in test_web_pages.py.
pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    executable = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if executable is None:
        _require_or_skip("Chromium n'est pas installé (paquet Debian « chromium ») : tests dans le navigateur ignorés")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require_or_skip("Playwright n'est pas installé (extra « testing » de lgo-web)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(ignore_https_errors=True, locale="fr-FR", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def base_url(web_kernel: Kernel, web_seeded: Seeded, tmp_path: Path) -> Iterator[str]:
    from lgo_sandbox.pki import TestAuthority, server_context
    from lgo_web import create_app

    authority = TestAuthority(tmp_path / "pki")
    context = server_context(authority.server("admin"), require_client_certificate=False)
    with serving(create_app(web_kernel), context) as url:
        yield url


def screenshot(page: Any, folder: Path, name: str, *expected: str) -> Path:
    """Take a full-page PNG and check it: a real image of a sensible size, on a page showing ``expected``."""
    body = page.inner_text("body")
    for text in expected:
        assert text in body, f"{name}: « {text} » absent de la page"
    assert "Traceback" not in body
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", name
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 300 and len(data) > 10_000, (name, width, height, len(data))
    return path


def test_an_administrator_configures_the_pharmacy_in_the_browser(
    browser_page: Any, base_url: str, web_kernel: Kernel, web_seeded: Seeded, tmp_path: Path
) -> None:
    from lgo.domain.outbox import OutboxMessage, OutboxStatus, enqueue
    from lgo_sandbox.pki import TestAuthority

    page, shots, pharmacy = browser_page, tmp_path / "captures", web_seeded.pharmacy_id
    shots.mkdir()
    with web_kernel.transaction() as db:
        dead = enqueue(db, pharmacy, plugin="dmp", kind="dmp.feed", payload={})
        dead.status, dead.attempts, dead.last_error = OutboxStatus.DEAD, dead.max_attempts, "ConnectError: DMP muet"
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
    p12.write_bytes(TestAuthority(tmp_path / "pki-org").organisation("INSI-AUTO", days=20).pkcs12("phrase p12"))
    page.goto(f"{base_url}/certificat")
    screenshot(page, shots, "07-certificat-absent", "Aucun certificat n'est enregistré")
    page.set_input_files("#file", str(p12))
    page.fill("#passphrase", "phrase p12")
    page.click("button:has-text('Enregistrer le certificat')")
    page.wait_for_selector("text=Certificat enregistré")
    assert "CN=INSI-AUTO" in page.inner_text("#current-certificate .subject")
    screenshot(page, shots, "08-certificat", "CN=INSI-AUTO", "renouvelez-le", "Certificat d'organisation : expire le")

    # Retry a dead letter.
    page.click("nav >> text=Exploitation")
    screenshot(
        page,
        shots,
        "09-exploitation",
        "File d'envoi",
        "ConnectError: DMP muet",
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
