"""Acceptance of « Le comptoir (2) » in Debian's Chromium driven by Playwright, keyboard first, against the real
plugins and sandboxes (DMP over mutual TLS, Dovecot + aiosmtpd, Annuaire Santé, INSi): the patient's file of a
qualified patient with a DMP document of another pharmacy highlighted as new and opened (a hostile CDA shown as
text); a message for an unknown patient quarantined, its sender notified, its document attached by hand and seen in
the file; the BPM sent to the médecin traitant and to the patient, then again in a message to a doctor found in
the Annuaire Santé; an AVK interview reaching the DMP; what a préparateur is (not) offered. Every screen
screenshotted and checked with axe-core; every DMP consultation and manual attachment in the audit log with the
operator's name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from counter_browser import Keyboard, check_accessibility, serving
from file_world import DOCTOR_BOX, ORG_BOX, FileWorld, file_world
from lgo.db import utcnow
from lgo.demo_data import PASSWORD
from lgo.domain.audit import AuditEntry
from lgo.domain.patients import create_patient
from lgo.testing import _require_or_skip
from lgo_dmp.model import DmpConsultation
from lgo_mssante import message as mail
from lgo_mssante import service as mssante
from lgo_sandbox.dmp import another_pharmacy
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from sqlalchemy import select


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileWorld]:
    from lgo_sandbox.mss.mailserver import available

    reason = available()
    if reason:
        _require_or_skip(f"{reason} : tests du dossier patient dans le navigateur ignorés")
    with file_world(tmp_path_factory.mktemp("dossier")) as built:
        yield built


@pytest.fixture(scope="module")
def base(world: FileWorld) -> Iterator[str]:
    with serving(world.kernel) as url:
        yield url


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    from lgo_sandbox import browser

    try:
        with browser.chromium_page() as opened:
            opened.add_init_script(
                "window.__pwned = undefined; window.alert = function () { window.__pwned = 'alert'; };"
            )
            yield opened
    except browser.BrowserUnavailable as exc:
        _require_or_skip(f"{exc} : tests du dossier patient dans le navigateur ignorés")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lgo_sandbox import browser

    return browser.screenshots_dir(tmp_path_factory.mktemp("captures"))


def _shot(page: Any, folder: Path, name: str, *expected: str) -> None:
    from lgo_sandbox import browser

    browser.screenshot(page, folder, name, *expected)
    check_accessibility(page, name)
    assert page.evaluate("window.__pwned") is None, f"{name}: du contenu actif a été exécuté"


def _sign_in(page: Any, base: str, code: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/connexion")
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/comptoir/")


def _open_file(page: Any, base: str, keys: Keyboard) -> None:
    """From the counter's search to the patient's file: the DMP test patient, then Alt+P from the banner."""
    keys.open_patient(base, "ins jea")  # Keyboard waits for the search field's autofocus
    keys.press("Alt+P")
    page.wait_for_url(f"{base}/comptoir/patients/*/dossier*")


def _audit(world: FileWorld, action: str) -> list[AuditEntry]:
    with world.kernel.transaction() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like(action)).order_by(AuditEntry.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_the_file_shows_a_dmp_document_of_another_pharmacy_as_new_and_opens_it_as_text(
    world: FileWorld, base: str, page: Any, shots: Path
) -> None:
    identity = world.identity()
    older = another_pharmacy.deposit(
        world.authority,
        world.dmp_url,
        identity,
        another_pharmacy.note_de_vaccination(identity, title="Note de 2024", when=utcnow() - timedelta(days=40)),
    )
    for found in world.dmp.submission_sets.values():  # deposited before the pharmacy's last visit
        found.submission_time = (utcnow() - timedelta(days=3)).strftime("%Y%m%d%H%M%S")
    with world.kernel.transaction() as session:
        session.add(
            DmpConsultation(
                pharmacy_id=world.pharmacy,
                patient_id=world.patient,
                last_consulted_at=utcnow() - timedelta(days=1),
                last_operator_id=world.titulaire,
            )
        )
    newer = another_pharmacy.deposit(
        world.authority,
        world.dmp_url,
        identity,
        another_pharmacy.note_de_vaccination(identity, title="Note <b>piégée</b> <script>x</script>", hostile=True),
    )

    _sign_in(page, base, "titulaire")
    keys = Keyboard(page)
    _open_file(page, base, keys)
    page.wait_for_selector("#dmp [data-loaded='ok']")
    page.wait_for_selector("#vaccinations [data-loaded='ok']")
    _shot(
        page,
        shots,
        "10-dossier-patient",
        "Dossier du patient",
        "Délivrances des 12 derniers mois",
        "AMOXICILLINE LGO",
        "Identité nationale de santé",
        "Documents du DMP",
        "Vaccinations",
    )
    new_rows = page.locator("#dmp tr.highlight")
    assert new_rows.count() == 1 and "piégée" in new_rows.inner_text() and "nouveau" in new_rows.inner_text()
    assert "Note de 2024" in page.inner_text("#dmp") and "Note de 2024" not in new_rows.inner_text()
    record = page.inner_text("#vaccinations")
    assert "COVID-19" in record and "AUTRE-LOT-42" in record and "Hugo GARNIER-DEMO" in record
    html = page.content()
    assert "<script>x</script>" not in html and "Note &lt;b&gt;piégée&lt;/b&gt;" in html

    keys.press("1")  # the newest document of the list: the new one
    page.wait_for_url(f"{base}/plugins/dmp/patients/*/documents/*")
    _shot(page, shots, "11-document-dmp", "Note <b>piégée</b>", "window.__pwned=2", "lien piégé")
    article = page.locator("article.cda")
    assert article.locator("script, img, a[href^='javascript'], [onclick]").count() == 0
    keys.press("Escape")
    page.wait_for_url(f"{base}/plugins/dmp/patients/*/documents")
    keys.press("A")  # the archived ones too
    page.wait_for_selector("text=Masquer les archivés")
    _shot(page, shots, "12-documents-dmp-filtres", "documents actifs et archivés", "nouveau")

    names = {e.action: e for e in _audit(world, "dmp.consult.%")}
    assert {"dmp.consult.list", "dmp.consult.document", "dmp.consult.selection"} <= set(names)
    assert all("Claire Durand-Démo" in e.message_fr for e in _audit(world, "dmp.consult.%"))
    assert older.unique_id in world.dmp.entries and newer.unique_id in world.dmp.entries


def test_a_message_for_an_unknown_patient_is_attached_by_hand_and_the_sender_is_told(
    world: FileWorld, base: str, page: Any, shots: Path
) -> None:
    from dataclasses import replace

    newcomer = replace(
        world.identity(),
        patient_id=0,
        matricule="290059912345678",
        birth_name="LEGRAND-DEMO",
        first_names=("SOPHIE",),
        sex="F",
        birth_date="1990-05-12",
    )
    world.mail.deliver(
        DOCTOR_BOX, [ORG_BOX], reply_with_xdm(sender=DOCTOR_BOX, to=ORG_BOX, cda=professional_cda(newcomer)).as_bytes()
    )
    hostile = mail.compose(
        sender=f'"<script>window.__pwned=5</script>Dr Piège" <{DOCTOR_BOX}>',
        to=[ORG_BOX],
        subject='Rendez-vous <img src=x onerror="window.__pwned=6">',
        body="<b>Bonjour</b> <script>window.__pwned=7</script>",
        message_id=mail.new_message_id(DOCTOR_BOX),
        product_reference="LOGICIEL-MEDECIN-FICTIF",
    )
    world.mail.deliver(DOCTOR_BOX, [ORG_BOX], hostile.as_bytes())
    report = mssante.receive(world.kernel, world.pharmacy)
    assert len(report.quarantined) == 1 and len(report.other) == 1
    world.drain()
    subjects = [str(m["Subject"]) for m in world.mailbox(DOCTOR_BOX)]
    assert sum(s.startswith("[KO Intégration système !][902] XDM/1.0/DDM+") for s in subjects) == 2  # KO + MDN

    # the préparateur (« Utilisateur » of the organisational box) reads and writes, never the quarantine
    _sign_in(page, base, "preparatrice")
    keys = Keyboard(page)
    keys.press("Alt+M")
    page.wait_for_url(f"{base}/plugins/mssante/boite/*")
    _shot(page, shots, "20-messagerie-preparatrice", "Messagerie MSSanté", "Rendez-vous <img", "Dr Piège")
    body = page.inner_text("body")
    assert "Quarantaine" not in body and "Rattacher" not in body and "LEGRAND" not in body
    assert page.locator("[data-key='P']").count() == 0
    assert page.locator("[data-key='R']").count() == 1 and page.locator("[data-key='N']").count() == 1

    # the pharmacist (Gestionnaire) attaches the document once the patient is known
    with world.kernel.transaction() as session:
        create_patient(
            session, world.pharmacy, birth_name="Legrand-Démo", first_names="Sophie", sex="F", birth_date="1990-05-12"
        )
    _sign_in(page, base, "titulaire")
    keys = Keyboard(page)
    keys.press("Alt+M")
    page.wait_for_url(f"{base}/plugins/mssante/boite/*")
    keys.press("Alt+2")  # Quarantaine
    page.wait_for_selector("text=En quarantaine")
    _shot(
        page,
        shots,
        "21-messagerie-quarantaine",
        "Compte rendu du médecin traitant — LEGRAND-DEMO SOPHIE, né(e) le 12/05/1990",
        "erreur 902",
        "Rattacher à un patient",
    )
    keys.press("O")  # the document of the message
    page.wait_for_selector("article.cda")
    frame = page.locator("iframe.cda-pdf").get_attribute("src")
    assert frame and page.request.get(f"{base}{frame}").body().startswith(b"%PDF")
    page.wait_for_timeout(1500)  # the PDF viewer paints the page
    _shot(page, shots, "22-document-recu", "Compte rendu du médecin traitant")
    page.go_back()
    keys.press("P")
    page.wait_for_selector("#q")
    keys.type("legr sop")
    keys.press("Enter")
    page.wait_for_selector("text=Legrand-Démo")
    keys.press("1")
    page.wait_for_selector("table.checks")
    _shot(page, shots, "23-rattacher-verification", "Vérification de l'identité", "identique", "non qualifiée")
    keys.press("V")
    keys.press("Enter")
    page.wait_for_url(f"{base}/comptoir/patients/*/dossier*")
    _shot(
        page, shots, "24-dossier-document-rattache", "Documents reçus par MSSanté", "à la main par Claire Durand-Démo"
    )
    (attached,) = _audit(world, "mssante.attached")
    assert attached.operator_id == world.titulaire and "par Claire Durand-Démo" in attached.message_fr


def test_the_bpm_goes_to_the_doctor_and_the_patient_and_an_avk_interview_reaches_the_dmp(
    world: FileWorld, base: str, page: Any, shots: Path
) -> None:
    _sign_in(page, base, "titulaire")
    keys = Keyboard(page)
    _open_file(page, base, keys)
    keys.press("Alt+E")
    page.wait_for_url(f"{base}/plugins/entretiens/patients/*/nouveau")
    _shot(page, shots, "30-entretien-choix", "Bilan partagé de médication", "antivitamine K")
    keys.press("6")  # BPM
    page.wait_for_url(f"{base}/plugins/entretiens/entretiens/*")
    _shot(page, shots, "31-bpm-formulaire", "AMOXICILLINE LGO", "METFORMINE LGO", "brouillon")
    keys.type("Doliprane à l'occasion")
    page.focus("#analysis")
    keys.type("Traitement cohérent ; pas d'interaction.")
    keys.press("Alt+G")
    page.wait_for_selector("text=Brouillon enregistré")
    keys.press("Alt+V")
    page.wait_for_url("**/apercu")
    preview = page.request.get(page.url + ".pdf")
    assert preview.ok and preview.body().startswith(b"%PDF")
    assert "Doliprane" in _pdf_text(preview.body()) and "METFORMINE" in _pdf_text(preview.body())
    page.wait_for_timeout(1500)  # the PDF viewer paints the page
    _shot(page, shots, "32-bpm-apercu", "Aperçu du compte rendu")
    keys.press("F10")
    page.wait_for_url("**/valider")
    keys.type(DOCTOR_BOX)
    keys.press("Alt+S")
    _shot(page, shots, "33-bpm-validation", "Médecin traitant", world.patient_box, "BMI")
    keys.press("Enter")
    page.wait_for_url(lambda url: "/plugins/dmp/documents/" in url and "/envoi" in url)
    _shot(page, shots, "34-fenetre-envoi-dmp", "Envoi au DMP", "Visible par", "le patient")
    keys.press("Enter")
    page.wait_for_selector("#fait-titre")
    _shot(page, shots, "35-bpm-valide", "MSSanté : mis en file", "facturé : facture n°")
    world.drain()
    (to_doctor,) = [m for m in world.mailbox(DOCTOR_BOX) if "Bilan" in str(m["Subject"])]
    (to_patient,) = world.mailbox(world.patient_box)
    assert str(to_doctor["Subject"]).startswith("XDM/1.0/DDM+Bilan partagé de médication")
    assert to_patient["X-MSS-CODECDA"] == "56445-0"

    # a message about the patient to a professional found in the Annuaire Santé, with the BPM of the file
    keys.press("Escape")
    page.wait_for_url(f"{base}/comptoir/patients/*/dossier*")
    keys.press("Alt+W")
    page.wait_for_url(f"{base}/plugins/mssante/boite/nouveau*")
    keys.press("Alt+A")
    page.wait_for_url(f"{base}/plugins/mssante/boite/annuaire*")
    page.wait_for_selector("#nom:focus")
    keys.type("medecin")
    keys.press("Enter")
    page.wait_for_load_state()
    page.wait_for_selector("text=Villedémo")
    _shot(page, shots, "38-annuaire", "Annuaire Santé", "Anne MEDECIN-DEMO", "99999000047", DOCTOR_BOX)
    keys.press("1")
    page.wait_for_url(f"{base}/plugins/mssante/boite/nouveau*")
    assert page.input_value("#to") == DOCTOR_BOX
    keys.press("Alt+1")  # the BPM, the newest document of the file
    page.wait_for_selector("#body:focus")  # autofocus applied
    keys.type("Bonjour, voici le bilan partagé de médication de notre patient commun.")
    _shot(page, shots, "39-nouveau-message", "Nouveau message", "Bilan partagé de médication")
    keys.press("F10")
    page.wait_for_url(f"{base}/comptoir/patients/*/dossier*")
    world.drain()
    assert len([m for m in world.mailbox(DOCTOR_BOX) if "Bilan" in str(m["Subject"])]) == 2

    # an AVK interview, to the DMP
    keys.press("Alt+E")
    page.wait_for_url("**/nouveau")
    keys.press("1")  # AVK
    page.wait_for_url(f"{base}/plugins/entretiens/entretiens/*")
    keys.type("Coumadine 5 mg, 1 cp le soir")
    keys.press("Tab")
    keys.type("2 à 3")
    page.focus("#analysis")
    keys.type("INR stable ; signes de surdosage connus.")
    _shot(page, shots, "36-avk-formulaire", "INR cible", "Carnet de suivi AVK")
    keys.press("F10")
    page.wait_for_url("**/valider")
    keys.press("Enter")
    page.wait_for_url(lambda url: "/plugins/dmp/documents/" in url and "/envoi" in url)
    keys.press("Enter")
    page.wait_for_selector("#fait-titre")
    _shot(page, shots, "37-avk-valide", "validé et mis en file d'envoi vers le DMP", "antivitamine K")
    world.drain()
    with world.kernel.transaction() as session:
        sent = session.scalars(select(AuditEntry.message_fr).where(AuditEntry.action == "dmp.sent")).all()
    assert any("AVK" in message for message in sent) and any("Bilan" in message for message in sent)
    in_the_dmp = {
        _type_code(e.metadata) for e in world.dmp.documents() if e.patient_id == world.identity().xds_patient_id
    }
    assert {"56445-0", "78601-2"} <= in_the_dmp  # the BPM and the AVK interview, in the DMP sandbox


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _type_code(metadata: Any) -> str:
    rim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
    scheme = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    found = metadata.find(f"{{{rim}}}Classification[@classificationScheme='{scheme}']")
    return str(found.get("nodeRepresentation", "")) if found is not None else ""


def test_a_preparer_is_offered_no_action_it_cannot_perform(world: FileWorld, base: str, page: Any, shots: Path) -> None:
    _sign_in(page, base, "preparatrice")
    keys = Keyboard(page)
    _open_file(page, base, keys)
    footer = page.inner_text("footer.keys")
    assert "Documents du DMP" not in footer and "Entretien" not in footer and "Messagerie" in footer
    dmp = page.inner_text("#dmp")
    assert "pas habilité(e) à consulter le DMP" in dmp and page.locator("#dmp [data-fragment]").count() == 0
    assert "Nouvel entretien" not in page.inner_text("#entretiens")
    assert page.locator("#entretiens a", has_text="Ouvrir").count() == 0
    _shot(page, shots, "40-dossier-preparatrice", "Dossier du patient", "Vaccinations")
    page.goto(f"{base}/plugins/dmp/patients/{world.patient}/documents")  # typed by hand: refused, traced
    _shot(page, shots, "41-dmp-refuse", "pas habilité(e) à consulter le DMP")
    refused = _audit(world, "dmp.consult.refused")[-1]
    assert refused.operator_id == world.seeded.operators["preparatrice"] and "Inès Roux-Démo" in refused.message_fr
