"""Issue 21 on the note de vaccination: sex « indéterminé », local dates, the diseases of every vaccine, and the
vaccinator chosen among the pharmacy's vaccinating professionals when a préparateur bills."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import lgo_vaccination.plugin
import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.documents import HealthDocument
from lgo.documents.cda import CdaHeader, CdaOrganisation, CdaPerson
from lgo.domain.dispensing import create_prescription
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.errors import ValidationError
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.testing.cda import cda_errors, shared_dir
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_vaccination import api, cda, codes
from lgo_vaccination.model import VaccinationNote
from lxml import etree

VAC_NOTE = ["CI-SIS_VAC-NOTE_2023.01.sch"]
NS = {"h": "urn:hl7-org:v3"}
PHARMACIST = CdaPerson(rpps="99999000018", family="DURAND-DEMO", given="Claire")


def _note(patient: SharedIdentity, when: datetime, atc: str = "J07BB02") -> bytes:
    header = CdaHeader(
        unique_id="2.25.42",
        set_id="2.25.43",
        version=1,
        type_code="87273-9",
        type_display="Note de vaccination",
        title="Note de vaccination",
        effective_time=when,
        author=PHARMACIST,
        patient=patient,
        organisation=CdaOrganisation(finess="990000010", name="Pharmacie des Tilleuls (démo)", city="Villedémo"),
        service_event_code=(*codes.NOTE_TYPE, codes.OID_LOINC),
    )
    vaccination = cda.Vaccination(
        when, "IMMUNIZ", "VACCIN DÉMO", "69000073", atc, None, "LOT1", "20035000", "16217701000119102", PHARMACIST
    )
    return cda.build(header, vaccination)


def _identity(sex: str = "F") -> SharedIdentity:
    return SharedIdentity(1, "279035121518989", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), sex, "1985-03-14", "99100")


def test_sex_indetermine_is_written_un_from_jdv_j143_and_passes_the_kit() -> None:
    document = _note(_identity("I"), datetime(2026, 3, 2, 10, tzinfo=UTC))
    gender = etree.fromstring(document).find("h:recordTarget/h:patientRole/h:patient/h:administrativeGenderCode", NS)
    assert (gender.get("code"), gender.get("displayName")) == ("UN", "Inconnu")
    assert cda_errors(document, VAC_NOTE) == []


def test_a_vaccination_at_half_past_midnight_in_paris_is_dated_that_day_with_its_offset() -> None:
    when = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)  # 1 January 2025, 00:30 in Paris
    root = etree.fromstring(_note(_identity(), when))
    assert root.find("h:effectiveTime", NS).get("value") == "20250101003000+0100"
    assert root.find(".//h:substanceAdministration/h:effectiveTime", NS).get("value") == "20250101"
    assert root.findtext(".//h:section/h:text/h:table/h:tbody/h:tr/h:td", namespaces=NS) == "01/01/2025"
    summer = etree.fromstring(_note(_identity(), datetime(2025, 7, 1, 22, 15, tzinfo=UTC)))
    assert summer.find("h:effectiveTime", NS).get("value") == "20250702001500+0200"


@pytest.mark.parametrize(
    ("atc", "diseases"),
    [
        ("J07BK03", "Zona"),
        ("J07BD52", "Rougeole, Oreillons, Rubéole"),
        ("J07CA09", "Diphtérie, Tétanos, Coqueluche, Poliomyélite, Infections à Haemophilus influenzae b, Hépatite B"),
        ("J07BX05", "Infections à virus respiratoire syncytial"),
        ("J07AN01", "Tuberculose"),
    ],
)
def test_the_diseases_come_from_the_atc_code_in_the_title_and_the_readable_part(atc: str, diseases: str) -> None:
    assert codes.disease_fr(atc) == diseases
    root = etree.fromstring(_note(_identity(), datetime(2026, 3, 2, 10, tzinfo=UTC), atc))
    cells = [td.text for td in root.iterfind(".//h:section/h:text/h:table/h:tbody/h:tr/h:td", NS)]
    assert diseases in cells


def test_every_vaccine_of_the_official_value_sets_has_its_diseases() -> None:
    shared = shared_dir()
    if shared is None:
        from lgo.testing import _require_or_skip

        _require_or_skip("../shared absent : jeux de valeurs des vaccins indisponibles.")
        return
    folder = shared / "conformance" / "cda" / "testcontenucda-3.0" / "jeuxDeValeurs"
    found = set()
    for name in ("JDV_VaccinCSE8_CISIS.xml", "JDV_VaccinCSE9_CISIS.xml", "JDV_VaccinCSE24_CISIS.xml"):
        found |= set(re.findall(r'code="(J07[A-Z0-9]*)"', (folder / name).read_text(encoding="utf-8")))
    assert len(found) >= 12
    for atc in sorted(found):
        assert codes.profile(atc) is not None and "autre" not in codes.disease_fr(atc).lower(), atc


def test_every_atc_group_of_vaccines_resolves_and_a_non_vaccine_code_is_refused_in_french() -> None:
    groups = [
        "AC",
        "AD",
        "AE",
        "AF",
        "AG",
        "AH",
        "AJ",
        "AK",
        "AL",
        "AM",
        "AN",
        "AP",
        "AR",
        "AX",
        "BA",
        "BB",
        "BC",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BJ",
        "BK",
        "BL",
        "BM",
        "BN",
        "BX",
        "CA",
    ]
    for group in groups:
        assert codes.profile(f"J07{group}99") is not None, group
    with pytest.raises(ValidationError, match="n'est pas celui d'un vaccin"):
        codes.disease_fr("J06BB01")  # an immunoglobulin, not a vaccine


# --- the vaccinator -------------------------------------------------------------------------------------------


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> tuple[Kernel, Seeded, FakeIdentityPlugin]:
    ins = FakeIdentityPlugin("ins")
    kernel = lgo_make_kernel(lgo_vaccination.plugin, ins)
    kernel.enable(lgo_seeded.pharmacy_id, "vaccination", with_dependencies=True)
    ins.qualified.add(lgo_seeded.patients["camille"])
    return kernel, lgo_seeded, ins


def _bill_by(kernel: Kernel, seeded: Seeded, operator: str) -> Any:
    pharmacy, patient = seeded.pharmacy_id, seeded.patients["camille"]
    with kernel.transaction() as session:
        product = product_by_cip13(session, pharmacy, seeded.products["grippe"])
        receive(session, pharmacy, product, lot_number="LOT-V1", expiry=date.today() + timedelta(days=90), quantity=2)
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Pharmacien", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy, seeded.operators[operator])
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, seeded.products["grippe"], 1, lot_number="LOT-V1")
    counter.add_act(billing, "VGP")
    return counter.end_billing(billing)


def test_a_preparateur_bills_and_a_pharmacist_chosen_as_vaccinator_validates_the_note(world: Any) -> None:
    kernel, seeded, _ins = world
    pharmacy, ops = seeded.pharmacy_id, seeded.operators
    result = _bill_by(kernel, seeded, "preparatrice")
    (action,) = [a for a in result.actions if a.kind == "vaccination.check_note"]
    assert action.data["vaccinator_id"] is None and "Choisissez le pharmacien vaccinateur" in action.message_fr
    choices = api.vaccinators(kernel, pharmacy)
    assert {v.operator_id for v in choices} == {ops["titulaire"], ops["adjoint"]}
    assert {c["operator_id"] for c in action.data["vaccinators"]} == {ops["titulaire"], ops["adjoint"]}
    note_id = action.data["note_id"]
    with pytest.raises(ValidationError, match="vaccinateur doit être un pharmacien"):
        api.validate_note(kernel, pharmacy, note_id, ops["preparatrice"])
    with pytest.raises(ValidationError, match="vaccinateur doit être un pharmacien"):
        api.update_note(kernel, pharmacy, note_id, vaccinator_id=ops["preparatrice"])
    api.update_note(kernel, pharmacy, note_id, vaccinator_id=ops["adjoint"])
    assert api.validate_note(kernel, pharmacy, note_id, ops["preparatrice"]) == []
    with kernel.transaction() as session:
        note = session.get(VaccinationNote, note_id)
        document = session.get(HealthDocument, note.document_id)
        content, rpps = document.content, next(v.rpps for v in choices if v.operator_id == ops["adjoint"])
    performer = etree.fromstring(content).find(".//h:substanceAdministration/h:performer/h:assignedEntity/h:id", NS)
    assert performer.get("extension") == f"8{rpps}"
    assert cda_errors(content, VAC_NOTE) == []
