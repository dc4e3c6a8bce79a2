"""The DMP client against the sandbox: VIHF refusals, MTOM, metadata, the consolidated vaccination record."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dmp_helpers import PDF, XDS_PATIENT
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo.api import xds
from lgo.documents import cda
from lgo.domain.certificates import client_tls_context
from lgo.identity import OID_TEST, SharedIdentity
from lgo.testing.cda import shared_dir
from lgo.xml_signature import KeySigner
from lgo_dmp import metadata, soap
from lgo_dmp.client import DmpClient, DmpRefused, DmpUnavailable
from lgo_dmp.vihf import ATTR_ROLE, VihfContext, build_vihf
from lgo_sandbox.pki import Credential, TestAuthority
from lxml import etree

FINESS = "750012345"


@pytest.fixture
def organisation(dmp_authority: TestAuthority) -> Credential:
    return dmp_authority.organisation("PHARMACIE DU CENTRE", finess=FINESS)


def _header(matricule: str = "279035121518989", oid: str = OID_TEST) -> cda.CdaHeader:
    from datetime import UTC, datetime

    return cda.CdaHeader(
        unique_id="2.25.4242",
        set_id="2.25.4243",
        version=1,
        type_code="78601-2",
        type_display="CR d'entretien pharmaceutique",
        title="Entretien",
        patient=SharedIdentity(
            patient_id=1,
            matricule=matricule,
            oid=oid,
            birth_name="PAT-TROIS",
            first_names=("DOMINIQUE",),
            sex="F",
            birth_date="1979-03-28",
        ),
        author=cda.CdaPerson(rpps="10001234567", family="DURAND", given="Claire"),
        organisation=cda.CdaOrganisation(finess=FINESS, name="Pharmacie du Centre"),
        effective_time=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )


@pytest.fixture
def make_client(organisation: Credential, dmp_sandbox: tuple[Any, Any]) -> Iterator[Callable[..., DmpClient]]:
    server, _ = dmp_sandbox
    made: list[DmpClient] = []

    def make(
        vihf: Callable[[str], Any] | None = None, credential: Credential = organisation, timeout: float = 30.0
    ) -> DmpClient:
        signer = KeySigner.from_pem_files(credential.cert_path, credential.key_path)

        def default(patient_id: str) -> Any:
            return build_vihf(
                signer,
                VihfContext(
                    structure_id=f"1{FINESS}",
                    rpps="10001234567",
                    family="DURAND",
                    given="Claire",
                    patient_id=patient_id,
                ),
            )

        client = DmpClient(
            server.url,
            ssl_context=client_tls_context(credential.client(), str(credential.ca_path)),
            vihf=vihf or default,
            source_id="1.2.250.1.999.1.1",
            signer=signer,
            timeout=timeout,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_a_vihf_with_a_bad_signature_is_refused_in_french(
    make_client: Callable[..., DmpClient], organisation: Credential
) -> None:
    signer = KeySigner.from_pem_files(organisation.cert_path, organisation.key_path)

    def tampered(patient_id: str) -> Any:
        assertion = build_vihf(
            signer,
            VihfContext(
                structure_id=f"1{FINESS}", rpps="10001234567", family="DURAND", given="Claire", patient_id=patient_id
            ),
        )
        structure = assertion.find(
            ".//{urn:oasis:names:tc:SAML:2.0:assertion}Attribute[@Name="
            "'Identifiant_Structure']/{urn:oasis:names:tc:SAML:2.0:assertion}AttributeValue"
        )
        structure.text = "1999999999"
        return assertion

    with pytest.raises(DmpRefused, match="Signature invalide : le contenu signé a été modifié"):
        make_client(tampered).provide_and_register(cda.wrap_pdf(_header(), PDF))


def test_a_vihf_signed_by_another_authority_is_refused(
    make_client: Callable[..., DmpClient], organisation: Credential, tmp_path: Path
) -> None:
    stranger = TestAuthority(tmp_path / "other").organisation("INCONNU", finess=FINESS)
    signer = KeySigner.from_pem_files(stranger.cert_path, stranger.key_path)

    def foreign(patient_id: str) -> Any:
        return build_vihf(
            signer,
            VihfContext(
                structure_id=f"1{FINESS}", rpps="10001234567", family="DURAND", given="Claire", patient_id=patient_id
            ),
        )

    with pytest.raises(DmpRefused, match="autorité reconnue"):
        make_client(foreign).find_documents(XDS_PATIENT)


def test_a_vihf_without_a_required_attribute_is_refused(
    make_client: Callable[..., DmpClient], organisation: Credential
) -> None:
    signer = KeySigner.from_pem_files(organisation.cert_path, organisation.key_path)

    def incomplete(patient_id: str) -> Any:
        return build_vihf(
            signer,
            VihfContext(
                structure_id=f"1{FINESS}", rpps="10001234567", family="DURAND", given="Claire", patient_id=patient_id
            ),
            omit=(ATTR_ROLE,),
        )

    with pytest.raises(DmpRefused, match="VIHF incomplet : attribut obligatoire absent"):
        make_client(incomplete).find_documents(XDS_PATIENT)


def test_an_unqualified_ins_is_refused(make_client: Callable[..., DmpClient]) -> None:
    with pytest.raises(DmpRefused, match="seul l'INS qualifié"):
        make_client().find_documents("0000000000000^^^&1.2.250.1.999.9&ISO^NH")


def test_metadata_from_the_cda_header() -> None:
    meta = xds.from_cda(cda.wrap_pdf(_header(), PDF), masking=("INVISIBLE_PATIENT", "MASQUE_PS"))
    assert meta.patient_id == XDS_PATIENT
    assert meta.format[0] == "urn:ihe:iti:xds-sd:pdf:2008"
    assert meta.facility_type[0] == "SA33" and meta.practice_setting[0] == "AMBULATOIRE"
    assert meta.author_xcn.startswith("810001234567^DURAND^Claire^")
    assert meta.institution_xon.endswith(f"^1{FINESS}") and meta.creation_time == "20261124093000"
    submission = metadata.submit_objects_request(meta, b"x", source_id="1.2.3")
    entry = submission.request.find(f".//{{{xds.RIM}}}ExtrinsicObject")
    confidentiality = [
        c.get("nodeRepresentation")
        for c in entry.findall(
            f"{{{xds.RIM}}}Classification[@classificationScheme='{xds.UUID['DocumentEntry.confidentialityCode']}']"
        )
    ]
    assert confidentiality == ["N", "INVISIBLE_PATIENT", "MASQUE_PS"]
    # Masking goes to the metadata only, never into the CDA.
    assert b"MASQUE_PS" not in cda.wrap_pdf(_header(), PDF)
    root = _conformance()
    if root is not None:
        schema = etree.XMLSchema(etree.parse(str(root / "cda" / "xds-schemas" / "XDS.b_DocumentRepository.xsd")))
        request = etree.Element(f"{{{xds.XDS}}}ProvideAndRegisterDocumentSetRequest")
        request.append(submission.request)
        document = etree.SubElement(request, f"{{{xds.XDS}}}Document", id=entry.get("id"))
        document.text = base64.b64encode(b"x").decode()
        assert schema.validate(request), schema.error_log


def _conformance() -> Path | None:
    shared = shared_dir()
    return shared / "conformance" if shared else None


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z0-9]{1,12}@lgo", fullmatch=True), st.binary(max_size=2000), max_size=4))
def test_mtom_round_trip_keeps_exact_bytes(attachments: dict[str, bytes]) -> None:
    body = etree.Element("{urn:test}Body")
    envelope = soap.envelope("urn:action", "https://x", body, None)
    payload, content_type = soap.mtom(envelope, attachments, "urn:action")
    parsed, parts = soap.parse_message(content_type, payload)
    assert parts == attachments
    assert parsed.find(f"{{{soap.SOAP}}}Body/{{urn:test}}Body") is not None


def test_unavailable_dmp_is_reported_for_a_retry(
    make_client: Callable[..., DmpClient], dmp_sandbox: tuple[Any, Any]
) -> None:
    _, sandbox = dmp_sandbox
    sandbox.down = True
    with pytest.raises(DmpUnavailable, match="Le DMP est en erreur|ne répond pas|illisible"):
        make_client().find_documents(XDS_PATIENT)


def test_a_deposited_document_is_found_and_retrieved_unchanged(make_client: Callable[..., DmpClient]) -> None:
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared absent : exemple officiel de note de vaccination indisponible.")
    example = (shared / "conformance/cda/testcontenucda-3.0/ExemplesCDA/VAC-NOTE_2023.01.xml").read_bytes()
    client = make_client()
    assert client.provide_and_register(example) == "registered"
    (entry,) = client.find_documents(XDS_PATIENT)
    assert entry.type_code == "87273-9"
    assert client.retrieve(XDS_PATIENT, entry.unique_id, entry.repository_unique_id) == example


def test_the_sandbox_checks_structured_cda_with_the_kit(
    make_client: Callable[..., DmpClient], dmp_sandbox: tuple[Any, Any]
) -> None:
    from lgo.testing.cda import cda_errors

    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared absent.")
    _, sandbox = dmp_sandbox
    sandbox.cda_checker = cda_errors
    example = (shared / "conformance/cda/testcontenucda-3.0/ExemplesCDA/VAC-NOTE_2023.01.xml").read_bytes()
    broken = example.replace(b'<realmCode code="FR" />', b"", 1)
    assert broken != example
    with pytest.raises(DmpRefused, match="CDA non conforme au CI-SIS"):
        make_client(timeout=300).provide_and_register(broken)  # the kit compiles its schematrons: slow once
    assert sandbox.entries == {} and sandbox.refusals  # nothing was registered, the refusal is on record


def test_a_vihf_for_another_structure_than_the_certificate_is_refused(
    make_client: Callable[..., DmpClient], organisation: Credential
) -> None:
    signer = KeySigner.from_pem_files(organisation.cert_path, organisation.key_path)

    def other_structure(patient_id: str) -> Any:
        return build_vihf(
            signer,
            VihfContext(
                structure_id="1999999999", rpps="10001234567", family="DURAND", given="Claire", patient_id=patient_id
            ),
        )

    with pytest.raises(DmpRefused, match="Identifiant_Structure du VIHF différent"):
        make_client(other_structure).find_documents(XDS_PATIENT)


def test_a_document_masked_from_professionals_is_listed_for_its_author_only(
    make_client: Callable[..., DmpClient], dmp_authority: TestAuthority
) -> None:
    assert make_client().provide_and_register(cda.wrap_pdf(_header(), PDF), masking=("MASQUE_PS",)) == "registered"
    assert [e.masking for e in make_client().find_documents(XDS_PATIENT)] == [("MASQUE_PS",)]
    other = dmp_authority.organisation("AUTRE PHARMACIE", finess="690000000")
    signer = KeySigner.from_pem_files(other.cert_path, other.key_path)

    def other_vihf(patient_id: str) -> Any:
        return build_vihf(
            signer,
            VihfContext(
                structure_id="1690000000", rpps="10009999999", family="AUTRE", given="Pharmacien", patient_id=patient_id
            ),
        )

    assert make_client(other_vihf, credential=other).find_documents(XDS_PATIENT) == []


def test_metadata_outside_the_value_sets_are_refused(make_client: Callable[..., DmpClient]) -> None:
    from dataclasses import replace

    header = _header()
    header = replace(header, organisation=replace(header.organisation, facility_type=("SA99", "Inconnu")))
    with pytest.raises(DmpRefused, match="healthcareFacilityTypeCode SA99 hors du jeu de valeurs"):
        make_client().provide_and_register(cda.wrap_pdf(header, PDF))


def test_a_slow_dmp_times_out_into_a_retry(make_client: Callable[..., DmpClient], dmp_sandbox: tuple[Any, Any]) -> None:
    _, sandbox = dmp_sandbox
    sandbox.delay = 0.5
    with pytest.raises(DmpUnavailable, match="ne répond pas"):
        make_client(timeout=0.1).find_documents(XDS_PATIENT)
