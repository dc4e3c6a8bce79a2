"""The CI-SIS CDA header and the level 1 (PDF) wrapper, checked with the ANS CDA test kit."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lgo import documents
from lgo.demo_data import Seeded
from lgo.documents import cda
from lgo.documents.rendering import render_html
from lgo.errors import ValidationError
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.testing.cda import cda_errors
from lxml import etree

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
NS = {"h": cda.NS}

PATIENT = SharedIdentity(
    patient_id=1,
    matricule="279035121518989",
    oid=OID_TEST,
    birth_name="PAT-TROIS",
    first_names=("DOMINIQUE", "MARIE-LOUISE"),
    sex="F",
    birth_date="1979-03-28",
    birth_place_code="51215",
)
HEADER = cda.CdaHeader(
    unique_id="2.25.11111111111111111111",
    set_id="2.25.22222222222222222222",
    version=1,
    type_code="78601-2",
    type_display="CR d'entretien pharmaceutique",
    title="Compte rendu d'entretien pharmaceutique",
    patient=PATIENT,
    author=cda.CdaPerson(rpps="10001234567", family="DURAND", given="Claire"),
    organisation=cda.CdaOrganisation(
        finess="750012345",
        name="Pharmacie du Centre",
        street="1 rue de la Paix",
        postal_code="75002",
        city="PARIS",
    ),
    effective_time=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
)


def test_level1_document_passes_the_ans_kit() -> None:
    document = cda.wrap_pdf(HEADER, PDF)
    assert cda_errors(document) == []
    root = etree.fromstring(document)
    text = root.find("h:component/h:nonXMLBody/h:text", NS)
    assert text is not None and text.get("mediaType") == "application/pdf"
    assert base64.b64decode(text.text or "") == PDF
    assert root.find("h:templateId[@root='1.3.6.1.4.1.19376.1.2.20']", NS) is not None
    patient_id = root.find("h:recordTarget/h:patientRole/h:id", NS)
    assert patient_id is not None and patient_id.get("root") == OID_TEST
    assert patient_id.get("extension") == "279035121518989"
    author_id = root.find("h:author/h:assignedAuthor/h:id", NS)
    assert author_id is not None and author_id.get("extension") == "810001234567"
    custodian = root.find("h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id", NS)
    assert custodian is not None and custodian.get("extension") == "1750012345"
    facility = root.find("h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code", NS)
    assert facility is not None and facility.get("code") == "SA33"


def test_replacement_partial_birth_date_and_restricted_confidentiality_pass_the_kit() -> None:
    header = replace(
        HEADER,
        version=2,
        unique_id="2.25.33333333333333333333",
        replaces_unique_id=HEADER.unique_id,
        confidentiality="R",
        patient=replace(PATIENT, birth_date="1979-00-00", used_name="DUPONT"),
    )
    document = cda.wrap_pdf(header, PDF)
    assert cda_errors(document) == []
    root = etree.fromstring(document)
    assert root.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS).get("root") == (HEADER.unique_id)
    assert root.find("h:recordTarget/h:patientRole/h:patient/h:birthTime", NS).get("value") == "1979"


def test_the_kit_reports_a_broken_header() -> None:
    root = cda.build_header(HEADER)
    root.remove(root.find("h:realmCode", NS))
    body = cda.el(cda.el(root, "component"), "nonXMLBody")
    cda.el(body, "text", base64.b64encode(PDF).decode(), mediaType="application/pdf", representation="B64")
    assert any("realmCode" in error for error in cda_errors(etree.tostring(root)))


def test_structured_body_hook_for_plugins() -> None:
    section = etree.Element(f"{{{cda.NS}}}section")
    cda.el(section, "title", "Commentaire")
    cda.el(section, "text", "Entretien réalisé.")
    root = etree.fromstring(cda.wrap_structured_body(HEADER, [section]))
    assert root.find("h:component/h:structuredBody/h:component/h:section/h:title", NS).text == "Commentaire"


def test_wrap_pdf_refuses_what_is_not_a_pdf() -> None:
    with pytest.raises(ValidationError):
        cda.wrap_pdf(HEADER, b"<html/>")


def test_header_from_a_kernel_document(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    with lgo_kernel.transaction() as session:
        first = documents.create_draft(
            session,
            pharmacy_id=lgo_seeded.pharmacy_id,
            patient_id=lgo_seeded.patients["camille"],
            author_operator_id=lgo_seeded.operators["titulaire"],
            type_code="78601-2",
            type_display="CR d'entretien pharmaceutique",
            title="Entretien AVK",
            source_plugin="test",
        )
        header = cda.header_for_document(session, first, replace(PATIENT, patient_id=first.patient_id))
        documents.set_content(first, cda.wrap_pdf(header, PDF))
        assert cda_errors(first.content or b"") == []
        first_id = first.id
    documents.validate(lgo_kernel, lgo_seeded.pharmacy_id, first_id, lgo_seeded.operators["titulaire"])
    with lgo_kernel.transaction() as session:
        previous = session.get(documents.HealthDocument, first_id)
        assert previous is not None
        second = documents.create_draft(
            session,
            pharmacy_id=lgo_seeded.pharmacy_id,
            patient_id=previous.patient_id,
            author_operator_id=lgo_seeded.operators["titulaire"],
            type_code="78601-2",
            type_display="CR d'entretien pharmaceutique",
            title="Entretien AVK (corrigé)",
            source_plugin="test",
            replaces=previous,
        )
        header = cda.header_for_document(session, second, PATIENT)
        assert header.replaces_unique_id == previous.unique_id and header.set_id == previous.set_id
        assert header.organisation.finess and header.author.rpps
        with pytest.raises(ValidationError):
            preparer = replace_author(second, lgo_seeded.operators["preparatrice"])
            cda.header_for_document(session, preparer, PATIENT)
        session.rollback()


def replace_author(document: documents.HealthDocument, operator_id: int) -> documents.HealthDocument:
    document.author_operator_id = operator_id
    return document


def test_html_rendering_is_french_and_escaped() -> None:
    html = render_html(cda.wrap_pdf(replace(HEADER, title="Entretien <script>alert(1)</script>"), PDF))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Télécharger le document PDF" in html and "24/11/2026" in html
    assert "DOMINIQUE MARIE-LOUISE PAT-TROIS" in html and "24/11/2026" in html
    section = etree.Element(f"{{{cda.NS}}}section")
    cda.el(section, "title", "Vaccins")
    text = cda.el(section, "text")
    cda.el(cda.el(text, "list"), "item", "Grippe <lot A1>")
    html = render_html(cda.wrap_structured_body(HEADER, [section]))
    assert "<h2>Vaccins</h2>" in html and "<li>Grippe &lt;lot A1&gt;</li>" in html
