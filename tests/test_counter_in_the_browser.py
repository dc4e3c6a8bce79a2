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

# One pcscd per machine (its socket path is fixed): these tests share one test process (decision 0014).
pytestmark = [pytest.mark.parametrize("lgo_backend", ["sqlite"]), pytest.mark.xdist_group("pcscd")]


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
    organisation.store_for(kernel, pharmacy)
    kernel.save_plugin_settings(pharmacy, "dmp", {"endpoint": server.url})
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


def test_the_pharmacist_bills_the_rva_at_9_60_in_two_keys_from_its_fees_listed_on_screen(
    page: Any, segur: dict[str, Any], tmp_path: Path
) -> None:
    """REMU NUM counts the RVA acts billed 9,60 € (the pharmacist prescribes and injects): typing the act lists its
    fees, one digit each."""
    from lgo_sandbox import browser

    kernel, seeded = segur["kernel"], segur["seeded"]
    qualify(kernel, seeded, dmp_test_patient(), tmp_path)
    shots = browser.screenshots_dir(tmp_path / "captures")
    with serving(kernel) as base:
        _sign_in(page, base, "titulaire")
        keys = Keyboard(page)
        keys.open_patient(base, "ins jea")
        keys.type("RVA")
        keys.press("Enter")
        page.wait_for_selector("text=Quel honoraire pour cet acte ?")
        _shot(page, shots, "rva-01-honoraires", "Administration d'un vaccin par le pharmacien — 7,50 €", "9,60 €")
        keys.press("2")
        page.wait_for_selector("text=acte RVA")
        _shot(page, shots, "rva-02-ligne", "Prescription et administration d'un vaccin par le pharmacien", "9,60")
        assert page.locator("text=Quel honoraire pour cet acte ?").count() == 0


@pytest.fixture
def eordonnance(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path) -> Iterator[dict[str, Any]]:
    import lgo_eordonnance.plugin
    from lgo.domain.products import ListCategory, create_product
    from lgo.domain.stock import receive
    from lgo_sandbox.eordonnance import start_eordonnance_sandbox

    kernel = lgo_make_kernel(lgo_eordonnance.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    kernel.enable(pharmacy, "eordonnance")
    authority = TestAuthority(tmp_path / "pki")
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
        generic = create_product(
            session,
            pharmacy,
            cip13=GENERIC,
            label="AMOXICILLINE GÉNÉRIQUE TEST 1 g, comprimé dispersible, boîte de 6",
            price_cents=198,
            reimbursement_rate=65,
            cis="69000028",
            list_category=ListCategory.LISTE_I,
        )
        receive(session, pharmacy, generic, lot_number="AMG1", expiry=date.today() + timedelta(days=400), quantity=5)
    credential = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
    server, sandbox = start_eordonnance_sandbox(authority)
    kernel.select_provider(pharmacy, "eordonnance", "json")
    credential.store_for(kernel, pharmacy)
    kernel.save_plugin_settings(pharmacy, "eordonnance", {"endpoint": server.url})
    try:
        yield {"kernel": kernel, "seeded": lgo_seeded, "sandbox": sandbox}
    finally:
        server.stop()


GENERIC = "3400930005002"


def test_an_ordonnance_numerique_is_executed_with_one_substitution_and_one_partial_line(
    page: Any, eordonnance: dict[str, Any], tmp_path: Path
) -> None:
    from lgo_sandbox import browser

    kernel, seeded, sandbox = eordonnance["kernel"], eordonnance["seeded"], eordonnance["sandbox"]
    shots = browser.screenshots_dir(tmp_path / "captures")
    generic_box = gs1.element_string(GENERIC, expiry=date.today() + timedelta(days=400), lot="AMG1", serial="G1")
    with serving(kernel) as base:
        _sign_in(page, base, "adjoint")
        keys = Keyboard(page)
        keys.open_patient(base, "mart cam")
        keys.press("F3")
        page.wait_for_selector("#eord-code")
        _shot(page, shots, "10-ordonnance-numerique-scan", "scannez le QR code")
        keys.scan("ORDNUM:1:3F8B2N6W4C9H1V7")
        page.wait_for_selector("#eord-entry")
        _shot(page, shots, "11-ordonnance-numerique-lignes", "PARACÉTAMOL 1 g", "Dr Anne MÉDECIN-DÉMO")
        keys.press("Enter")  # L1 paracétamol: as prescribed
        page.wait_for_selector("tr.current >> text=AMOXICILLINE")
        keys.type("S ")  # L2 amoxicilline: substituted by the generic box scanned
        keys.scan(generic_box)
        page.wait_for_selector("tr.current >> text=TRAMADOL")
        keys.press("Enter")  # L3 tramadol: as prescribed
        page.wait_for_selector("tr.current >> text=SÉRUM")
        keys.type("P 1")  # L4 sérum: one box of two
        keys.press("Enter")
        page.wait_for_selector("text=Contrôle de l'ordonnance")
        _shot(
            page, shots, "12-ordonnance-numerique-controle", "substitution", "délivrance partielle : 1 boîte(s) sur 2"
        )
        keys.press("Enter")
        page.wait_for_selector("text=Ordonnance numérique facturée")
        _shot(page, shots, "13-ordonnance-numerique-facturee", "facture n°", "deux temps")
        keys.press("Enter")
        page.wait_for_selector("#fenetre", state="detached")
        record_keystrokes(
            "ordonnance_numerique",
            keys,
            "ordonnance numérique de 4 lignes (une substitution par boîte scannée, une délivrance partielle), de la "
            "recherche du patient à la facture",
        )
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=seeded.pharmacy_id)
    for _ in range(10):
        if not worker.drain():
            break
    (sent,) = sandbox.executions.values()
    kinds = {line["line_id"]: (line["kind"], line["quantity"]) for line in sent["lines"]}
    assert kinds == {
        "L1": ("as_prescribed", 2),
        "L2": ("substitution", 1),
        "L3": ("as_prescribed", 1),
        "L4": ("partial", 1),
    }


CARD_HOLDER = "236066322083656"


@pytest.fixture(scope="module")
def reader() -> Iterator[Any]:
    from lgo_sandbox import vitale as virtual

    missing = virtual.VirtualReader.missing()
    if missing:
        _require_or_skip(f"Lecteur virtuel indisponible : {missing} ; carte Vitale non testée au comptoir.")
    try:
        started = virtual.VirtualReader().start()
    except RuntimeError as exc:
        _require_or_skip(f"pcscd n'a pas pu démarrer : {exc}")
        raise
    yield started
    started.stop()


@pytest.fixture
def vitale_world(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path, reader: Any
) -> Iterator[dict[str, Any]]:
    import lgo_cards.plugin
    from lgo.testing.cda import shared_dir
    from lgo_sandbox import vitale as virtual
    from lgo_sandbox.insi import start_insi_sandbox

    shared = shared_dir()
    if shared is None:
        _require_or_skip("../shared absent : réponses enregistrées de l'INSi indisponibles.")
    folder = Path(str(shared)) / "conformance" / "services" / "insi"
    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_cards.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    for name in ("ins", "cards"):
        kernel.enable(pharmacy, name)
    authority = TestAuthority(tmp_path / "pki")
    server, _sandbox = start_insi_sandbox(
        authority,
        responses_dir=folder / "responses",
        schemas_dir=folder / "wsdl" / "xsd",
        known_idams=frozenset({"LGO-LIBRE-TEST"}),
    )
    authority.organisation("INSI-AUTO").store_for(kernel, pharmacy, kind="insi")
    kernel.save_plugin_settings(
        pharmacy, "ins", {"insi_endpoint": server.url, "authorisation_number": "LGO-LIBRE-TEST", "timeout_seconds": 5}
    )
    card = virtual.VitaleData(
        CARD_HOLDER,
        (virtual.Beneficiary("TCHITCHI", "CATARINA", "19360621", 1, nir=CARD_HOLDER),),
        serial="0102030405",
    )
    reader.insert(virtual.VirtualCard(card))
    try:
        yield {"kernel": kernel, "seeded": lgo_seeded}
    finally:
        server.stop()


def test_carte_vitale_insi_qualification_prescription_and_a_scanned_box_make_a_validated_invoice(
    page: Any, vitale_world: dict[str, Any], tmp_path: Path
) -> None:
    from lgo.domain.billing import Invoice
    from lgo.domain.patients import Patient
    from lgo_ins import api as ins_api
    from lgo_sandbox import browser
    from sqlalchemy import select

    kernel, seeded = vitale_world["kernel"], vitale_world["seeded"]
    shots = browser.screenshots_dir(tmp_path / "captures")
    box = gs1.element_string(
        seeded.products["amoxicilline"], expiry=date.today() + timedelta(days=600), lot="AM24C", serial="BOITE7"
    )
    with serving(kernel) as base:
        _sign_in(page, base, "titulaire")
        keys = Keyboard(page)
        keys.press("F6")  # the carte Vitale in the reader
        page.wait_for_selector("text=choisissez le bénéficiaire")
        _shot(page, shots, "20-carte-vitale-beneficiaires", "TCHITCHI CATARINA", "nouveau patient")
        keys.press("1")
        page.wait_for_selector("text=Identité INS trouvée")
        _shot(page, shots, "21-fenetre-ins", "Réponse INSi", "Carte nationale d'identité", "Aucune pièce présentée")
        keys.press("1")  # carte nationale d'identité vérifiée: the identity becomes qualifiée
        page.wait_for_selector("text=Identité qualifiée")
        keys.press("F8")
        keys.type("Dr Fabre")
        keys.press("Enter")
        page.wait_for_selector("text=Prescripteur : Dr Fabre")
        keys.scan(box)
        page.wait_for_selector("text=n° série BOITE7")
        _shot(page, shots, "22-ordonnance-et-boite-scannee", "AM24C", "Identité qualifiée")
        keys.press("F10")
        page.wait_for_selector("text=validée")
        _shot(page, shots, "23-facture-carte-vitale", "Facture n°")
        record_keystrokes(
            "carte_vitale",
            keys,
            "carte Vitale lue, INSi, identité qualifiée (CNI), ordonnance papier, boîte scannée, facture validée",
        )
    with kernel.transaction() as session:
        patient = session.scalar(select(Patient).where(Patient.birth_name == "TCHITCHI"))
        assert patient is not None and patient.vitale_nir == CARD_HOLDER
        invoice = session.scalar(select(Invoice).where(Invoice.patient_id == patient.id))
        assert invoice is not None and invoice.prescription_id is not None
        patient_id = patient.id
    assert ins_api.status(kernel, seeded.pharmacy_id, patient_id).value == "qualifiée"


class _Reminder:
    """A plugin with an action and no window (rendered generically) — and nothing else."""

    from lgo.plugins.manifest import Manifest as _Manifest

    MANIFEST = _Manifest(name="sansgabarit", plugin_api=">=2.1,<3", label_fr="Sans gabarit")

    @staticmethod
    def _action(patient_id: int) -> Any:
        from lgo.actions import ActionRequired, Choice

        return ActionRequired(
            "sansgabarit.question",
            "sansgabarit",
            "Le patient a-t-il sa carte de tiers payant ?",
            "Question d'un module sans fenêtre : affichée par le comptoir avec ses choix.",
            patient_id=patient_id,
            choices=(Choice("oui", "Oui"), Choice("non", "Non")),
        )


def _reminder_plugin() -> Any:
    from lgo import hookimpl

    class Plugin(_Reminder):
        @hookimpl
        def lgo_on_patient_selected(self, kernel: Kernel, event: Any) -> Any:
            return self._action(event.patient_id)

    return Plugin()


def test_a_new_patient_is_created_from_the_keyboard_with_french_errors_and_a_generic_window(
    page: Any, lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path
) -> None:
    from lgo_sandbox import browser

    kernel = lgo_make_kernel(_reminder_plugin())
    kernel.enable(lgo_seeded.pharmacy_id, "sansgabarit")
    shots = browser.screenshots_dir(tmp_path / "captures")
    with serving(kernel) as base:
        _sign_in(page, base, "preparatrice")
        _shot(page, shots, "30-accueil", "Rechercher", "Vente sans patient")
        page.keyboard.press("F1")
        _shot(page, shots, "31-aide", "Touches du comptoir", "valider la facturation")
        page.keyboard.press("F1")
        page.keyboard.press("F4")
        page.wait_for_selector("#birth_name:focus")
        for text_, key in (("Dupont", "Tab"), ("Jean Marc", "Tab"), ("M", "Tab"), ("31/02/1990", "Enter")):
            page.keyboard.type(text_)
            page.keyboard.press(key)
        page.wait_for_selector(".error-summary")
        _shot(page, shots, "32-nouveau-patient-erreur", "Date de naissance invalide", "Corrigez la saisie")
        page.fill("#birth_date", "")
        page.focus("#birth_date")
        page.keyboard.type("28/02/1990")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Le patient a-t-il sa carte de tiers payant ?")
        _shot(page, shots, "33-fenetre-generique", "DUPONT", "Question d'un module sans fenêtre")
        page.keyboard.press("1")
        page.wait_for_selector("#fenetre", state="detached")
        page.wait_for_selector("#entry:focus")
        page.keyboard.type("zzz inconnu")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Aucun produit ni acte")
        _shot(page, shots, "34-saisie-inconnue", "Aucun produit ni acte ne correspond")
