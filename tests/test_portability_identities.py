"""Issue 24 over the whole space of identities (sex indéterminé, partial birth dates, NIA, Corsica, born abroad or
in an unknown place, long and non-ASCII names, minors): a patient's archive of the export is a valid IHE XDM archive
(ebRIM metadata, XHTML index, ASCII README), carries the CDA exactly as produced, and its FHIR Patient says the INS,
the names and the partial birth date as written; an identity that is not qualified travels under the local
identifier, never a half INS; the safe reader refuses every unsafe entry name."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo import traits
from lgo.documents import cda
from lgo.identity import OID_NIA, OID_NIR, OID_TEST, SharedIdentity
from lgo.portability import fhir
from lgo.portability.archive_parts import TableFiles
from lgo.portability.kernel_tables import kernel_excluded, kernel_tables
from lgo.portability.patient_archive import ExportContext, PatientArchive
from lgo.portability.safezip import ArchiveRefused, check_name
from lgo.portability.tables import Catalogue
from lgo.testing.xds import metadata_errors
from lgo_ins import matricule
from lgo_vaccination import cda as vaccination_cda
from lgo_vaccination import codes
from lxml import etree

PHARMACIST = cda.CdaPerson(rpps="99999000018", family="DURAND-DEMO", given="Claire")
PHARMACY = cda.CdaOrganisation(finess="990000010", name="Pharmacie des Tilleuls (démo)", city="Villedémo")
TYPED_NAMES = st.text(
    alphabet=st.sampled_from([*"abcdefghijklmnopqrstuvwxyzÉÈÊËÀÂÄÎÏÔÖÙÛÜŸÇÆŒØßŁĐÞéèçœæ", " ", "-", "'"]),
    min_size=1,
    max_size=100,
).filter(traits.is_ins_name)
BODIES = {OID_NIR: "297022A020778", OID_NIA: "1090763220888", OID_TEST: "160012B020777"}
CATALOGUE = Catalogue(kernel_tables(), kernel_excluded())
MOMENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@st.composite
def identities(draw: st.DrawFn) -> SharedIdentity:
    oid = draw(st.sampled_from(sorted(BODIES)))
    body = BODIES[oid]
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=1)))  # minors too
    birth_date = draw(st.sampled_from([born.isoformat(), f"{born:%Y-%m}-00", f"{born:%Y}-00-00"]))
    # The INS list of first names is space-separated: one first name never holds a space (compounds take a hyphen).
    first_names = tuple(
        traits.ins_name(n)
        for n in draw(st.lists(TYPED_NAMES.filter(lambda n: " " not in n.strip()), min_size=1, max_size=3))
    )
    return SharedIdentity(
        patient_id=7,
        matricule=f"{body}{matricule.key(body):02d}",
        oid=oid,
        birth_name=traits.ins_name(draw(TYPED_NAMES)),
        first_names=first_names,
        sex=draw(st.sampled_from(traits.SEXES)),
        birth_date=birth_date,
        birth_place_code=draw(st.sampled_from(["2A004", "2B033", "63220", "97411", "99109", "99352", "99999"])),
        used_name=draw(st.none() | TYPED_NAMES.map(traits.ins_name)),
    )


def _rows(identity: SharedIdentity, note: bytes) -> dict[str, list[dict[str, Any]]]:
    patient = {
        "id": 7,
        "pharmacy_id": 1,
        "birth_name": identity.birth_name,
        "first_names": " ".join(identity.first_names),
        "used_first_name": None,
        "used_name": identity.used_name,
        "sex": identity.sex,
        "birth_date": identity.birth_date,
        "birth_place_code": identity.birth_place_code,
        "vitale_nir": None,
        "vitale_rank": None,
        "complementary_rate": 0,
        "created_at": MOMENT,
        "updated_at": MOMENT,
    }
    document = {
        "id": 3,
        "pharmacy_id": 1,
        "patient_id": 7,
        "author_operator_id": 1,
        "unique_id": "2.25.4242",
        "set_id": "2.25.4243",
        "version": 1,
        "type_code": codes.NOTE_TYPE[0],
        "type_display": codes.NOTE_TYPE[1],
        "title": "Note de vaccination — grippe",
        "status": "validated",
        "confidentiality": "N",
        "hidden_from_patient": False,
        "hidden_from_legal_representatives": False,
        "masked_from_professionals": False,
        "mime_type": "text/xml",
        "content": note,
        "source_plugin": "vaccination",
        "source_ref": None,
        "invoice_id": None,
        "replaces_id": None,
        "created_at": MOMENT,
        "validated_at": MOMENT,
    }

    def complete(table: str, row: dict[str, Any]) -> dict[str, Any]:
        return {column.name: row.get(column.name) for column in CATALOGUE.by_name[table].table.columns}

    return {"patient": [complete("patient", patient)], "health_document": [complete("health_document", document)]}


def _note(identity: SharedIdentity) -> bytes:
    header = cda.CdaHeader(
        unique_id="2.25.4242",
        set_id="2.25.4243",
        version=1,
        type_code=codes.NOTE_TYPE[0],
        type_display=codes.NOTE_TYPE[1],
        title="Note de vaccination — grippe",
        patient=identity,
        author=PHARMACIST,
        organisation=PHARMACY,
        effective_time=MOMENT,
        service_event_code=(*codes.NOTE_TYPE, codes.OID_LOINC),
    )
    vaccination = vaccination_cda.Vaccination(
        MOMENT,
        "IMMUNIZ",
        "VACCIN DÉMO",
        "69000073",
        "J07BB02",
        None,
        "LOT-1",
        "20035000",
        "16217701000119102",
        PHARMACIST,
    )
    return vaccination_cda.build(header, vaccination)


def _context() -> ExportContext:
    operator = {"id": 1, "rpps": "99999000018", "last_name": "DURAND-DEMO", "first_name": "Claire", "code": "t"}
    return ExportContext(
        pharmacy=fhir.PharmacyContext(PHARMACY.finess, PHARMACY.name, {}, {}, {1: operator}),
        catalogue=CATALOGUE,
        files=TableFiles(CATALOGUE),
        moment=MOMENT,
        author=("99999000018", "DURAND-DEMO", "Claire"),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(identity=identities(), qualified=st.booleans())
def test_a_patients_archive_is_valid_xdm_with_its_cda_and_fhir_over_every_identity(
    identity: SharedIdentity, qualified: bool
) -> None:
    note = _note(identity)
    data = PatientArchive(_context(), 1, _rows(identity, note)).build(identity if qualified else None)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        files = {name: archive.read(name) for name in names}
    assert {"README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML", "CORRESP.CSV"} <= set(names)
    for name in names:  # ISO 9660 level 1: 8.3 upper-case names in every folder
        for part in name.split("/"):
            stem, _, extension = part.partition(".")
            assert 1 <= len(stem) <= 8 and len(extension) <= 3 and part == part.upper(), name
    assert metadata_errors(files["IHE_XDM/SUBSET01/METADATA.XML"]) == []
    assert files["README.TXT"].isascii()
    etree.fromstring(files["INDEX.HTM"])  # well-formed XHTML, whatever the names hold
    assert note in files.values()  # the CDA exactly as produced

    bundle = json.loads(files["IHE_XDM/SUBSET01/FHIR.JSN"])
    (patient,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    official = [i for i in patient["identifier"] if i.get("use") == "official"]
    if qualified:
        assert official == [
            {
                "use": "official",
                "type": official[0]["type"],
                "system": f"urn:oid:{identity.oid}",
                "value": identity.matricule,
            }
        ]
        assert identity.matricule.encode() in files["IHE_XDM/SUBSET01/METADATA.XML"]
    else:
        assert official == []  # never a half INS
        assert identity.matricule.encode() not in files["IHE_XDM/SUBSET01/METADATA.XML"]
    assert patient["name"][0]["family"] == identity.birth_name
    assert patient["name"][0]["given"] == list(identity.first_names)
    year, month, day = identity.birth_date.split("-")
    expected_birth = year if month == "00" else f"{year}-{month}" if day == "00" else identity.birth_date
    assert patient["birthDate"] == expected_birth


@given(
    name=st.sampled_from(["../x", "/etc/passwd", "a/../../b", "C:\\x", "a//b", "./a", "", "a\x00b", "..", "x/../"])
    | st.builds(lambda a, b: f"{a}/../{b}", st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12))
    | st.builds(lambda a: f"/{a}", st.text(max_size=20))
    | st.builds(lambda a: f"../{a}", st.text(max_size=20))
)
def test_the_safe_reader_refuses_every_unsafe_entry_name(name: str) -> None:
    with pytest.raises(ArchiveRefused) as refused:
        check_name(name, "l'archive")
    assert "refusée" in refused.value.message_fr


@pytest.mark.parametrize("name", ["README.TXT", "PAT00001.ZIP", "IHE_XDM/SUBSET01/METADATA.XML", "DOCUMENTATION/"])
def test_the_archives_own_names_are_safe(name: str) -> None:
    check_name(name, "l'archive")
