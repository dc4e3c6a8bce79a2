"""The patient's file at the counter with Flask's test client: the kernel's parts (identity traits, the ordonnancier
of the last 12 months, documents produced here with a document opened and its PDF served for a frame only), a
plugin's section with a hostile text escaped, its links built by the counter, a fragment, a key shown only to the
operators holding its habilitation, and a plugin whose sections fail without closing the file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask
from lgo import hookimpl
from lgo.api import cda, documents
from lgo.counter import Counter, DraftLine
from lgo.demo_data import PASSWORD, Seeded, seed
from lgo.domain.billing import LineKind
from lgo.domain.dispensing import create_prescription
from lgo.domain.products import product_by_cip13
from lgo.events import PatientFileView
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from lgo.plugins.registrations import CounterShortcut, FileLink, FileRow, HabilitationDefinition, PatientFileSection
from web_fakes import https_client, sign_in, text

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="alert(1)">'


class Sections:
    """A plugin with a section (hostile text, a row link, a fragment) and a key for holders of its right only."""

    MANIFEST = Manifest(name="fiche", plugin_api=">=2.2,<3", label_fr="Fiche d'essai")

    def __init__(self) -> None:
        self.views: list[PatientFileView] = []

    @hookimpl
    def lgo_register_habilitations(self) -> list[HabilitationDefinition]:
        return [HabilitationDefinition("fiche.voir", "Voir la fiche", default_roles=("titulaire",))]

    @hookimpl
    def lgo_register_counter_shortcuts(self) -> list[CounterShortcut]:
        return [CounterShortcut("Alt+K", "Fiche", endpoint="fiche.page", needs_patient=True, habilitation="fiche.voir")]

    @hookimpl
    def lgo_register_web_blueprints(self) -> list[Any]:
        blueprint = Blueprint("fiche", __name__)

        @blueprint.route("/page")
        def page() -> str:
            return "page de la fiche"

        return [blueprint]

    @hookimpl
    def lgo_patient_file_sections(self, kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
        self.views.append(view)
        return [
            PatientFileSection(
                "fiche",
                f"Fiche {HOSTILE}",
                lines_fr=(f"Message de l'expéditeur : {HOSTILE}",),
                columns_fr=("Date", "Objet"),
                rows=(FileRow(("01/02/2025", HOSTILE), link=FileLink("Ouvrir", "fiche.page"), highlight_fr="nouveau"),),
                links=(FileLink("Fiche complète", "fiche.page", key="Alt+K"), FileLink("Absente", "fiche.absente")),
                fragment=FileLink("Partie lente", "fiche.page"),
                order=25,
            )
        ]


class Broken:
    MANIFEST = Manifest(name="casse", plugin_api=">=2.2,<3", label_fr="Cassé")

    @hookimpl
    def lgo_patient_file_sections(self, kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
        raise RuntimeError("section en panne")


@pytest.fixture
def world(lgo_database_url: str) -> Iterator[tuple[Flask, Kernel, Seeded, Sections]]:
    from lgo_web import create_app

    plugin = Sections()
    kernel = Kernel(lgo_database_url, discover_installed=False, extra_plugins=[plugin, Broken()])
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
    kernel.enable(seeded.pharmacy_id, "fiche")
    kernel.enable(seeded.pharmacy_id, "casse")
    try:
        yield create_app(kernel), kernel, seeded, plugin
    finally:
        kernel.close()


def _dispense(kernel: Kernel, seeded: Seeded, patient: int, product: str) -> None:
    pharmacy, operator = seeded.pharmacy_id, seeded.operators["titulaire"]
    with kernel.transaction() as session:
        found = product_by_cip13(session, pharmacy, seeded.products[product])
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Dr Fabre-Démo", prescribed_on=date.today()
        ).id
        line = DraftLine(LineKind.PRODUCT, found.label, 1, found.price_cents, 65, found.id, found.cip13)
    counter = Counter(kernel, pharmacy, operator)
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    billing.lines.append(line)
    counter.end_billing(billing)


def _document(kernel: Kernel, seeded: Seeded, patient: int) -> int:
    from lgo_sandbox.pdf import simple_pdf

    identity = SharedIdentity(
        patient, "285039910012345", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), "F", "1985-03-14", "99100"
    )
    with kernel.transaction() as session:
        document = documents.create_draft(
            session,
            pharmacy_id=seeded.pharmacy_id,
            patient_id=patient,
            author_operator_id=seeded.operators["titulaire"],
            type_code="56445-0",
            type_display="Bilan médicamenteux (Officine)",
            title="Bilan <b>partagé</b>",
            source_plugin="essai",
        )
        header = cda.header_for_document(session, document, identity)
        documents.set_content(document, cda.wrap_pdf(header, simple_pdf(["Bilan fictif"])))
        return document.id


def test_the_file_shows_the_kernel_parts_and_the_plugins_sections_escaped(
    world: tuple[Flask, Kernel, Seeded, Sections],
) -> None:
    app, kernel, seeded, plugin = world
    patient = seeded.patients["camille"]
    _dispense(kernel, seeded, patient, "amoxicilline")
    _dispense(kernel, seeded, patient, "metformine")
    document = _document(kernel, seeded, patient)
    client = https_client(app)
    sign_in(client, "titulaire", PASSWORD)
    page = client.get(f"/comptoir/patients/{patient}/dossier")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    body = text(page)
    # kernel parts: traits, the ordonnancier of the year, the documents produced here
    assert "MARTIN-DÉMO" in body and "CAMILLE ANNE" in body and "14/03/1985" in body
    assert "2 ligne(s) d'ordonnancier" in body and "AMOXICILLINE LGO" in body and "Dr Fabre-Démo" in body
    assert "Bilan <b>partagé</b>" in body and "brouillon" in body
    # the plugin's section: escaped, its links built, a missing endpoint left out, its fragment announced
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert 'href="/plugins/fiche/page" data-key="Alt+K"' in html and "Absente" not in body
    assert 'data-fragment="/plugins/fiche/page"' in html and "nouveau" in body
    assert plugin.views[-1].operator_id == seeded.operators["titulaire"]
    assert plugin.views[-1].since < datetime.now(UTC) - timedelta(days=364)
    # the sections are in order: identity, dispensings, the plugin's (25), documents produced here
    assert html.index('id="identite"') < html.index('id="delivrances"') < html.index('id="fiche"')
    assert html.index('id="fiche"') < html.index('id="documents-produits"')
    # the key of the plugin, for the holders of its habilitation
    assert 'data-key="Alt+K"' in html.split('<footer class="keys"', 1)[1]
    # the document produced here, escaped, its PDF in a frame from its own address
    opened = client.get(f"/comptoir/patients/{patient}/documents/{document}")
    assert opened.status_code == 200
    shown = opened.get_data(as_text=True)
    assert "Bilan &lt;b&gt;partagé&lt;/b&gt;" in shown and "<b>partagé</b>" not in shown
    assert f'<iframe class="cda-pdf" src="/comptoir/patients/{patient}/documents/{document}/pdf"' in shown
    pdf = client.get(f"/comptoir/patients/{patient}/documents/{document}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN"
    # another patient's document is not reachable through this patient
    other = seeded.patients["jean"]
    assert client.get(f"/comptoir/patients/{other}/documents/{document}").status_code == 404
    assert client.get("/comptoir/patients/999999/dossier").status_code == 404


def test_a_key_needing_a_habilitation_is_not_shown_to_the_preparer(
    world: tuple[Flask, Kernel, Seeded, Sections],
) -> None:
    app, _kernel, seeded, _plugin = world
    client = https_client(app)
    sign_in(client, "preparatrice", PASSWORD)
    html = client.get(f"/comptoir/patients/{seeded.patients['camille']}/dossier").get_data(as_text=True)
    assert 'data-key="Alt+K"' not in html.split('<footer class="keys"', 1)[1]


def test_the_billing_banner_opens_the_file_with_one_key(world: tuple[Flask, Kernel, Seeded, Sections]) -> None:
    app, _kernel, seeded, _plugin = world
    client = https_client(app)
    sign_in(client, "titulaire", PASSWORD)
    from web_fakes import csrf_token

    home = client.get("/comptoir/")
    opened = client.post(
        "/comptoir/ouvrir",
        data={"csrf_token": csrf_token(home.get_data(as_text=True)), "patient_id": seeded.patients["camille"]},
    )
    billing = client.get(opened.headers["Location"]).get_data(as_text=True)
    draft = opened.headers["Location"].rsplit("/", 1)[-1]
    assert f'href="/comptoir/patients/{seeded.patients["camille"]}/dossier?draft_id={draft}" ' in billing
    assert 'data-key="Alt+P"' in billing
    back = client.get(f"/comptoir/patients/{seeded.patients['camille']}/dossier?draft_id={draft}")
    assert f'href="/comptoir/f/{draft}" data-key="Escape"' in back.get_data(as_text=True)
