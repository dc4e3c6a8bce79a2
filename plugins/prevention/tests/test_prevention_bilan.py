"""Mon bilan prévention: the age bands at their boundaries, once per band (the second refused with the date of the
first), the interview's themes, the plan, RDP and the one other act, the PPP as a CDA level 1 document that passes
the ANS kit, validated, waiting for the identity, and sent to the médecin traitant only through MSSanté."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import lgo_prevention.plugin
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo import identifiers, traits
from lgo.demo_data import Seeded
from lgo.documents import DocumentStatus, HealthDocument, cda
from lgo.documents import xds as xds_metadata
from lgo.domain.billing import Invoice
from lgo.domain.patients import PartialDate, create_patient
from lgo.domain.pharmacy import Pharmacy
from lgo.errors import ValidationError
from lgo.identity import OID_NIA, OID_NIR, OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.testing.cda import cda_errors
from lgo.testing.contracts import PluginContract
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_prevention import api, bands, plan
from lgo_prevention.model import Bilan, PreventionBase
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

NS = {"hl7": "urn:hl7-org:v3"}
TODAY = date(2026, 12, 2)


class TestPreventionPluginContract(PluginContract):
    plugin = lgo_prevention.plugin
    models = PreventionBase.metadata


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> tuple[Kernel, Seeded, FakeIdentityPlugin]:
    identity = FakeIdentityPlugin("ins")
    kernel = lgo_make_kernel(lgo_prevention.plugin, identity)
    for name in ("ins", "prevention"):
        kernel.enable(lgo_seeded.pharmacy_id, name)
    return kernel, lgo_seeded, identity


def _born(years: int, days_after: int = 0) -> PartialDate:
    return PartialDate.of(date(TODAY.year - years, TODAY.month, TODAY.day) + timedelta(days=days_after))


@pytest.mark.parametrize(
    ("birth", "band"),
    [
        (_born(18), "18-25"),
        (_born(25), "18-25"),
        (_born(45), "45-50"),
        (_born(50), "45-50"),
        (_born(60), "60-65"),
        (_born(65), "60-65"),
        (_born(70), "70-75"),
        (_born(75), "70-75"),
        (_born(76, days_after=1), "70-75"),
    ],
)
def test_the_four_age_bands_include_their_limits(birth: PartialDate, band: str) -> None:
    assert bands.band_for(birth, TODAY).code == band


@pytest.mark.parametrize(
    "birth", [_born(18, days_after=1), _born(26), _born(44), _born(51), _born(59), _born(66), _born(69), _born(76)]
)
def test_outside_the_bands_the_bilan_is_refused_in_french(birth: PartialDate) -> None:
    with pytest.raises(ValidationError, match="Mon bilan prévention concerne les tranches d'âge 18 à 25 ans"):
        bands.band_for(birth, TODAY)


def test_an_incomplete_birth_date_across_a_limit_asks_for_the_date() -> None:
    with pytest.raises(ValidationError, match=r"Âge incertain \(25 ou 26 ans"):
        bands.band_for(PartialDate(2000, 12), TODAY)
    assert bands.band_for(PartialDate(1979), TODAY).code == "45-50"


def _patient(kernel: Kernel, seeded: Seeded, birth: str, sex: str = "F") -> int:
    with kernel.transaction() as session:
        return create_patient(
            session, seeded.pharmacy_id, birth_name="Prévention-Démo", first_names="Alix", sex=sex, birth_date=birth
        ).id


def _bilan(kernel: Kernel, seeded: Seeded, patient: int, **start: object) -> int:
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    bilan = api.start_bilan(kernel, pharmacy, patient, titulaire, **start)  # type: ignore[arg-type]
    with kernel.transaction() as session:
        band = session.get(Bilan, bilan).band  # type: ignore[union-attr]
    api.record_interview(kernel, pharmacy, bilan, {t.code: "Rien à signaler." for t in api.themes(band)})
    api.set_plan(
        kernel,
        pharmacy,
        bilan,
        [api.Priority("activite_physique", "Marcher 30 minutes par jour", "Descendre du bus un arrêt plus tôt.")],
    )
    return bilan


def _fees(kernel: Kernel, invoice_id: int) -> list[tuple[str | None, int, int]]:
    with kernel.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return [(line.act_code, line.unit_price_cents, line.reimbursement_rate) for line in invoice.lines]


def test_rdp_is_billed_once_per_band_and_a_second_is_refused_with_the_date_of_the_first(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, _ = world
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    patient = _patient(kernel, seeded, "1962-05-10")  # 64: band 60-65
    first = _bilan(kernel, seeded, patient, held_on=date.today() - timedelta(days=40))
    billed = api.bill(kernel, pharmacy, first, seeded.operators["preparatrice"], additional_act="RKD")
    assert _fees(kernel, billed.invoice_id) == [("RDP", 3000, 100), ("RKD", 300, 100)]
    when = (date.today() - timedelta(days=40)).strftime("%d/%m/%Y")
    with pytest.raises(ValidationError, match=f"déjà été réalisé le {when} pour la tranche 60 à 65 ans"):
        api.start_bilan(kernel, pharmacy, patient, titulaire)
    # Two bilans opened before either is billed: the second is refused at billing.
    other = _patient(kernel, seeded, "2003-01-01")
    one, two = _bilan(kernel, seeded, other), _bilan(kernel, seeded, other)
    api.bill(kernel, pharmacy, one, titulaire)
    with pytest.raises(ValidationError, match="un seul bilan par personne et par tranche d'âge"):
        api.bill(kernel, pharmacy, two, titulaire)


def test_one_other_act_the_same_day_and_the_drom_fee(world: tuple[Kernel, Seeded, FakeIdentityPlugin]) -> None:
    kernel, seeded, _ = world
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    young = _bilan(kernel, seeded, _patient(kernel, seeded, "2004-03-03"))
    with pytest.raises(ValidationError, match="un seul autre acte le même jour"):
        api.bill(kernel, pharmacy, young, titulaire, additional_act="TRD")
    with pytest.raises(ValidationError, match="de 50 à 74 ans"):
        api.bill(kernel, pharmacy, young, titulaire, additional_act="RKD")
    with pytest.raises(ValidationError, match="Acte inconnu : « RVA »"):  # the vaccination plugin is not here
        api.bill(kernel, pharmacy, young, titulaire, additional_act="RVA")
    with kernel.transaction() as session:
        session.get(Pharmacy, pharmacy).postal_code = "97300"  # type: ignore[union-attr]
    billed = api.bill(kernel, pharmacy, young, titulaire)
    assert _fees(kernel, billed.invoice_id) == [("RDP", 3150, 100)]


def test_the_interview_covers_every_theme_of_the_band_and_the_plan_has_priorities(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, _ = world
    pharmacy = seeded.pharmacy_id
    bilan = api.start_bilan(kernel, pharmacy, _patient(kernel, seeded, "1952-01-15"), seeded.operators["adjoint"])
    codes = [t.code for t in api.themes("70-75")]
    assert {"autonomie_chutes", "memoire", "isolement"} <= set(codes) and "sante_sexuelle" not in codes
    with pytest.raises(ValidationError, match="Thèmes non abordés : Mémoire"):
        api.record_interview(kernel, pharmacy, bilan, {c: "RAS" for c in codes if c != "memoire"})
    with pytest.raises(ValidationError, match="hors de la tranche 70-75 ans : ecrans"):
        api.record_interview(kernel, pharmacy, bilan, {"ecrans": "3 h par jour"})
    with pytest.raises(ValidationError, match="Menez d'abord l'entretien"):
        api.set_plan(kernel, pharmacy, bilan, [api.Priority("memoire", "x", "y")])
    api.record_interview(kernel, pharmacy, bilan, {c: "RAS" for c in codes})
    with pytest.raises(ValidationError, match="de 1 à 5 priorités"):
        api.set_plan(kernel, pharmacy, bilan, [])
    with pytest.raises(ValidationError, match="un objectif et des actions"):
        api.set_plan(kernel, pharmacy, bilan, [api.Priority("memoire", "Stimuler la mémoire", " ")])
    with pytest.raises(ValidationError, match="pharmacien identifié"):
        api.start_bilan(kernel, pharmacy, seeded.patients["camille"], seeded.operators["preparatrice"])


def _pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_ppp_is_a_level_1_cda_that_passes_the_kit_waits_for_the_identity_and_names_its_format(
    world: tuple[Kernel, Seeded, FakeIdentityPlugin],
) -> None:
    kernel, seeded, identity = world
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    patient = _patient(kernel, seeded, "1978-02-28")
    physician = api.Physician("Dr Paul TRAITANT-DÉMO", "p.traitant@medecin.mssante.fr")
    bilan = _bilan(kernel, seeded, patient, physician=physician)
    api.bill(kernel, pharmacy, bilan, titulaire)
    (action,) = api.validate(kernel, pharmacy, bilan, titulaire)
    assert action.kind == "ins.qualify" and action.plugin == "ins"
    identity.qualify(kernel, pharmacy, patient)
    with kernel.transaction() as session:
        document = session.scalars(select(HealthDocument).where(HealthDocument.patient_id == patient)).one()
        content, status = document.content, document.status
        row = session.get(Bilan, bilan)
        assert row is not None
        # No MSSanté module in this pharmacy: said, visibly.
        assert row.physician_status_fr == "module MSSanté non actif : plan non envoyé au médecin traitant"
    assert content is not None and status == DocumentStatus.VALIDATED
    assert cda_errors(content) == []
    root = etree.fromstring(content)
    assert root.find("hl7:code", NS).get("code") == "83869-8"
    # The PPP model is named on the PDF body: the ClinicalDocument keeps the three level-1 templateIds only.
    assert root.find("hl7:component/hl7:nonXMLBody/hl7:templateId", NS).get("root") == "1.2.250.1.213.1.1.1.56"
    assert len(root.findall("hl7:templateId", NS)) == 3
    assert xds_metadata.from_cda(content).format[0] == "urn:asip:ci-sis:ppp:2023"
    pdf = base64.b64decode(root.findtext("hl7:component/hl7:nonXMLBody/hl7:text", namespaces=NS))
    text = _pdf_text(pdf)
    assert "Marcher 30 minutes par jour" in text and "INS" in text and "TRAITANT-DÉMO" in text
    assert "Marcher 30 minutes par jour" in _pdf_text(api.plan_pdf(kernel, pharmacy, bilan))
    lines = api.bilans(kernel, pharmacy, patient)
    assert lines[0].status_fr == "plan validé"


NAMES = st.text(
    alphabet=st.sampled_from([*"abcdefghijklmnopqrstuvwxyzÉÈÊËÀÂÄÎÏÔÖÙÛÜŸÇÆŒØßŁĐÞéèçœæ", " ", "-", "'"]),
    min_size=1,
    max_size=100,
).filter(traits.is_ins_name)
BODIES = {OID_NIR: "297022A020778", OID_NIA: "1090763220888", OID_TEST: "160012B020777"}
FREE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=300)


@st.composite
def identities(draw: st.DrawFn) -> SharedIdentity:
    oid = draw(st.sampled_from(sorted(BODIES)))
    born = draw(st.dates(min_value=date(1940, 1, 1), max_value=date(2008, 1, 1)))
    precision = draw(st.sampled_from(["day", "month", "year"]))
    return SharedIdentity(
        patient_id=1,
        matricule=f"{BODIES[oid]}{identifiers.nir_key(BODIES[oid]):02d}",
        oid=oid,
        birth_name=traits.ins_name(draw(NAMES)),
        first_names=tuple(traits.ins_name(n) for n in draw(st.lists(NAMES, min_size=1, max_size=3))),
        sex=draw(st.sampled_from(traits.SEXES)),
        birth_date={"day": born.isoformat(), "month": f"{born:%Y-%m}-00", "year": f"{born:%Y}-00-00"}[precision],
        birth_place_code=draw(st.sampled_from(["2A004", "2B033", "63220", "97411", "99109", "99352", "99999"])),
        used_name=draw(st.none() | NAMES.map(traits.ins_name)),
    )


@given(
    patient=identities(),
    band=st.sampled_from(sorted(bands.BANDS)),
    said=FREE_TEXT,
    objective=FREE_TEXT,
    actions=FREE_TEXT,
    when=st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_ppp_passes_the_kit_s_level_1_checks(
    patient: SharedIdentity, band: str, said: str, objective: str, actions: str, when: datetime
) -> None:
    themes = [bands.THEMES[code].label_fr for code in bands.BANDS[band].themes]
    content = plan.PlanContent(
        pharmacy="Pharmacie des Tilleuls (démo)",
        pharmacist="Claire DURAND-DÉMO (RPPS 99999000013)",
        patient=f"{patient.birth_name} {' '.join(patient.first_names)}, INS {patient.matricule}",
        held_on=when.date(),
        band=bands.BANDS[band].label_fr,
        interview=[(theme, said) for theme in themes],
        priorities=[(themes[0], objective, actions)],
    )
    header = cda.CdaHeader(
        unique_id="2.25.4246",
        set_id="2.25.4247",
        version=1,
        type_code=plan.TYPE[0],
        type_display=plan.TYPE[1],
        title=plan.TITLE,
        patient=patient,
        author=cda.CdaPerson(rpps="99999000013", family="DURAND-DÉMO", given="Claire"),
        organisation=cda.CdaOrganisation(finess="990000010", name="Pharmacie des Tilleuls (démo)"),
        effective_time=when,
    )
    document = plan.level1_ppp(cda.wrap_pdf(header, plan.render(content)))
    assert cda_errors(document) == []
