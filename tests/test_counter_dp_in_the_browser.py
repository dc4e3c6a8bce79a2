"""The Dossier Pharmaceutique at the counter, in Debian's Chromium driven by Playwright, keyboard only, against the
DP sandbox (mutual TLS) and two pharmacies: the DP key of the patient banner opens the 12-month history with another
pharmacy's line, its lot and the duplicate flagged against the billing, and ``Alt+P`` the patient's file with the same
history in its DP section (fetched after the page); a patient without a qualified INS gets the clear refusal, at the
DP key and in the file; a recall pushed by the DP blocks every page of two counters (two browser contexts, two
operators) until one acknowledgement frees both. Every screen screenshotted and checked with axe-core; keystrokes
counted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import lgo_dp.plugin
import lgo_ins.plugin
import pytest
from counter_browser import Keyboard, check_accessibility, record_keystrokes, serving
from lgo.counter import Counter
from lgo.demo_data import PASSWORD, Seeded, seed
from lgo.domain.audit import AuditEntry
from lgo.domain.dispensing import create_prescription
from lgo.domain.pharmacy import Pharmacy
from lgo.identifiers import with_luhn
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo.worker import Worker
from lgo_dp import api as dp
from lgo_dp.model import DpBulletin
from lgo_sandbox.dp import start_dp_sandbox
from lgo_sandbox.pki import TestAuthority
from sqlalchemy import select
from test_dp_end_to_end import _qualify

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
def dp_world(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path
) -> Iterator[tuple[Kernel, Any, Seeded, Seeded]]:
    """Pharmacy A (the counter under test) and pharmacy B (another pharmacy of the same DP), both on the sandbox."""
    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_dp.plugin)
    with kernel.transaction() as session:
        b = seed(session, finess=with_luhn("99000002"))
    authority = TestAuthority(tmp_path / "pki")
    server, sandbox = start_dp_sandbox(authority)
    for pharmacy, name in ((lgo_seeded, "PHARMACIE DES TILLEULS"), (b, "PHARMACIE DU MARCHE")):
        with kernel.transaction() as session:
            finess = session.get(Pharmacy, pharmacy.pharmacy_id).finess  # type: ignore[union-attr]
        authority.organisation("DP", finess=finess, organisation=name).store_for(kernel, pharmacy.pharmacy_id)
        kernel.enable(pharmacy.pharmacy_id, "dp", with_dependencies=True)
        kernel.enable(pharmacy.pharmacy_id, "ins")
        kernel.select_provider(pharmacy.pharmacy_id, "dp", "json")
        kernel.save_plugin_settings(pharmacy.pharmacy_id, "dp", {"endpoint": server.url})
    try:
        yield kernel, sandbox, lgo_seeded, b
    finally:
        server.stop()


def _turn(kernel: Kernel, pharmacy: Seeded) -> None:
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy.pharmacy_id)
    worker.run_periodic(force=True)
    for _ in range(5):
        if not worker.run_once():
            break


def _dispense(kernel: Kernel, pharmacy: Seeded, key: str, product: str, lot: str) -> None:
    patient = pharmacy.patients[key]
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, pharmacy.pharmacy_id, patient, prescriber_name="Dr Démo", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy.pharmacy_id, pharmacy.operators["titulaire"])
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, pharmacy.products[product], 1, lot_number=lot)
    counter.end_billing(billing)


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


def test_the_dp_history_at_the_counter_and_a_recall_blocking_two_counters_until_one_acknowledges(
    page: Any, dp_world: tuple[Kernel, Any, Seeded, Seeded], tmp_path: Path
) -> None:
    from lgo_sandbox import browser

    kernel, sandbox, a, b = dp_world
    shots = browser.screenshots_dir(tmp_path / "captures")
    for pharmacy in (a, b):
        _qualify(kernel, pharmacy, "camille")
    # Pharmacy B created Camille's DP and gave her amoxicilline (lot AM24C); A sold the same lot to Léa.
    dp.create(kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"])
    _turn(kernel, b)
    _dispense(kernel, b, "camille", "amoxicilline", lot="AM24C")
    _turn(kernel, b)
    Counter(kernel, a.pharmacy_id, a.operators["titulaire"]).select_patient(a.patients["camille"])
    _turn(kernel, a)  # A learns in the background that Camille has a DP: no creation window at the counter
    _dispense(kernel, a, "lea", "amoxicilline", lot="AM24C")

    with kernel.transaction() as session:
        finess = session.get(Pharmacy, a.pharmacy_id).finess  # type: ignore[union-attr]
    with serving(kernel, finess) as base:
        _sign_in(page, base, "titulaire")
        keys = Keyboard(page)
        keys.open_patient(base, "mart cam")
        _shot(page, shots, "dp-01-bandeau", "Dossier Pharmaceutique", "Alt+D : consulter le DP", "DP :")
        keys.type(a.products["amoxicilline"])  # the line field has the focus: amoxicilline on the billing
        keys.press("Enter")
        page.wait_for_selector("text=CIP13 " + a.products["amoxicilline"])
        keys.press("Alt+D")
        page.wait_for_selector("#fenetre .dp-history")
        _shot(
            page,
            shots,
            "dp-02-historique",
            "Dossier Pharmaceutique — 12 derniers mois",
            "PHARMACIE DU MARCHE",
            "AM24C",
            "même substance (doublon)",
        )
        assert page.locator("#fenetre tr.refused").count() == 1  # B's amoxicilline, flagged against the billing
        keys.press("Enter")  # Fermer
        page.wait_for_selector("#fenetre", state="detached")
        record_keystrokes(
            "dp_consultation",
            keys,
            "Consultation du DP au comptoir : recherche du patient, produit saisi, historique à 12 mois de toutes "
            "les officines (lot, officine, doublon signalé), fermeture",
        )
        assert keys.keys <= 30, keys.log

        # The patient's file (Alt+P from the billing): the DP section's history arrives after the page, the same
        # lines as the window, with their lot and pharmacy.
        page.wait_for_selector("#entry:focus")
        keys.press("Alt+P")
        page.wait_for_url(f"{base}/comptoir/patients/*/dossier*")
        page.wait_for_selector("#dp .fragment[data-loaded='ok'] .dp-file-history")
        _shot(page, shots, "dp-03-dossier-patient", "Dossier Pharmaceutique", "PHARMACIE DU MARCHE", "AM24C")
        assert page.locator("#dp .fragment tr").filter(has_text="AM24C").count() == 1
        assert page.locator("#dp .fragment[data-loaded='error']").count() == 0

        # A patient without a qualified INS: the clear refusal, and nothing asked of the DP.
        page.goto(f"{base}/comptoir/")
        keys = Keyboard(page)
        browser.type_where_focused(page, "bern jea")
        page.wait_for_selector("[data-result]")
        keys.press("Enter")
        page.wait_for_url(f"{base}/comptoir/f/*")
        page.wait_for_selector("#fenetre")  # the ins plugin asks for an identity document: put off
        keys.press("Escape")
        page.wait_for_selector("#fenetre", state="detached")
        page.wait_for_load_state("load")  # the counter's keys are mapped once its script ran
        page.wait_for_selector("#entry:focus")
        keys.press("Alt+D")
        page.wait_for_selector("p.flash.error")
        _shot(page, shots, "dp-04-sans-ins-qualifiee", "exige une INS qualifiée")
        assert page.locator("#fenetre").count() == 0
        keys.press("Alt+P")  # the file says the same, and asks nothing of the DP
        page.wait_for_url(f"{base}/comptoir/patients/*/dossier*")
        _shot(page, shots, "dp-05-dossier-sans-ins-qualifiee", "Dossier Pharmaceutique", "exige une INS qualifiée")
        assert page.locator("#dp [data-fragment]").count() == 0

        # A recall pushed by the DP: after the worker's turn, every page of both counters shows only the recall.
        sandbox.publish(
            "rappel",
            "Rappel du lot AM24C d'amoxicilline",
            "Défaut de dissolution : retirez le lot de la vente et rappelez les patients.",
            issuer="ANSM",
            products=[{"cip13": a.products["amoxicilline"], "libelle": "AMOXICILLINE LGO 1 g", "lots": ["AM24C"]}],
        )
        _turn(kernel, a)
        other = page.context.browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        try:
            second = other.new_page()
            second.set_default_timeout(20_000)
            _sign_in(second, base, "preparatrice")  # lands on the counter's home: blocked too
            page.reload()
            for screen, name in ((page, "dp-06-rappel-comptoir-1"), (second, "dp-07-rappel-comptoir-2")):
                screen.wait_for_selector("#fenetre[data-blocking='dp.rappel']")
                _shot(screen, shots, name, "Rappel du lot AM24C", "LÉA", "AM24C", "Tous les comptoirs")
                assert screen.locator("#entry, #q, footer.keys").count() == 0  # nothing else on the page
            page.goto(f"{base}/comptoir/patients/nouveau")  # every counter page, not only the billing
            page.wait_for_selector("#fenetre[data-blocking='dp.rappel']")

            keys = Keyboard(second)
            keys.press("Enter")  # the préparatrice acknowledges on the second counter
            second.wait_for_selector("#fenetre", state="detached")
            _shot(second, shots, "dp-08-comptoir-2-libre", "réponse enregistrée", "DP : disponible")
            page.reload()
            page.wait_for_selector("#fenetre", state="detached")  # the first counter is free too
            assert keys.keys == 1
        finally:
            other.close()

    with kernel.transaction() as session:
        row = session.scalars(select(DpBulletin).where(DpBulletin.pharmacy_id == a.pharmacy_id)).one()
        assert row.acknowledged_by == a.operators["preparatrice"] and row.acknowledged_at is not None
        traced = session.scalars(
            select(AuditEntry).where(AuditEntry.pharmacy_id == a.pharmacy_id, AuditEntry.action.like("dp.consult.%"))
        ).all()
        assert traced and all(entry.operator_id == a.operators["titulaire"] for entry in traced)
        assert any("par Claire Durand-Démo" in entry.message_fr for entry in traced)
