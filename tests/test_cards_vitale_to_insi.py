"""Acceptance (issue 8): a carte Vitale read through pcscd and a virtual card (vsmartcard vpcd) feeds patient
selection and an INSi ``rechercherInsAvecCarteVitale`` against the INSi sandbox; the identity found is recorded by
the ``ins`` plugin exactly as after a search by traits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lgo_cards.plugin
import lgo_ins.plugin
import pytest
from lgo.demo_data import Seeded
from lgo.domain.patients import create_patient
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo_cards import counter, vitale
from lgo_cards.errors import CardAbsent
from lgo_ins import counter as ins_counter
from lgo_ins.model import Status
from lgo_sandbox import vitale as virtual
from lgo_sandbox.pki import TestAuthority
from lxml import etree

# One pcscd per machine (its socket path is fixed): these tests share one test process (decision 0014).
pytestmark = pytest.mark.xdist_group("pcscd")

IDAM = "LGO-LIBRE-TEST"
CARD = virtual.VitaleData(
    "236066322083656",
    (virtual.Beneficiary("TCHITCHI", "CATARINA", "19360621", 1, nir="236066322083656"),),
    serial="0102030405",
)


@pytest.fixture(scope="module")
def reader() -> Iterator[Any]:
    missing = virtual.VirtualReader.missing()
    if missing:
        _require_or_skip(f"Lecteur virtuel indisponible : {missing} ; lecture de la carte Vitale non testée.")
    try:
        started = virtual.VirtualReader().start()
    except RuntimeError as exc:
        _require_or_skip(f"pcscd n'a pas pu démarrer : {exc}")
        raise
    yield started
    started.stop()


@pytest.fixture
def insi_sandbox(tmp_path: Path) -> Iterator[tuple[Any, Any, TestAuthority]]:
    from lgo.testing.cda import shared_dir
    from lgo_sandbox.insi import start_insi_sandbox

    shared = shared_dir()
    if shared is None:
        _require_or_skip("../shared absent : réponses enregistrées et XSD INSi indisponibles.")
    folder = Path(str(shared)) / "conformance" / "services" / "insi"
    authority = TestAuthority(tmp_path / "pki")
    server, service = start_insi_sandbox(
        authority,
        responses_dir=folder / "responses",
        schemas_dir=folder / "wsdl" / "xsd",
        known_idams=frozenset({IDAM}),
    )
    yield server, service, authority
    server.stop()


def test_a_vitale_read_feeds_patient_selection_and_the_insi_search(
    reader: Any,
    insi_sandbox: tuple[Any, Any, TestAuthority],
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
) -> None:
    server, service, authority = insi_sandbox
    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_cards.plugin)
    pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
    for name in ("ins", "cards"):
        kernel.enable(pharmacy, name)
    credential = authority.organisation("INSI-AUTO")
    credential.store_for(kernel, pharmacy, kind="insi")
    kernel.save_plugin_settings(
        pharmacy,
        "ins",
        {
            "insi_endpoint": server.url,
            "authorisation_number": IDAM,
            "timeout_seconds": 5,
        },
    )
    with kernel.transaction() as session:
        patient = create_patient(
            session, pharmacy, birth_name="TCHITCHI", first_names="CATARINA", sex="F", birth_date="1936-06-21"
        ).id

    reader.insert(virtual.VirtualCard(CARD))
    card = vitale.read_vitale("Virtual PCD")
    (candidate,) = counter.candidates(kernel, pharmacy, card)
    assert candidate.patient_ids == (patient,)
    counter.remember_card(kernel, pharmacy, patient, card, candidate.beneficiary)

    (action,) = counter.insi_search(kernel, pharmacy, patient, titulaire, card, candidate.beneficiary)
    assert action.kind == "ins.insi_result", action
    assert action.data["identity"]["matricule"] == "236066322083656"
    sent = etree.fromstring(service.requests[-1])
    assert sent.find(".//{http://www.cnamts.fr/INSiRecVit}RECVITALE") is not None  # the Vitale operation
    assert ins_counter.accept(kernel, pharmacy, patient, titulaire, action.data["identity"]) == Status.RECUPEREE

    # The card is pulled out in the middle of the next read: a French message, nothing else happens.
    reader.insert(virtual.VirtualCard(CARD, remove_after_reads=0))
    with pytest.raises(CardAbsent, match="retirée"):
        vitale.read_vitale("Virtual PCD")
