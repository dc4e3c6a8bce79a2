"""A TROD through the kernel: questionnaire, device, result, antibiotic, billing (acts and fees, the ordonnancier),
validation into two linked documents, the identity that waits, the attestation PDF, the fallback's states."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import lgo_depistage.plugin
import pytest
from lgo.demo_data import Seeded
from lgo.documents import DocumentStatus, HealthDocument
from lgo.domain.billing import Invoice
from lgo.domain.dispensing import Dispensation, Prescription, PrescriptionSource
from lgo.domain.pharmacy import Pharmacy
from lgo.errors import PluginError, ValidationError
from lgo.kernel import Kernel
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_depistage import api, attestations, sharing
from lgo_depistage.model import DepistageTest, Fallback, TrodStatus
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

NS = {"hl7": "urn:hl7-org:v3"}
EXPIRY_YY = f"{date.today().year % 100 + 2:02d}"
SCAN = "]d20103612345678904" + f"17{EXPIRY_YY}1231" + "10B987654"
UDI = f"(01)03612345678904(17){EXPIRY_YY}1231(10)B987654"
ANGINE_OK = {
    "temperature": "38,6",
    "grossesse": "non",
    "immunodepression": "non",
    "antibiotique_en_cours": "non",
    "signes_complication": "non",
    "retour_pays_tropical": "non",
    "troubles_digestifs": "non",
    "toux_absente": "oui",
    "adenopathies": "oui",
    "amygdales": "oui",
    "allergie_penicilline": "non",
    "contre_indication_cephalosporines": "non",
}
CYSTITE_OK = {
    "temperature": "37,2",
    "frissons": "non",
    "douleur_lombaire": "non",
    "grossesse": "non",
    "immunodepression": "non",
    "anomalie_urinaire": "non",
    "recidive": "non",
    "signes_gravite": "non",
}


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> tuple[Kernel, Seeded, FakeIdentityPlugin]:
    identity = FakeIdentityPlugin("ins")
    kernel = lgo_make_kernel(lgo_depistage.plugin, identity)
    for name in ("ins", "depistage"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    return kernel, lgo_seeded, identity


def _trod(
    kernel: Kernel,
    seeded: Seeded,
    *,
    patient: str = "camille",
    kind: str = "angine",
    answers: dict[str, str] | None = None,
    result: dict[str, str] | None = None,
    antibiotic: str | None = "amoxicilline",
    **start: Any,
) -> int:
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    test = api.start_test(kernel, pharmacy, seeded.patients[patient], titulaire, kind, consent=True, **start)
    api.answer(kernel, pharmacy, test, answers if answers is not None else ANGINE_OK)
    api.set_device(kernel, pharmacy, test, scan=SCAN)
    api.record_result(kernel, pharmacy, test, result or {"streptocoque": "positif"})
    if antibiotic:
        api.choose_antibiotic(kernel, pharmacy, test, antibiotic, seeded.products["amoxicilline"])
    return test


def _invoice(kernel: Kernel, invoice_id: int | None) -> Invoice:
    with kernel.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        session.expunge(invoice)
        return invoice


def _documents(kernel: Kernel, patient_id: int) -> list[HealthDocument]:
    with kernel.transaction() as session:
        rows = list(session.scalars(select(HealthDocument).where(HealthDocument.patient_id == patient_id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_a_positive_angine_bills_15_euros_and_the_antibiotic_on_the_pharmacist_s_protocol_prescription(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, _ = world
    pharmacy = seeded.pharmacy_id
    test = _trod(kernel, seeded)
    finished = api.finish(kernel, pharmacy, test, seeded.operators["preparatrice"])
    invoice = _invoice(kernel, finished.invoice_id)
    act, box = invoice.lines
    assert (act.act_code, act.unit_price_cents, act.reimbursement_rate) == ("TRD", 1500, 70)
    assert "antibiotique" in act.label
    assert box.label.startswith("AMOXICILLINE") and box.quantity == 1
    with kernel.transaction() as session:
        entry = session.scalars(select(Dispensation).where(Dispensation.invoice_id == invoice.id)).one()
        prescription = session.get(Prescription, entry.prescription_id)
        assert prescription is not None
        assert prescription.source == PrescriptionSource.PROTOCOL
        assert prescription.prescriber_rpps == "99999000013"  # the titulaire who performed the test
        assert session.get(DepistageTest, test).status == TrodStatus.BILLED  # type: ignore[union-attr]


def test_a_negative_test_bills_10_euros_and_nothing_else(world: tuple[Kernel, Seeded, FakeIdentityPlugin]) -> None:
    kernel, seeded, _ = world
    test = _trod(kernel, seeded, result={"streptocoque": "négatif"}, antibiotic=None)
    outcome = api.outcome(kernel, seeded.pharmacy_id, test)
    assert not outcome.positive and outcome.antibiotics == ()
    assert "angine probablement virale" in outcome.orientation_fr
    finished = api.finish(kernel, seeded.pharmacy_id, test, seeded.operators["titulaire"])
    (act,) = _invoice(kernel, finished.invoice_id).lines
    assert (act.act_code, act.unit_price_cents) == ("TRD", 1000)


def test_in_the_drom_the_fees_are_10_50_and_15_70(world: tuple[Kernel, Seeded, FakeIdentityPlugin]) -> None:
    kernel, seeded, _ = world
    with kernel.transaction() as session:
        session.get(Pharmacy, seeded.pharmacy_id).postal_code = "97411"  # type: ignore[union-attr]
    positive = _trod(kernel, seeded)
    negative = _trod(kernel, seeded, result={"streptocoque": "négatif"}, antibiotic=None)
    fees = [
        _invoice(kernel, api.finish(kernel, seeded.pharmacy_id, t, seeded.operators["titulaire"]).invoice_id)
        .lines[0]
        .unit_price_cents
        for t in (positive, negative)
    ]
    assert fees == [1570, 1050]


def test_a_cystite_bills_pee_and_fosfomycine_needs_a_box_of_fosfomycine(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, _ = world
    pharmacy = seeded.pharmacy_id
    test = api.start_test(
        kernel, pharmacy, seeded.patients["camille"], seeded.operators["adjoint"], "cystite", consent=True
    )
    assert api.answer(kernel, pharmacy, test, CYSTITE_OK).eligible
    api.set_device(kernel, pharmacy, test, gtin="05012345678900", lot="CYST1", expiry=date.today() + timedelta(days=30))
    outcome = api.record_result(kernel, pharmacy, test, {"leucocytes": "positif", "nitrites": "négatif"})
    assert outcome.positive and [a.code for a in outcome.antibiotics] == ["fosfomycine", "pivmecillinam"]
    with pytest.raises(ValidationError, match="n'est pas de la fosfomycine-trométamol"):
        api.choose_antibiotic(kernel, pharmacy, test, "fosfomycine", seeded.products["amoxicilline"])
    with pytest.raises(ValidationError, match="n'est pas le choix du protocole"):
        api.choose_antibiotic(kernel, pharmacy, test, "amoxicilline", seeded.products["amoxicilline"])
    finished = api.finish(kernel, pharmacy, test, seeded.operators["adjoint"])
    (act,) = _invoice(kernel, finished.invoice_id).lines
    assert (act.act_code, act.unit_price_cents) == ("PEE", 1000)


def test_an_ordonnance_conditionnelle_bills_10_euros_and_names_the_physician_as_prescriber(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, _ = world
    conditional = api.ConditionalPrescription("Dr Anne MÉDECIN-DÉMO", date.today() - timedelta(days=2))
    test = _trod(
        kernel, seeded, patient="lea", conditional_prescription=conditional, answers=ANGINE_OK | {"poids": "30"}
    )
    finished = api.finish(kernel, seeded.pharmacy_id, test, seeded.operators["titulaire"])
    act, _box = _invoice(kernel, finished.invoice_id).lines
    assert act.unit_price_cents == 1000
    with kernel.transaction() as session:
        row = session.get(DepistageTest, test)
        assert row is not None and row.dose_mg == 750  # 50 mg/kg/j en 2 prises for 30 kg
        prescription = session.get(Prescription, row.prescription_id)
        assert prescription is not None and prescription.prescriber_name == "Dr Anne MÉDECIN-DÉMO"
        assert prescription.source == PrescriptionSource.PAPER


def test_outside_the_protocol_the_antibiotic_is_refused_and_the_attestation_orients_to_a_physician(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, identity = world
    pharmacy = seeded.pharmacy_id
    test = _trod(kernel, seeded, answers=ANGINE_OK | {"temperature": "39,8"}, antibiotic=None)
    with pytest.raises(ValidationError, match=r"hors du protocole : fièvre à 39,8 °C"):
        api.choose_antibiotic(kernel, pharmacy, test, "amoxicilline", seeded.products["amoxicilline"])
    api.set_physician(kernel, pharmacy, test, api.Physician("Dr Paul TRAITANT-DÉMO"))
    api.finish(kernel, pharmacy, test, seeded.operators["titulaire"])
    identity.qualify(kernel, pharmacy, seeded.patients["camille"])
    assert api.validate(kernel, pharmacy, test, seeded.operators["titulaire"]) == []
    (attestation,) = _documents(kernel, seeded.patients["camille"])
    root = etree.fromstring(attestation.content)
    comment = root.findtext(".//hl7:content[@ID='commentaire-1']", namespaces=NS)
    assert "orientation vers un médecin" in comment and "fièvre à 39,8 °C" in comment
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(api.attestation_pdf(kernel, pharmacy, test))).pages
    )
    assert "Orientation" in text and "39,8" in text and "TRAITANT-DÉMO" in text


def test_validation_produces_the_attestation_and_the_dispensation_that_names_it(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, identity = world
    pharmacy, patient = seeded.pharmacy_id, seeded.patients["camille"]
    test = _trod(kernel, seeded)
    api.finish(kernel, pharmacy, test, seeded.operators["titulaire"])
    with pytest.raises(ValidationError, match="pharmacien"):
        api.validate(kernel, pharmacy, test, seeded.operators["preparatrice"])
    (action,) = api.validate(kernel, pharmacy, test, seeded.operators["adjoint"])
    assert action.kind == "ins.qualify" and action.plugin == "ins" and _documents(kernel, patient) == []
    identity.qualify(kernel, pharmacy, patient)
    attestation, dispensation = sorted(_documents(kernel, patient), key=lambda d: d.id)
    assert (attestation.type_code, dispensation.type_code) == ("96173-0", "60593-1")
    assert attestation.status == dispensation.status == DocumentStatus.VALIDATED
    assert attestation.title == "Test rapide d'orientation diagnostique : TROD Angine"
    root = etree.fromstring(dispensation.content)
    assert root.find("hl7:inFulfillmentOf/hl7:order/hl7:id", NS).get("root") == attestation.unique_id
    assert "matin et soir pendant 6 jours" in root.findtext(".//hl7:content[@ID='med-001-posologie']", namespaces=NS)
    trod = etree.fromstring(attestation.content)
    assert trod.find(".//hl7:participant[@typeCode='DEV']/hl7:participantRole/hl7:id", NS).get("extension") == UDI
    with kernel.transaction() as session:
        row = session.get(DepistageTest, test)
        assert row is not None and row.status == TrodStatus.VALIDATED
        # No DMP module in this pharmacy, no MSSanté either: the fallback says so, visibly.
        assert row.fallback == Fallback.NO_ADDRESS


def test_the_fallback_needs_the_physician_s_address_and_the_mssante_module(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, identity = world
    pharmacy = seeded.pharmacy_id
    identity.qualify(kernel, pharmacy, seeded.patients["camille"])
    test = _trod(
        kernel, seeded, physician=api.Physician("Dr Paul TRAITANT-DÉMO", mssante="p.traitant@medecin.mssante.fr")
    )
    api.finish(kernel, pharmacy, test, seeded.operators["titulaire"])
    attestations.validate(kernel, pharmacy, test, seeded.operators["titulaire"])
    with kernel.transaction() as session:
        assert session.get(DepistageTest, test).fallback == Fallback.UNAVAILABLE  # type: ignore[union-attr]
    assert sharing.follow_up(kernel, pharmacy) == 0  # still no MSSanté module: tried again, still unavailable
    lines = api.tests_for_patient(kernel, pharmacy, seeded.patients["camille"])
    assert lines[0].fallback_fr == "DMP non alimenté et messagerie MSSanté non disponible"
    # The next test of this patient knows the médecin traitant.
    again = api.start_test(
        kernel, pharmacy, seeded.patients["camille"], seeded.operators["titulaire"], "covid", consent=True
    )
    with kernel.transaction() as session:
        assert session.get(DepistageTest, again).physician_mssante == "p.traitant@medecin.mssante.fr"  # type: ignore[union-attr]


def test_viral_tests_are_documented_without_an_act(world: tuple[Kernel, Seeded, FakeIdentityPlugin]) -> None:
    kernel, seeded, identity = world
    pharmacy = seeded.pharmacy_id
    identity.qualify(kernel, pharmacy, seeded.patients["jean"])
    test = api.start_test(
        kernel, pharmacy, seeded.patients["jean"], seeded.operators["titulaire"], "covid_grippe", consent=True
    )
    api.answer(kernel, pharmacy, test, {"signes_gravite": "non"})
    api.set_device(
        kernel,
        pharmacy,
        test,
        maker="Fluxergy",
        reference="8029",
        lot="B54321",
        expiry=date.today() + timedelta(days=9),
    )
    outcome = api.record_result(
        kernel, pharmacy, test, {"sars_cov_2": "négatif", "grippe_a": "positif", "grippe_b": "négatif"}
    )
    assert outcome.positive and outcome.antibiotics == ()
    finished = api.finish(kernel, pharmacy, test, seeded.operators["titulaire"])
    assert finished.invoice_id is None
    api.validate(kernel, pharmacy, test, seeded.operators["titulaire"])
    (attestation,) = _documents(kernel, seeded.patients["jean"])
    root = etree.fromstring(attestation.content)
    events = [e.get("code") for e in root.findall("hl7:documentationOf/hl7:serviceEvent/hl7:code", NS)]
    assert events == ["U07.1", "J10"]
    assert root.find(".//hl7:participantRole/hl7:id", NS) is None  # no UDI: maker, reference, lot, expiry
    assert "Fluxergy | 8029 | B54321" in root.findtext(".//hl7:content[@ID='dispositif-nom-reference']", namespaces=NS)


def test_bad_input_is_refused_in_french(world: tuple[Kernel, Seeded, FakeIdentityPlugin]) -> None:
    kernel, seeded, _ = world
    pharmacy, titulaire, camille = seeded.pharmacy_id, seeded.operators["titulaire"], seeded.patients["camille"]
    with pytest.raises(ValidationError, match="consentement"):
        api.start_test(kernel, pharmacy, camille, titulaire, "angine", consent=False)
    with pytest.raises(ValidationError, match="Type de TROD inconnu"):
        api.start_test(kernel, pharmacy, camille, titulaire, "rougeole", consent=True)
    with pytest.raises(ValidationError, match="pharmacien identifié"):
        api.start_test(kernel, pharmacy, camille, seeded.operators["preparatrice"], "angine", consent=True)
    test = api.start_test(kernel, pharmacy, camille, titulaire, "angine", consent=True)
    with pytest.raises(ValidationError, match="Répondez à toutes les questions"):
        api.answer(kernel, pharmacy, test, {"temperature": "38"})
    with pytest.raises(ValidationError, match="oui ou non"):
        api.answer(kernel, pharmacy, test, ANGINE_OK | {"grossesse": "peut-être"})
    with pytest.raises(ValidationError, match="Répondez d'abord au questionnaire"):
        api.record_result(kernel, pharmacy, test, {"streptocoque": "positif"})
    api.answer(kernel, pharmacy, test, ANGINE_OK)
    with pytest.raises(ValidationError, match="périmé"):
        api.set_device(kernel, pharmacy, test, scan="(01)03612345678904(17)200131(10)OLD")
    with pytest.raises(ValidationError, match="fabricant, la référence"):
        api.set_device(kernel, pharmacy, test, lot="A1")
    api.set_device(kernel, pharmacy, test, scan=SCAN)
    with pytest.raises(ValidationError, match="Résultat inconnu"):
        api.record_result(kernel, pharmacy, test, {"streptocoque": "rose"})
    with pytest.raises(ValidationError, match="Résultat manquant"):
        api.record_result(kernel, pharmacy, test, {})
    kernel.disable(pharmacy, "depistage")
    with pytest.raises(PluginError, match="n'est pas activé"):
        api.start_test(kernel, pharmacy, camille, titulaire, "angine", consent=True)
