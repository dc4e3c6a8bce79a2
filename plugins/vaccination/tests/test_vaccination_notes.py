"""Billing a vaccination prepares the note; validation produces a VAC-NOTE that passes the ANS kit; the note waits
for a qualified identity; corrections replace, cancellations withdraw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import lgo_vaccination.plugin
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.counter import BillingResult
from lgo.demo_data import Seeded
from lgo.documents import DocumentStatus, HealthDocument
from lgo.documents.cda import CdaHeader, CdaOrganisation, CdaPerson
from lgo.domain.dispensing import create_prescription
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.errors import ValidationError
from lgo.events import DocumentDeprecated, DocumentValidated
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.testing.cda import cda_errors
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_vaccination import cda, codes, service
from lgo_vaccination.model import NoteStatus
from lxml import etree

VAC_NOTE = ["CI-SIS_VAC-NOTE_2023.01.sch"]
NS = {"hl7": "urn:hl7-org:v3"}


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> tuple[Kernel, Seeded, FakeIdentityPlugin]:
    ins = FakeIdentityPlugin("ins")  # stands in for the ins plugin vaccination requires
    kernel = lgo_make_kernel(lgo_vaccination.plugin, ins)
    kernel.enable(lgo_seeded.pharmacy_id, "vaccination", with_dependencies=True)
    return kernel, lgo_seeded, ins


def _bill(
    kernel: Kernel, seeded: Seeded, vaccine: str = "grippe", act: str | None = "VGP", tariff: str | None = None
) -> BillingResult:
    pharmacy, patient = seeded.pharmacy_id, seeded.patients["camille"]
    with kernel.transaction() as session:
        product = product_by_cip13(session, pharmacy, seeded.products[vaccine])
        receive(session, pharmacy, product, lot_number="LOT-T1", expiry=date.today() + timedelta(days=200), quantity=3)
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Pharmacien", prescribed_on=date.today()
        ).id
    from lgo.counter import Counter

    counter = Counter(kernel, pharmacy, seeded.operators["titulaire"])
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, seeded.products[vaccine], 1, lot_number="LOT-T1")
    if act:
        counter.add_act(billing, act, tariff=tariff)
    return counter.end_billing(billing)


def _document(kernel: Kernel, pharmacy_id: int, note_id: int) -> HealthDocument:
    from lgo_vaccination.model import VaccinationNote

    with kernel.transaction() as session:
        note = session.get(VaccinationNote, note_id)
        assert note is not None and note.document_id is not None
        document = session.get(HealthDocument, note.document_id)
        assert document is not None
        session.expunge(document)
        return document


def test_a_billed_vaccination_gives_a_note_whose_cda_passes_the_vac_note_kit(world: Any) -> None:
    kernel, seeded, ins = world
    pharmacy, patient = seeded.pharmacy_id, seeded.patients["camille"]
    ins.qualified.add(patient)
    result = _bill(kernel, seeded)
    kinds = [a.kind for a in result.actions if a.plugin == "vaccination"]
    assert kinds == ["vaccination.check_note"]  # no qualification window for a qualified identity
    (note_id,) = service.notes_for_invoice(kernel, pharmacy, result.invoice_id)
    service.update_note(kernel, pharmacy, note_id, site_code="16217661000119109", comment="RAS")
    assert service.validate_note(kernel, pharmacy, note_id, seeded.operators["titulaire"]) == []
    assert service.note_status(kernel, pharmacy, note_id) == NoteStatus.VALIDATED
    document = _document(kernel, pharmacy, note_id)
    assert (document.type_code, document.status) == ("87273-9", DocumentStatus.VALIDATED)
    assert cda_errors(document.content or b"", VAC_NOTE) == []
    root = etree.fromstring(document.content or b"")
    assert root.xpath("string(//hl7:lotNumberText)", namespaces=NS) == "LOT-T1"
    assert root.xpath("string(//hl7:approachSiteCode/@code)", namespaces=NS) == "16217661000119109"
    assert root.xpath("string(//hl7:manufacturedMaterial/hl7:code/@code)", namespaces=NS) == "69000073"
    assert [e.document_type for e in ins.events if isinstance(e, DocumentValidated)] == ["87273-9"]
    record = service.vaccination_record(kernel, pharmacy, patient)
    assert [(r.disease, r.status) for r in record] == [("Grippe", "validée")]


def test_an_unqualified_patient_s_note_waits_visibly_then_leaves_after_qualification(world: Any) -> None:
    kernel, seeded, ins = world
    pharmacy, patient = seeded.pharmacy_id, seeded.patients["camille"]
    result = _bill(kernel, seeded)
    # The qualification is the identity plugin's action (its window, its answers); the note is this plugin's.
    assert [(a.kind, a.plugin) for a in result.actions if a.kind in ("ins.qualify", "vaccination.check_note")] == [
        ("ins.qualify", "ins"),
        ("vaccination.check_note", "vaccination"),
    ]
    (note_id,) = service.notes_for_invoice(kernel, pharmacy, result.invoice_id)
    actions = service.validate_note(kernel, pharmacy, note_id, seeded.operators["titulaire"])
    assert [a.kind for a in actions] == ["ins.qualify"]
    assert service.note_status(kernel, pharmacy, note_id) == NoteStatus.WAITING_IDENTITY
    assert "attente" in NoteStatus.WAITING_IDENTITY.label_fr
    ins.qualify(kernel, pharmacy, patient)
    assert service.note_status(kernel, pharmacy, note_id) == NoteStatus.VALIDATED
    assert _document(kernel, pharmacy, note_id).status == DocumentStatus.VALIDATED


def test_correction_replaces_and_cancellation_withdraws(world: Any) -> None:
    kernel, seeded, ins = world
    pharmacy, patient, titulaire = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    ins.qualified.add(patient)
    (note_id,) = service.notes_for_invoice(kernel, pharmacy, _bill(kernel, seeded).invoice_id)
    service.validate_note(kernel, pharmacy, note_id, titulaire)
    first = _document(kernel, pharmacy, note_id)
    new_id, _ = service.correct_note(kernel, pharmacy, note_id, titulaire, act_type="BOOSTER")
    second = _document(kernel, pharmacy, new_id)
    assert (second.set_id, second.version, second.replaces_id) == (first.set_id, 2, first.id)
    assert service.note_status(kernel, pharmacy, note_id) == NoteStatus.REPLACED
    assert cda_errors(second.content or b"", VAC_NOTE) == []
    service.cancel_note(kernel, pharmacy, new_id, titulaire, "Vaccination saisie par erreur")
    assert [e.document_id for e in ins.events if isinstance(e, DocumentDeprecated)] == [second.id]
    assert service.vaccination_record(kernel, pharmacy, patient) == []
    with pytest.raises(ValidationError, match="déjà annulée"):
        service.cancel_note(kernel, pharmacy, new_id, titulaire, "encore")


def test_bad_codes_are_refused_in_french_and_no_act_means_no_note(world: Any) -> None:
    kernel, seeded, _ins = world
    pharmacy = seeded.pharmacy_id
    (note_id,) = service.notes_for_invoice(kernel, pharmacy, _bill(kernel, seeded).invoice_id)
    with pytest.raises(ValidationError, match="Voie d'administration inconnue"):
        service.update_note(kernel, pharmacy, note_id, route_code="999")
    with pytest.raises(ValidationError, match="lot du vaccin est obligatoire"):
        service.update_note(kernel, pharmacy, note_id, lot_number="  ")
    assert service.notes_for_invoice(kernel, pharmacy, _bill(kernel, seeded, act=None).invoice_id) == []
    assert {"VGP", "INJ", "RVA"} <= set(kernel.acts)


def test_the_rva_indicator_counts_the_acts_billed_at_the_prescribed_tariff(world: Any) -> None:
    """REMU NUM vaccination, by hand: three RVA at 9,60 € (the PRESCRIBED tariff), one at 7,50 €, one VGP (not an
    RVA): 3 of 4 RVA acts, 75 %; the one miss is the RVA at 7,50 €."""
    from lgo.domain.billing import InvoiceLine
    from lgo_vaccination import indicators
    from sqlalchemy import select

    kernel, seeded, _ins = world
    pharmacy = seeded.pharmacy_id
    prescribed = [_bill(kernel, seeded, act="RVA", tariff=codes.PRESCRIBED).invoice_id for _ in range(3)]
    administered = _bill(kernel, seeded, act="RVA").invoice_id
    _bill(kernel, seeded, act="VGP")
    start, end = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    with kernel.transaction() as session:
        fees = session.execute(
            select(InvoiceLine.invoice_id, InvoiceLine.unit_price_cents, InvoiceLine.label).where(
                InvoiceLine.act_code == "RVA"
            )
        ).all()
        assert {(i, c) for i, c, _label in fees} == {*((i, 960) for i in prescribed), (administered, 750)}
        assert indicators.prescribed_cents() == 960
        assert indicators.count(session, pharmacy, start, end) == indicators.Tally(3, 4)
        assert indicators.count(session, pharmacy, start, end).rate == 75.0
        misses = indicators.misses(session, pharmacy, start, end, 10)
    assert len(misses) == 1 and "7,50 €" in misses[0].reason_fr


def test_a_disabled_plugin_prepares_nothing(world: Any) -> None:
    kernel, seeded, _ins = world
    kernel.disable(seeded.pharmacy_id, "vaccination")
    kernel._active.clear()  # a real process trusts its cache of active plugins for a few seconds
    result = _bill(kernel, seeded, act=None)
    assert service.notes_for_invoice(kernel, seeded.pharmacy_id, result.invoice_id) == []
    assert not [a for a in result.actions if a.plugin == "vaccination"]


VACCINES = [
    ("69000073", "J07BB02", "VACCIN GRIPPE DÉMO"),
    ("69000080", "J07AL02", "VACCIN PNEUMOCOQUE DÉMO"),
    ("69000097", "J07CA01", "VACCIN DTP DÉMO"),
    ("69000103", "J07BN01", "VACCIN COVID-19 DÉMO"),
    ("60000001", "J07BC02", "VACCIN HÉPATITE A DÉMO"),
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vaccine=st.sampled_from(VACCINES),
    route=st.sampled_from(sorted(codes.ROUTES)),
    site=st.sampled_from(sorted(codes.SITES)),
    act_type=st.sampled_from(sorted(codes.ACT_TYPES)),
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    lot=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20),
    comment=st.text(max_size=80),
)
def test_notes_over_vaccines_routes_sites_act_types_and_dates_all_pass_the_kit(
    vaccine: tuple[str, str, str],
    route: str,
    site: str,
    act_type: str,
    day: date,
    lot: str,
    comment: str,
) -> None:
    cis, atc, label = vaccine
    when = datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)
    pharmacist = CdaPerson(rpps="99999000018", family="DURAND-DEMO", given="Claire")
    header = CdaHeader(
        unique_id="2.25.42",
        set_id="2.25.43",
        version=1,
        type_code="87273-9",
        type_display="Note de vaccination",
        title="Note de vaccination",
        effective_time=when,
        author=pharmacist,
        patient=SharedIdentity(1, "279035121518989", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), "F", "1985-03-14", "99100"),
        organisation=CdaOrganisation(
            finess="990000010",
            name="Pharmacie des Tilleuls (démo)",
            street="12 place des Tilleuls",
            postal_code="99100",
            city="Villedémo",
        ),
        service_event_code=(*codes.NOTE_TYPE, codes.OID_LOINC),
    )
    document = cda.build(
        header,
        cda.Vaccination(
            when, act_type, label, cis, atc, "3400930000731", lot, route, site, pharmacist, comment.strip()
        ),
    )
    assert cda_errors(document, VAC_NOTE) == []


def test_vaccinations_are_read_from_another_author_s_note() -> None:
    from lgo.testing.cda import shared_dir
    from lgo_vaccination.dmp_record import vaccinations_in

    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared absent : exemple officiel de note de vaccination indisponible.")
    example = (shared / "conformance/cda/testcontenucda-3.0/ExemplesCDA/VAC-NOTE_2023.01.xml").read_bytes()
    vaccinations = vaccinations_in(example, "Note de vaccination")
    assert vaccinations and all(v.date and v.vaccine for v in vaccinations)
    assert any("TETANIQUE" in v.vaccine for v in vaccinations)
    assert any(v.lot == "4456672" for v in vaccinations)
