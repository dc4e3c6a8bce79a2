"""Acceptance (issue 8): a CPS signature through SoftHSM produces an operator assertion the INSi sandbox accepts
(INSI-MANU) and a VIHF (and a submission-set signature) the DMP sandbox accepts. The card key never leaves the
token: ``ins`` and ``dmp`` receive a signer implementing their protocols, they do not know about ``cards``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lgo.documents import cda
from lgo.identity import OID_TEST, SharedIdentity
from lgo.testing import _require_or_skip
from lgo_cards import cps, signing
from lgo_sandbox.cps import PIN, RPPS, CpsWorld, cps_world_or_skip

FINESS = "750012345"
MATRICULE = "279035121518989"
XDS_PATIENT = f"{MATRICULE}^^^&{OID_TEST}&ISO^NH"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _shared() -> Path:
    from lgo.testing.cda import shared_dir

    shared = shared_dir()
    if shared is None:
        _require_or_skip("../shared absent : réponses enregistrées et XSD INSi indisponibles.")
        raise AssertionError("unreachable")
    return shared


@pytest.fixture(scope="module")
def world() -> CpsWorld:
    return cps_world_or_skip()


def test_the_cps_signed_assertion_is_accepted_by_the_insi_sandbox_in_insi_manu(world: CpsWorld) -> None:
    from lgo_ins import assertion, insi
    from lgo_sandbox.insi import start_insi_sandbox

    folder = _shared() / "conformance" / "services" / "insi"
    idam = "LGO-LIBRE-TEST"
    server, _service = start_insi_sandbox(
        world.authority,
        responses_dir=folder / "responses",
        schemas_dir=folder / "wsdl" / "xsd",
        known_idams=frozenset({idam}),
    )
    try:
        manu = world.authority.organisation("INSI-MANU")
        endpoint = insi.Endpoint(server.url, manu.client(), str(manu.ca_path), 10.0)
        context = insi.Context(idam, "LGO libre", "0.1.0", "tests", "tests@lgo")
        card = cps.read_card(world.card.module_path, world.card.label)
        signer = signing.CardSigner(signing.card_key(world.card.module_path, PIN, token_label=world.card.label))
        signed = assertion.build(signer, national_id=card.professional.national_id, billing_id="999000011")
        issuer = signed.findtext("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer")
        assert f"CN=8{RPPS}" in issuer
        result = insi.search_by_traits(
            endpoint,
            context,
            birth_name="TCHITCHI",
            first_names=("CATARINA",),
            sex="F",
            birth_date="1936-06-21",
            assertion=signed,
        )
        assert result.code == "00" and result.identities[0].matricule == "236066322083656"
        # The same assertion with the card's signature broken is refused: the sandbox does check it.
        forged = assertion.build(signer, national_id=card.professional.national_id, billing_id="999000011")
        forged.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID").text = "899999999999"
        with pytest.raises(insi.InsiError, match="authentification du professionnel"):
            insi.search_by_traits(
                endpoint,
                context,
                birth_name="TCHITCHI",
                first_names=("CATARINA",),
                sex="F",
                birth_date="1936-06-21",
                assertion=forged,
            )
    finally:
        server.stop()


def _header() -> cda.CdaHeader:
    return cda.CdaHeader(
        unique_id="2.25.98765",
        set_id="2.25.98766",
        version=1,
        type_code="78601-2",
        type_display="CR d'entretien pharmaceutique",
        title="Entretien",
        patient=SharedIdentity(
            patient_id=1,
            matricule=MATRICULE,
            oid=OID_TEST,
            birth_name="PAT-TROIS",
            first_names=("DOMINIQUE",),
            sex="F",
            birth_date="1979-03-28",
        ),
        author=cda.CdaPerson(rpps=RPPS, family="DURAND-TEST", given="Claire"),
        organisation=cda.CdaOrganisation(finess=FINESS, name="Pharmacie du Centre"),
        effective_time=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )


def test_the_cps_signed_vihf_and_submission_set_are_accepted_by_the_dmp_sandbox(world: CpsWorld) -> None:
    from lgo.domain.certificates import client_tls_context
    from lgo.xml_signature import KeySigner
    from lgo_dmp.client import DmpClient, DmpRefused
    from lgo_dmp.vihf import VihfContext, build_vihf
    from lgo_sandbox.dmp import start_dmp_sandbox

    shared = _shared()
    server, sandbox = start_dmp_sandbox(world.authority, seed=7, conformance_dir=shared / "conformance")
    organisation = world.authority.organisation("PHARMACIE DU CENTRE", finess=FINESS)
    signer = signing.CardSigner(signing.card_key(world.card.module_path, PIN, token_label=world.card.label))

    def vihf(patient_id: str, rpps: str = RPPS) -> Any:
        return build_vihf(
            signer,
            VihfContext(
                structure_id=f"1{FINESS}", rpps=rpps, family="DURAND-TEST", given="CLAIRE", patient_id=patient_id
            ),
        )

    def client(make: Any) -> DmpClient:
        return DmpClient(
            server.url,
            ssl_context=client_tls_context(organisation.client(), str(organisation.ca_path)),
            vihf=make,
            source_id="1.2.250.1.999.1.1",
            signer=signer,
            timeout=30.0,
        )

    try:
        with client(vihf) as dmp:
            assert dmp.provide_and_register(cda.wrap_pdf(_header(), PDF)) == "registered"
            (entry,) = dmp.find_documents(XDS_PATIENT)
            assert entry.unique_id == "2.25.98765"
        # A VIHF signed by the card of someone else than its subject is not the professional's: refused.
        with client(lambda patient_id: vihf(patient_id, rpps="10001234567")) as dmp, pytest.raises(DmpRefused):
            dmp.find_documents(XDS_PATIENT)
        # The organisation's own file signer keeps working next to the card.
        file_signer = KeySigner.from_pem_files(organisation.cert_path, organisation.key_path)
        with client(
            lambda patient_id: build_vihf(
                file_signer,
                VihfContext(
                    structure_id=f"1{FINESS}", rpps=RPPS, family="DURAND-TEST", given="CLAIRE", patient_id=patient_id
                ),
            )
        ) as dmp:
            assert len(dmp.find_documents(XDS_PATIENT)) == 1
        assert sandbox.documents
    finally:
        server.stop()
