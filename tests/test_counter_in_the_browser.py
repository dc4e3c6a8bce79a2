"""Acceptance of « Le comptoir (1) » in Debian's Chromium driven by Playwright, keyboard only, against the real
plugins and the sandboxes: a VGP vaccination billed by a préparateur, the note window, the pharmacist chosen, the
note validated and listed by the DMP sandbox (the headline keystroke figure); every screen screenshotted and
checked with axe-core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import lgo_dmp.plugin
import lgo_ins.plugin
import lgo_vaccination.plugin
import pytest
from counter_browser import Keyboard, check_accessibility, record_keystrokes, serving
from lgo import gs1
from lgo.demo_data import PASSWORD, Seeded
from lgo.domain.pharmacy import Pharmacy
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo.worker import Worker
from lgo_dmp import service as dmp
from lgo_sandbox.pki import TestAuthority
from segur_helpers import dmp_test_patient, qualify

pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


@pytest.fixture
def page() -> Iterator[Any]:
    from lgo_sandbox import browser

    try:
        with browser.chromium_page() as opened:
            yield opened
    except browser.BrowserUnavailable as exc:
        _require_or_skip(f"{exc} : tests du comptoir dans le navigateur ignorés")


@pytest.fixture
def segur(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from lgo_sandbox.dmp import start_dmp_sandbox

    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_dmp.plugin, lgo_vaccination.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    for name in ("ins", "dmp", "vaccination"):
        kernel.enable(pharmacy, name)
    authority = TestAuthority(tmp_path / "pki")
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
    organisation = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
    server, sandbox = start_dmp_sandbox(authority, seed=11)
    kernel.save_plugin_settings(
        pharmacy,
        "dmp",
        {
            "endpoint": server.url,
            "certificate_path": str(organisation.cert_path),
            "key_path": str(organisation.key_path),
            "ca_path": str(organisation.ca_path),
        },
    )
    try:
        yield {"kernel": kernel, "seeded": lgo_seeded, "sandbox": sandbox}
    finally:
        server.stop()


def _sign_in(page: Any, base: str, code: str) -> None:
    page.goto(f"{base}/connexion")
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/comptoir/")


def _shot(page: Any, folder: Path, name: str, *expected: str) -> None:
    from lgo_sandbox import browser

    browser.screenshot(page, folder, name, *expected)
    check_accessibility(page, name)


def test_a_preparer_bills_a_flu_vaccination_and_the_pharmacist_s_note_reaches_the_dmp(
    page: Any, segur: dict[str, Any], tmp_path: Path
) -> None:
    from lgo_sandbox import browser

    kernel, seeded = segur["kernel"], segur["seeded"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    patient = qualify(kernel, seeded, dmp_test_patient(), tmp_path)  # INS qualifiée: no INS window this time
    shots = browser.screenshots_dir(tmp_path / "captures")
    box = gs1.element_string(
        seeded.products["grippe"], expiry=date.today() + timedelta(days=150), lot="VGD24-117", serial="SERIE0042"
    )
    with serving(kernel) as base:
        _sign_in(page, base, "preparatrice")
        keys = Keyboard(page)
        keys.type("ins jea")
        page.wait_for_selector("[data-result]")
        _shot(page, shots, "01-recherche", "INS-FAMILLE-UN", "JEAN-MICHEL")
        keys.press("Enter")
        page.wait_for_url(f"{base}/comptoir/f/*")
        _shot(page, shots, "02-facturation-vide", "Identité qualifiée", "Sans ordonnance médicale")
        keys.scan(box)  # the vaccine box under the reader
        page.wait_for_selector("text=n° série SERIE0042")
        keys.type("VGP")
        keys.press("Enter")
        page.wait_for_selector("text=acte VGP")
        _shot(page, shots, "03-facturation-vgp", "VGD24-117", "Vaccination contre la grippe", "Part patient")
        keys.press("F10")
        page.wait_for_selector("#fenetre")
        _shot(page, shots, "04-note-de-vaccination", "Vérifier la note de vaccination", "VGD24-117", "Vaccinateur")
        assert page.evaluate("document.activeElement.id") == "vaccinator_id"  # the préparateur picks the pharmacist
        keys.type("C")  # Claire Durand-Démo, pharmacienne titulaire
        keys.press("Enter")
        page.wait_for_selector("#fenetre", state="detached")
        _shot(page, shots, "05-facture-validee", "validée", "Patient suivant")
        record_keystrokes(
            "vaccination",
            keys,
            "VGP facturé par une préparatrice, de la recherche du patient à la note de vaccination validée "
            "(patient déjà qualifié ; vaccin scanné)",
        )
        assert keys.keys <= 15, keys.log  # Actipharm's guide: at least 12 steps after the search, each a key or more

    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy)
    for _ in range(10):
        if not worker.drain():
            break
    listed = dmp.list_documents(kernel, pharmacy, titulaire, patient)
    assert [entry.type_code for entry in listed] == ["87273-9"]  # the note de vaccination, in the DMP sandbox
