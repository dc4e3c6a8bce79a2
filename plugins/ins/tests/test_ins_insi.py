"""The INSi client against the INSi sandbox over real HTTPS with client certificates: every recorded response, the
faults, XSD validation of the requests, and the counter going on while INSi is down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lgo_ins.plugin
import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain import outbox
from lgo.domain.patients import create_patient
from lgo.errors import ValidationError
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo.worker import Worker
from lgo.xml_signature import KeySigner
from lgo_ins import api, insi
from lgo_ins import counter as ins_counter
from lgo_ins.model import InsHistory, Status
from lgo_sandbox.insi import InsiSandbox, start_insi_sandbox
from lgo_sandbox.pki import TestAuthority
from lxml import etree
from sqlalchemy import select

IDAM = "LGO-LIBRE-TEST"
CONTEXT = insi.Context(IDAM, "LGO libre", "0.1.0", "tests", "tests@lgo")


def _conformance() -> Path:
    for parent in Path(__file__).resolve().parents:
        folder = parent / "shared" / "conformance" / "services" / "insi"
        if folder.is_dir():
            return folder
    _require_or_skip("../shared absent : réponses enregistrées et XSD INSi indisponibles.")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("insi-pki"))


@pytest.fixture
def sandbox(authority: TestAuthority) -> Iterator[tuple[Any, InsiSandbox]]:
    folder = _conformance()
    server, service = start_insi_sandbox(
        authority,
        responses_dir=folder / "responses",
        schemas_dir=folder / "wsdl" / "xsd",
        known_idams=frozenset({IDAM}),
    )
    yield server, service
    server.stop()


def _endpoint(authority: TestAuthority, url: str, cn: str = "INSI-AUTO", timeout: float = 5.0) -> insi.Endpoint:
    credential = authority.organisation(cn)
    return insi.Endpoint(url, credential.client(), str(credential.ca_path), timeout)


CASES = [
    # birth name, first names, sex, birth date → CR, matricule, OID, former matricules
    ("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", "00", None, "1.2.250.1.213.1.4.8", 0),
    ("TCHITCHI", ("CATARINA",), "F", "1936-06-21", "00", "236066322083656", "1.2.250.1.213.1.4.8", 0),
    ("ECETINSI", ("PIERRE-ALAIN",), "M", "2009-07-14", "00", "109076322083489", "1.2.250.1.213.1.4.8", 2),
    ("CORSE", ("ANTHONY",), "M", "1980-03-02", "00", "180032B02040123", "1.2.250.1.213.1.4.8", 1),
    ("PROVISOIRE", ("MATRICULE",), "M", "2009-07-01", "00", None, "1.2.250.1.213.1.4.9", 0),
    ("INCONNU", ("PERSONNE",), "F", "2000-01-01", "01", None, None, 0),
    ("HOMONYME", ("JEAN",), "M", "1970-01-01", "02", None, None, 0),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_recorded_response_gives_the_right_outcome(
    authority: TestAuthority, sandbox: tuple[Any, InsiSandbox], case: tuple[Any, ...]
) -> None:
    server, _service = sandbox
    birth_name, first_names, sex, birth_date, code, matricule, oid, former = case
    result = insi.search_by_traits(
        _endpoint(authority, server.url),
        CONTEXT,
        birth_name=birth_name,
        first_names=first_names,
        sex=sex,
        birth_date=birth_date,
    )
    assert result.code == code, result
    if code == "00":
        (identity,) = result.identities
        assert identity.oid == oid and len(identity.history) == former
        if matricule:
            assert identity.matricule == matricule
    else:
        assert result.message_fr.startswith("Aucune" if code == "01" else "Plusieurs")


def test_every_request_validates_against_the_official_xsds(
    authority: TestAuthority, sandbox: tuple[Any, InsiSandbox]
) -> None:
    server, service = sandbox
    xsd = _conformance() / "wsdl" / "xsd"
    endpoint = _endpoint(authority, server.url)
    insi.search_by_traits(
        endpoint,
        CONTEXT,
        birth_name="TCHITCHI",
        first_names=("CATARINA", "BELLA"),
        sex="F",
        birth_date="1936-06-21",
        birth_place="63220",
    )
    insi.search_by_vitale(endpoint, CONTEXT, nir="236066322083656", birth_date="1936-06-21", rank=1)
    schemas = {
        name: etree.XMLSchema(etree.parse(str(xsd / path)))
        for name, path in (
            ("{http://www.cnamts.fr/INSiRecSans}RECSANSVITALE", "ServiceIdentiteCertifiee/INSi_RECSANS_INS.xsd"),
            ("{http://www.cnamts.fr/INSiRecVit}RECVITALE", "ServiceIdentiteCertifiee/INSi_RECVITALE_INS.xsd"),
            ("{urn:siram:lps:ctxlps}ContexteLPS", "CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd"),
            ("{urn:siram:bam:ctxbam}ContexteBAM", "CTX/ROOT_ctxbam_CTXBAM_V01_02.xsd"),
        )
    }
    kinds = set()
    for raw in service.requests:
        root = etree.fromstring(raw)
        action = root.findtext(".//{http://www.w3.org/2005/08/addressing}Action")
        assert action and action.startswith("urn:ServiceIdentiteCertifiee:1.0.0:")
        assert root.findtext(".//{http://www.w3.org/2005/08/addressing}MessageID", "").startswith("uuid:")
        for tag, schema in schemas.items():
            for element in root.iter(tag):
                assert schema.validate(etree.ElementTree(element)), schema.error_log
                kinds.add(tag)
    assert len(kinds) == 4


def test_a_wrong_certificate_and_an_unknown_authorisation_number_give_french_messages(
    authority: TestAuthority, sandbox: tuple[Any, InsiSandbox]
) -> None:
    server, _service = sandbox
    traits: dict[str, Any] = {
        "birth_name": "TCHITCHI",
        "first_names": ("CATARINA",),
        "sex": "F",
        "birth_date": "1936-06-21",
    }
    with pytest.raises(insi.InsiError, match="certificat") as refused:
        insi.search_by_traits(_endpoint(authority, server.url, cn="AUTRE-USAGE"), CONTEXT, **traits)
    assert refused.value.code == "desir_551"
    unknown = insi.Context("INCONNU-999", "LGO libre", "0.1.0", "tests", "tests@lgo")
    with pytest.raises(insi.InsiError, match="numéro d'autorisation inconnu"):
        insi.search_by_traits(_endpoint(authority, server.url), unknown, **traits)


def test_synthetic_keys_that_fail_the_check_are_refused_when_recorded(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(lgo_ins.plugin)
    kernel.enable(lgo_seeded.pharmacy_id, "ins")
    bad = insi.parse_response((_conformance() / "responses" / "TEST_2.08_cas2.xml").read_bytes()).identities[0]
    with pytest.raises(ValidationError, match="clé"):
        ins_counter.accept(
            kernel,
            lgo_seeded.pharmacy_id,
            lgo_seeded.patients["camille"],
            None,
            {**bad.__dict__, "first_names": list(bad.first_names), "history": list(bad.history)},
        )


def test_the_counter_searches_insi_keeps_the_history_and_goes_on_when_insi_is_down(
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    authority: TestAuthority,
    sandbox: tuple[Any, InsiSandbox],
) -> None:
    server, service = sandbox
    kernel = lgo_make_kernel(lgo_ins.plugin)
    pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
    kernel.enable(pharmacy, "ins")
    # The organisation certificate of the « Certificat » page, and nothing else: its chain is trusted for INSi.
    authority.organisation("INSI-AUTO").store_for(kernel, pharmacy)
    kernel.save_plugin_settings(
        pharmacy, "ins", {"insi_endpoint": server.url, "authorisation_number": IDAM, "timeout_seconds": 2}
    )
    with kernel.transaction() as session:
        patient = create_patient(
            session,
            pharmacy,
            birth_name="ECETINSI",
            first_names="PIERRE-ALAIN MURIEL",
            sex="M",
            birth_date="2009-07-14",
            birth_place_code="63220",
        ).id
        other = create_patient(
            session, pharmacy, birth_name="TCHITCHI", first_names="CATARINA", sex="F", birth_date="1936-06-21"
        ).id
    counter = Counter(kernel, pharmacy, titulaire)
    (action,) = counter.select_patient(patient, source="nom")
    assert action.kind == "ins.insi_result" and "prénoms" in action.message_fr  # local list differs
    assert ins_counter.accept(kernel, pharmacy, patient, titulaire, action.data["identity"]) == Status.RECUPEREE
    with kernel.transaction() as session:
        assert len(session.scalars(select(InsHistory).where(InsHistory.patient_id == patient)).all()) == 2
    assert (
        api.record_identity_document(kernel, pharmacy, patient, titulaire, api.DocumentKind.PASSEPORT)
        == Status.QUALIFIEE
    )
    assert counter.select_patient(patient) == []  # qualified: no more INSi call

    service.down = True
    (action,) = counter.select_patient(other)
    assert action.kind == "ins.insi_unavailable" and "relancée" in action.message_fr
    billing = counter.start_billing(patient_id=other)
    counter.add_product(billing, lgo_seeded.products["serum"], 1, force=True, force_reason="test")
    assert counter.end_billing(billing).invoice_number  # the counter went on
    with kernel.transaction() as session:
        assert outbox.counts(session, pharmacy)[outbox.OutboxStatus.PENDING] >= 1
    service.down = False
    Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy).drain()
    (action,) = counter.select_patient(other)
    assert action.kind == "ins.insi_result" and action.data["identity"]["matricule"] == "236066322083656"
    assert kernel.recent_failures() == []


def test_the_stored_insi_certificate_is_used_and_no_key_is_left_on_disk(
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    authority: TestAuthority,
    sandbox: tuple[Any, InsiSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every patient selection calls INSi: the certificate uploaded on the admin page must not leave a copy of its
    key in a temporary folder each time."""
    import tempfile

    from lgo.domain import certificates

    server, _service = sandbox
    kernel = lgo_make_kernel(lgo_ins.plugin)
    pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
    kernel.enable(pharmacy, "ins")
    credential = authority.organisation("INSI-AUTO")
    with kernel.transaction() as session:
        certificates.store(session, pharmacy, credential.pkcs12("p12"), "p12", kind="insi", accept_warnings=True)
        patient = create_patient(
            session, pharmacy, birth_name="TCHITCHI", first_names="CATARINA", sex="F", birth_date="1936-06-21"
        ).id
    kernel.save_plugin_settings(pharmacy, "ins", {"insi_endpoint": server.url, "authorisation_number": IDAM})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    (action,) = Counter(kernel, pharmacy, titulaire).select_patient(patient)
    assert action.kind == "ins.insi_result" and action.data["identity"]["matricule"] == "236066322083656"
    assert list(scratch.iterdir()) == []


def test_insi_manu_needs_the_operator_s_signed_assertion(
    authority: TestAuthority, sandbox: tuple[Any, InsiSandbox]
) -> None:
    from lgo_ins import assertion

    server, _service = sandbox
    manu = _endpoint(authority, server.url, cn="INSI-MANU")
    card = authority.person("99999000018", given_name="Claire", surname="DURAND-DEMO")
    signer = KeySigner.from_pem_files(str(card.cert_path), str(card.key_path))
    traits: dict[str, Any] = {
        "birth_name": "TCHITCHI",
        "first_names": ("CATARINA",),
        "sex": "F",
        "birth_date": "1936-06-21",
    }
    with pytest.raises(insi.InsiError, match="authentification du professionnel"):
        insi.search_by_traits(manu, CONTEXT, **traits)
    signed = assertion.build(signer, national_id="899999000018", billing_id="999000011")
    assert insi.search_by_traits(manu, CONTEXT, assertion=signed, **traits).code == "00"
    forged = assertion.build(signer, national_id="899999000018", billing_id="999000011")
    forged.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID").text = "899999999999"
    with pytest.raises(insi.InsiError, match="authentification du professionnel"):
        insi.search_by_traits(manu, CONTEXT, assertion=forged, **traits)
    stranger = TestAuthority(Path(card.cert_path).parent.parent / "other-ca").person(
        "99999000018", given_name="Claire", surname="DURAND-DEMO"
    )
    foreign = assertion.build(
        KeySigner.from_pem_files(str(stranger.cert_path), str(stranger.key_path)),
        national_id="899999000018",
        billing_id="999000011",
    )
    with pytest.raises(insi.InsiError, match="authentification du professionnel"):
        insi.search_by_traits(manu, CONTEXT, assertion=foreign, **traits)
