"""Issue 21 acceptance: identities over the whole space of INS traits (sex I, partial dates, NIA, Corsica, born
abroad or in an unknown place, long and non-ASCII names written the RNIV way, minors) go through every document
the plugins produce — the note de vaccination, the CR d'entretien of each theme, the BPM — and the XDM archive that
carries them; the ANS kit finds 0 errors and the ebRIM schemas accept the metadata. An identity missing an INS
trait is never put in a document: the kernel refuses to share it, with its reason (the document waits)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo import traits
from lgo.documents import cda
from lgo.identity import OID_NIA, OID_NIR, OID_TEST, SharedIdentity
from lgo.testing.cda import cda_errors
from lgo_entretiens import pdf
from lgo_entretiens.themes import BILAN_MEDICAMENTEUX, CR_ENTRETIEN, THEMES
from lgo_ins import matricule
from lgo_mssante import xdm
from lgo_mssante.testing import xdm_errors
from lgo_vaccination import cda as vaccination_cda
from lgo_vaccination import codes

PHARMACIST = cda.CdaPerson(rpps="99999000018", family="DURAND-DEMO", given="Claire")
PHARMACY = cda.CdaOrganisation(finess="990000010", name="Pharmacie des Tilleuls (démo)", city="Villedémo")
TYPED_NAMES = st.text(
    alphabet=st.sampled_from([*"abcdefghijklmnopqrstuvwxyzÉÈÊËÀÂÄÎÏÔÖÙÛÜŸÇÆŒØßŁĐÞéèçœæ", " ", "-", "'"]),
    min_size=1,
    max_size=100,
).filter(traits.is_ins_name)
BODIES = {OID_NIR: "297022A020778", OID_NIA: "1090763220888", OID_TEST: "160012B020777"}


@st.composite
def identities(draw: st.DrawFn) -> SharedIdentity:
    oid = draw(st.sampled_from(sorted(BODIES)))
    body = BODIES[oid]
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=1)))  # minors too
    precision = draw(st.sampled_from(["day", "month", "year"]))
    birth_date = {
        "day": born.isoformat(),
        "month": f"{born:%Y-%m}-00",
        "year": f"{born:%Y}-00-00",
    }[precision]
    first_names = tuple(traits.ins_name(n) for n in draw(st.lists(TYPED_NAMES, min_size=1, max_size=3)))
    return SharedIdentity(
        patient_id=1,
        matricule=f"{body}{matricule.key(body):02d}",
        oid=oid,
        birth_name=traits.ins_name(draw(TYPED_NAMES)),
        first_names=first_names,
        sex=draw(st.sampled_from(traits.SEXES)),
        birth_date=birth_date,
        birth_place_code=draw(st.sampled_from(["2A004", "2B033", "63220", "97411", "99109", "99352", "99999"])),
        used_name=draw(st.none() | TYPED_NAMES.map(traits.ins_name)),
    )


def _header(patient: SharedIdentity, type_: tuple[str, str], title: str, when: datetime) -> cda.CdaHeader:
    return cda.CdaHeader(
        unique_id="2.25.4242",
        set_id="2.25.4243",
        version=1,
        type_code=type_[0],
        type_display=type_[1],
        title=title,
        patient=patient,
        author=PHARMACIST,
        organisation=PHARMACY,
        effective_time=when,
        service_event_code=(*codes.NOTE_TYPE, codes.OID_LOINC) if type_ == codes.NOTE_TYPE else None,
    )


def _report(patient: SharedIdentity, type_: tuple[str, str], title: str, when: datetime) -> bytes:
    content = pdf.ReportContent(
        title=title,
        pharmacy=PHARMACY.name,
        pharmacist="Claire DURAND-DEMO (RPPS 99999000018)",
        patient=f"{patient.birth_name} {' '.join(patient.first_names)}, INS {patient.matricule}",
        held_on=when.date(),
        theme=title,
        analysis="Analyse.",
        recommendations="Recommandations.",
        medications=[("PARACÉTAMOL 1 g", "3400930000014", "01/03/2026", "2")] if type_ == BILAN_MEDICAMENTEUX else [],
    )
    return cda.wrap_pdf(_header(patient, type_, title, when), pdf.render(content))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    patient=identities(),
    atc=st.sampled_from(sorted(codes.PROFILES)),
    theme=st.sampled_from(sorted(THEMES)),
    when=st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
)
def test_every_document_type_over_the_whole_space_of_identities_passes_the_kit(
    patient: SharedIdentity, atc: str, theme: str, when: datetime
) -> None:
    assert patient.missing_traits == []
    note = vaccination_cda.build(
        _header(patient, codes.NOTE_TYPE, f"Note de vaccination — {codes.disease_fr(atc)}", when),
        vaccination_cda.Vaccination(
            when, "IMMUNIZ", "VACCIN DÉMO", "69000073", atc, None, "LOT-1", "20035000", "16217701000119102", PHARMACIST
        ),
    )
    interview = _report(
        patient, CR_ENTRETIEN, f"Compte rendu d'entretien pharmaceutique — {THEMES[theme].label_fr}", when
    )
    bpm = _report(patient, BILAN_MEDICAMENTEUX, "Bilan partagé de médication", when)
    assert cda_errors(note, ["CI-SIS_VAC-NOTE_2023.01.sch"]) == []
    assert cda_errors(interview) == []
    assert cda_errors(bpm) == []
    archive = xdm.build(
        [xdm.OutgoingDocument(interview, "CR"), xdm.OutgoingDocument(bpm, "BPM")],
        source_id="1.2.250.1.999.9.1",
        sender="officine@pharmacie.mssante.fr",
        recipients=["medecin@medecin.mssante.fr"],
    )
    assert xdm_errors(archive) == []


@pytest.mark.parametrize(
    ("change", "missing"),
    [({"birth_place_code": None}, "lieu de naissance"), ({"sex": "U"}, "sexe"), ({"first_names": ()}, "prénoms")],
)
def test_an_identity_missing_an_ins_trait_is_never_shared(change: dict[str, object], missing: str) -> None:
    from dataclasses import replace

    body = BODIES[OID_NIR]
    complete = SharedIdentity(
        1, f"{body}{matricule.key(body):02d}", OID_NIR, "ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", "2A020"
    )
    assert complete.missing_traits == []
    assert replace(complete, **change).missing_traits == [missing]  # type: ignore[arg-type]
