"""Interviews and BPM: records, PDF, CDA R2 level 1 checked by the ANS kit, validation, waiting identity."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import lgo_entretiens.plugin
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.api import is_identity_request
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.documents import DocumentStatus, HealthDocument
from lgo.domain.dispensing import create_prescription
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.errors import PluginError, ValidationError
from lgo.events import DocumentValidated
from lgo.kernel import Kernel
from lgo.testing.cda import cda_errors
from lgo.testing.fakes import MATRICULE
from lgo.testing.fakes import FakeIdentityPlugin as FakeIdentity
from lgo_entretiens import pdf, service
from lgo_entretiens.model import InterviewRecord
from lxml import etree
from pypdf import PdfReader

NS = {"hl7": "urn:hl7-org:v3"}


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> tuple[Kernel, Seeded, FakeIdentity]:
    identity = FakeIdentity()
    kernel = lgo_make_kernel(lgo_entretiens.plugin, identity)
    for name in ("fake_ins", "entretiens"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    return kernel, lgo_seeded, identity


def _sell(kernel: Kernel, seeded: Seeded, patient: str, *products: str) -> None:
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, seeded.pharmacy_id, seeded.patients[patient], prescriber_name="Dr Démo", prescribed_on=date.today()
        ).id
        for key in products:
            product = product_by_cip13(session, seeded.pharmacy_id, seeded.products[key])
            receive(session, seeded.pharmacy_id, product, lot_number=f"T-{key}", expiry=date(2099, 1, 1), quantity=5)
    counter = Counter(kernel, seeded.pharmacy_id, seeded.operators["adjoint"])
    billing = counter.start_billing(patient_id=seeded.patients[patient], prescription_id=prescription)
    for key in products:
        counter.add_product(billing, seeded.products[key], 1, lot_number=f"T-{key}")
    counter.end_billing(billing)


def _pdf_text(cda_bytes: bytes) -> str:
    import base64

    root = etree.fromstring(cda_bytes)
    (text,) = root.xpath("//hl7:nonXMLBody/hl7:text", namespaces=NS)
    assert text.get("mediaType") == "application/pdf"
    reader = PdfReader(io.BytesIO(base64.b64decode(text.text)))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_bpm_lists_the_dispensed_medicines_and_its_cda_passes_the_ans_kit(world: Any) -> None:
    kernel, seeded, identity = world
    pharmacy, patient, titulaire = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    _sell(kernel, seeded, "camille", "paracetamol", "tramadol")
    identity.qualified.add(patient)
    record_id = service.record_bpm(
        kernel,
        pharmacy,
        patient,
        titulaire,
        held_on=date.today(),
        analysis="Pas d'interaction majeure.",
        recommendations="Réévaluer l'antalgique.",
    )
    prepared = service.prepare_document(kernel, pharmacy, record_id)
    assert prepared.document_id is not None and not prepared.actions
    with kernel.transaction() as session:
        record = session.get(InterviewRecord, record_id)
        document = session.get(HealthDocument, prepared.document_id)
        assert record is not None and document is not None and document.content
        assert {m["cip13"] for m in record.medications} == {seeded.products["paracetamol"], seeded.products["tramadol"]}
        assert (document.type_code, document.status) == ("56445-0", DocumentStatus.DRAFT)
        content = document.content
    assert cda_errors(content) == []
    root = etree.fromstring(content)
    assert root.xpath("string(//hl7:recordTarget//hl7:id/@extension)", namespaces=NS) == MATRICULE
    text = _pdf_text(content)
    assert "Bilan partagé de médication" in text and "Réévaluer l'antalgique." in text and "PARACÉTAMOL LGO" in text

    service.validate_document(kernel, pharmacy, record_id, titulaire, hidden_from_patient=False)
    assert [e.document_type for e in identity.events if isinstance(e, DocumentValidated)] == ["56445-0"]
    with pytest.raises(ValidationError, match="déjà validé"):
        service.validate_document(kernel, pharmacy, record_id, titulaire)


def test_an_interview_waits_for_a_qualified_identity_then_is_produced(world: Any) -> None:
    kernel, seeded, identity = world
    pharmacy, patient, titulaire = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    record_id = service.record_interview(
        kernel,
        pharmacy,
        patient,
        titulaire,
        theme_code="avk",
        held_on=date.today(),
        analysis="INR stable.",
        recommendations="Poursuivre.",
    )
    actions = service.validate_document(kernel, pharmacy, record_id, titulaire)
    # The identity plugin's window (whoever provides it), saying that the report waits.
    assert [(a.plugin, is_identity_request(a)) for a in actions] == [(identity.MANIFEST.name, True)]
    assert "conservé" in actions[0].message_fr
    with kernel.transaction() as session:
        assert session.get(InterviewRecord, record_id).document_id is None  # type: ignore[union-attr]
    identity.qualify(kernel, pharmacy, patient)
    assert service.validate_document(kernel, pharmacy, record_id, titulaire, title="Entretien AVK") == []
    prepared = service.prepare_document(kernel, pharmacy, record_id)
    with kernel.transaction() as session:
        document = session.get(HealthDocument, prepared.document_id)
        assert document is not None
        assert (document.type_code, document.title, document.status) == (
            "78601-2",
            "Entretien AVK",
            DocumentStatus.VALIDATED,
        )
        assert cda_errors(document.content or b"") == []


def test_bad_input_and_a_disabled_plugin_get_french_errors(world: Any) -> None:
    kernel, seeded, _identity = world
    pharmacy, patient = seeded.pharmacy_id, seeded.patients["camille"]
    with pytest.raises(ValidationError, match="Type d'entretien inconnu"):
        service.record_interview(
            kernel,
            pharmacy,
            patient,
            seeded.operators["titulaire"],
            theme_code="DIABETE",
            held_on=date.today(),
            analysis="",
            recommendations="",
        )
    with pytest.raises(ValidationError, match="RPPS"):
        service.record_interview(
            kernel,
            pharmacy,
            patient,
            seeded.operators["preparatrice"],
            theme_code="AVK",
            held_on=date.today(),
            analysis="",
            recommendations="",
        )
    kernel.disable(pharmacy, "entretiens")
    kernel._active.clear()  # the cache of active plugins lasts a few seconds in a real process
    with pytest.raises(PluginError, match="pas activé"):
        service.record_interview(
            kernel,
            pharmacy,
            patient,
            seeded.operators["titulaire"],
            theme_code="AVK",
            held_on=date.today(),
            analysis="",
            recommendations="",
        )


def test_the_plugin_declares_its_acts(world: Any) -> None:
    kernel, _seeded, _identity = world
    assert {"TAC", "ASI", "ASS", "EFE", "BMI", "BMT"} <= set(kernel.acts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    analysis=st.text(max_size=400),
    recommendations=st.text(max_size=200),
    rows=st.lists(st.tuples(st.text(max_size=60), st.text(max_size=13)), max_size=8),
)
def test_any_text_renders_a_pdf_without_crashing(analysis: str, recommendations: str, rows: list[Any]) -> None:
    content = pdf.ReportContent(
        title="Compte rendu <test> & co",
        pharmacy="Pharmacie <b>démo</b>",
        pharmacist="Claire DURAND",
        patient="MARTIN-DEMO Camille",
        held_on=date(2026, 11, 24),
        theme="AVK",
        analysis=analysis,
        recommendations=recommendations,
        medications=[(label, cip, "24/11/2026", "1") for label, cip in rows],
    )
    assert pdf.render(content).startswith(b"%PDF")


def test_the_title_chosen_at_validation_is_the_title_of_the_cda_its_pdf_and_the_metadata(world: Any) -> None:
    kernel, seeded, identity = world
    pharmacy, patient, titulaire = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    identity.qualify(kernel, pharmacy, patient)
    record_id = service.record_interview(
        kernel,
        pharmacy,
        patient,
        titulaire,
        theme_code="avk",
        held_on=date.today(),
        analysis="INR stable.",
        recommendations="Poursuivre.",
    )
    service.prepare_document(kernel, pharmacy, record_id)  # drafted with the default title first
    assert service.validate_document(kernel, pharmacy, record_id, titulaire, title="Suivi AVK de mars") == []
    with kernel.transaction() as session:
        record = session.get(InterviewRecord, record_id)
        document = session.get(HealthDocument, record.document_id)  # type: ignore[union-attr]
        assert document is not None
        title, content = document.title, document.content or b""
    assert title == "Suivi AVK de mars"
    assert etree.fromstring(content).findtext("hl7:title", namespaces=NS) == "Suivi AVK de mars"
    assert "Suivi AVK de mars" in _pdf_text(content)
    assert cda_errors(content) == []


def test_a_title_chosen_at_the_kernel_s_validation_is_written_into_the_cda(world: Any) -> None:
    from lgo import documents

    kernel, seeded, identity = world
    pharmacy, patient, titulaire = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    identity.qualify(kernel, pharmacy, patient)
    record_id = service.record_interview(
        kernel, pharmacy, patient, titulaire, theme_code="avk", held_on=date.today(), analysis="a", recommendations="b"
    )
    prepared = service.prepare_document(kernel, pharmacy, record_id)
    assert prepared.document_id is not None
    documents.validate(kernel, pharmacy, prepared.document_id, titulaire, title="Autre titre")
    with kernel.transaction() as session:
        document = session.get(HealthDocument, prepared.document_id)
        assert document is not None
        title, content = document.title, document.content or b""
    assert title == etree.fromstring(content).findtext("hl7:title", namespaces=NS) == "Autre titre"
    assert cda_errors(content) == []
