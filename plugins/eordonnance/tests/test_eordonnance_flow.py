"""The counter flow against the sandbox over HTTPS with client certificates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import lgo_eordonnance.plugin
import pytest
from lgo.demo_data import Seeded
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.errors import ValidationError
from lgo.kernel import Kernel
from lgo.worker import Worker
from lgo_eordonnance import identifier as ident
from lgo_eordonnance import service
from lgo_eordonnance.transport import PrescriptionRefused, RetrievalUnavailable
from lgo_sandbox.eordonnance import start_eordonnance_sandbox
from lgo_sandbox.pki import TestAuthority

ALL_KINDS = ident.make("A1B2C3D4E5F6G7")


@pytest.fixture
def world(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path) -> Iterator[dict[str, Any]]:
    authority = TestAuthority(tmp_path / "pki")
    server, sandbox = start_eordonnance_sandbox(authority)
    sandbox.add(
        {
            "identifier": ALL_KINDS,
            "prescribed_on": "2026-11-20",
            "renewals": 0,
            "prescriber": {"name": "Dr Anne MÉDECIN-DÉMO", "rpps": "99999000047"},
            "patient": {"birth_name": "MARTIN-DEMO", "first_name": "CAMILLE", "birth_date": "1985-03-14", "ins": None},
            "lines": [
                {
                    "line_id": "L1",
                    "label": "PARACÉTAMOL 1 g",
                    "cip13": lgo_seeded.products["paracetamol"],
                    "quantity": 1,
                },
                {"line_id": "L2", "label": "AMOXICILLINE 1 g", "cis": "69000028", "quantity": 1},
                {
                    "line_id": "L3",
                    "label": "METFORMINE 850 mg",
                    "cip13": lgo_seeded.products["metformine"],
                    "quantity": 3,
                },
                {"line_id": "L4", "label": "TRAMADOL 50 mg", "cip13": lgo_seeded.products["tramadol"], "quantity": 1},
                {"line_id": "L5", "label": "SÉRUM PHYSIOLOGIQUE", "cip13": lgo_seeded.products["serum"], "quantity": 2},
            ],
        }
    )
    kernel = lgo_make_kernel(lgo_eordonnance.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    kernel.enable(pharmacy, "eordonnance")
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
        for key in lgo_seeded.products:
            product = product_by_cip13(session, pharmacy, lgo_seeded.products[key])
            receive(
                session,
                pharmacy,
                product,
                lot_number=f"E-{key}",
                expiry=date.today() + timedelta(days=400),
                quantity=20,
            )
    credential = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
    kernel.select_provider(pharmacy, "eordonnance", "json")
    credential.store_for(kernel, pharmacy)  # the pharmacy's certificate: its chain is trusted, no file named
    kernel.save_plugin_settings(pharmacy, "eordonnance", {"endpoint": server.url, "timeout_seconds": 3})
    yield {"kernel": kernel, "seeded": lgo_seeded, "sandbox": sandbox, "authority": authority, "url": server.url}
    server.stop()


def _drain(kernel: Kernel, pharmacy_id: int) -> None:
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id)
    for _ in range(5):
        worker.drain()


def test_every_kind_of_line_difference_then_the_two_step_transmission(world: dict[str, Any]) -> None:
    kernel, seeded, sandbox = world["kernel"], world["seeded"], world["sandbox"]
    pharmacy, pharmacist = seeded.pharmacy_id, seeded.operators["titulaire"]
    got = service.retrieve(kernel, pharmacy, pharmacist, seeded.patients["camille"], f"ORDNUM:1:{ALL_KINDS}")
    assert got.prescription.prescriber_name == "Dr Anne MÉDECIN-DÉMO" and got.actions == ()
    assert got.mapping["L2"] == seeded.products["amoxicilline"]  # mapped by CIS
    execution = got.execution_id
    with pytest.raises(ValidationError, match="Lignes à traiter"):
        service.validate_and_bill(kernel, pharmacy, execution, pharmacist)
    service.confirm_line(kernel, pharmacy, execution, "L1")
    service.decide_line(
        kernel,
        pharmacy,
        execution,
        "L2",
        "substitution",
        cip13=seeded.products["paracetamol"],
        info="générique équivalent",
    )
    service.decide_line(kernel, pharmacy, execution, "L3", "adaptation", quantity=2, info="posologie réduite")
    with pytest.raises(ValidationError, match="pourquoi"):
        service.decide_line(kernel, pharmacy, execution, "L4", "not_dispensed")
    service.decide_line(kernel, pharmacy, execution, "L4", "not_dispensed", reason="allergie signalée")
    service.decide_line(kernel, pharmacy, execution, "L5", "partial", quantity=1, info="rupture")
    differences = {d.line_id: d.text_fr for d in service.control_view(kernel, pharmacy, execution)}
    assert set(differences) == {"L2", "L3", "L4", "L5"} and "allergie" in differences["L4"]
    result = service.validate_and_bill(kernel, pharmacy, execution, pharmacist)
    assert result.invoice_number
    assert sandbox.executions == {}  # queued, not sent from the counter
    _drain(kernel, pharmacy)
    (sent,) = sandbox.executions.values()
    assert {line["line_id"]: line["kind"] for line in sent["lines"]}["L2"] == "substitution"
    assert not sandbox.billing
    assert service.acknowledge_invoice_batch(kernel, pharmacy, [result.invoice_id]) == 1
    _drain(kernel, pharmacy)
    (complement,) = sandbox.billing.values()
    assert complement["invoice_number"] == result.invoice_number
    numeric, total, share = service.share_of_dispensings(
        kernel, pharmacy, date.today() - timedelta(days=1), date.today() + timedelta(days=1)
    )
    assert (numeric, total) == (1, 1) and share == 1.0


def test_a_renewal_and_a_sequenced_dispensing(world: dict[str, Any]) -> None:
    kernel, seeded, sandbox = world["kernel"], world["seeded"], world["sandbox"]
    pharmacy, pharmacist = seeded.pharmacy_id, seeded.operators["titulaire"]
    renewable = "9Z5Y1A7E3G6J2PB"
    for expected_renewal in (0, 1):
        got = service.retrieve(kernel, pharmacy, pharmacist, seeded.patients["jean"], renewable)
        assert got.renewal_number == expected_renewal
        for line in got.prescription.lines:
            service.confirm_line(kernel, pharmacy, got.execution_id, line.line_id)
        service.validate_and_bill(kernel, pharmacy, got.execution_id, pharmacist)
        _drain(kernel, pharmacy)
    assert sandbox.prescriptions[renewable]["dispensings_done"] == 2

    sequenced = "5R2T8W1K4M7Q3DK"  # 6 boxes, dispensed 2 then 4
    first = service.retrieve(kernel, pharmacy, pharmacist, seeded.patients["camille"], sequenced)
    service.decide_line(kernel, pharmacy, first.execution_id, "L1", "partial", quantity=2)
    service.validate_and_bill(kernel, pharmacy, first.execution_id, pharmacist)
    _drain(kernel, pharmacy)
    second = service.retrieve(kernel, pharmacy, pharmacist, seeded.patients["camille"], sequenced)
    assert second.prescription.already_dispensed == {"L1": 2}
    service.confirm_line(kernel, pharmacy, second.execution_id, "L1")
    service.validate_and_bill(kernel, pharmacy, second.execution_id, pharmacist)
    _drain(kernel, pharmacy)
    with pytest.raises(PrescriptionRefused, match="entièrement exécutée"):
        service.retrieve(kernel, pharmacy, pharmacist, seeded.patients["camille"], sequenced)


def test_a_second_pharmacy_cannot_execute_what_the_first_is_dispensing(world: dict[str, Any]) -> None:
    kernel, seeded = world["kernel"], world["seeded"]
    pharmacy, pharmacist = seeded.pharmacy_id, seeded.operators["titulaire"]
    got = service.retrieve(kernel, pharmacy, pharmacist, seeded.patients["camille"], "5R2T8W1K4M7Q3DK")
    service.decide_line(kernel, pharmacy, got.execution_id, "L1", "partial", quantity=1)
    service.validate_and_bill(kernel, pharmacy, got.execution_id, pharmacist)
    _drain(kernel, pharmacy)
    from lgo_eordonnance.json_driver import JsonHttpsTransport

    other = world["authority"].organisation("AUTRE PHARMACIE", finess="999000029")
    stranger = JsonHttpsTransport(world["url"], other.client(), str(other.ca_path))
    with pytest.raises(PrescriptionRefused, match="autre officine"):
        stranger.retrieve("5R2T8W1K4M7Q3DK")


def test_retrieval_down_lets_the_paper_dispensing_go_on_and_transmission_down_delivers_later_once(
    world: dict[str, Any],
) -> None:
    from lgo.counter import Counter
    from lgo.domain.dispensing import create_prescription

    kernel, seeded, sandbox = world["kernel"], world["seeded"], world["sandbox"]
    pharmacy, pharmacist, patient = seeded.pharmacy_id, seeded.operators["titulaire"], seeded.patients["camille"]
    sandbox.down = True
    with pytest.raises(RetrievalUnavailable, match="ordonnance papier"):
        service.retrieve(kernel, pharmacy, pharmacist, patient, "3F8B2N6W4C9H1V7")
    with kernel.transaction() as session:  # the paper copy: the pharmacist types the prescription
        paper = create_prescription(
            session, pharmacy, patient, prescriber_name="Dr Anne MÉDECIN-DÉMO", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy, pharmacist)
    billing = counter.start_billing(patient_id=patient, prescription_id=paper)
    counter.add_product(billing, seeded.products["paracetamol"], 1)
    assert counter.end_billing(billing).invoice_number

    sandbox.down = False
    got = service.retrieve(kernel, pharmacy, pharmacist, patient, "3F8B2N6W4C9H1V7")
    for line in got.prescription.lines:
        service.confirm_line(kernel, pharmacy, got.execution_id, line.line_id)
    service.validate_and_bill(kernel, pharmacy, got.execution_id, pharmacist)
    sandbox.down = True
    Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy).run_once()  # one failed attempt, kept for later
    assert sandbox.executions == {}
    sandbox.down = False
    _drain(kernel, pharmacy)
    _drain(kernel, pharmacy)
    assert len(sandbox.executions) == 1


def test_every_installed_transport_driver_implements_the_protocol(tmp_path: Path) -> None:
    import inspect

    from lgo.plugins import providers
    from lgo_eordonnance.settings import EOrdonnanceSettings
    from lgo_eordonnance.transport import EOrdonnanceTransport

    names = providers.available("eordonnance")
    assert names, "no eordonnance transport driver installed"
    wanted = {
        n: inspect.signature(f).replace(parameters=list(inspect.signature(f).parameters.values())[1:])  # no self
        for n, f in vars(EOrdonnanceTransport).items()
        if inspect.isfunction(f) and not n.startswith("_")
    }
    for name in names:
        # Each entry point is a factory of (settings, the pharmacy's certificate).
        credential = TestAuthority(tmp_path / "pki").organisation("PHARMACIE").client()
        driver = providers.load("eordonnance", name)(EOrdonnanceSettings(), credential)
        for method, signature in wanted.items():
            assert callable(getattr(driver, method, None)), f"{name}: {method} missing"
            assert inspect.signature(getattr(driver, method)) == signature, f"{name}: {method} differs"


def test_the_json_driver_says_what_it_is_and_is_never_chosen_by_default(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    from lgo.errors import ProviderError
    from lgo.plugins import providers

    assert "json" in providers.available("eordonnance") and "sandbox" not in providers.available("eordonnance")
    assert "bac à sable" in providers.load("eordonnance", "json").label
    kernel = lgo_make_kernel(lgo_eordonnance.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    kernel.enable(pharmacy, "eordonnance")
    kernel.save_plugin_settings(pharmacy, "eordonnance", {"endpoint": "https://ordonnance.exemple.fr/"})
    assert kernel.selected_provider(pharmacy, "eordonnance") is None
    with pytest.raises(ProviderError, match="Aucun fournisseur choisi"):
        service.transport(kernel, pharmacy)


def test_the_ans_fhir_examples_serve_as_sandbox_prescriptions(world: dict[str, Any]) -> None:
    from lgo.testing import _require_or_skip
    from lgo_sandbox.eordonnance.fhir import bundles, from_bundle

    package = next(
        (
            p / "shared/conformance/services/eprescription/ans.fhir.fr.eprescription-package.tgz"
            for p in Path(__file__).resolve().parents
            if (p / "shared/conformance/services/eprescription").is_dir()
        ),
        None,
    )
    if package is None:
        _require_or_skip("../shared absent : exemples FHIR ePrescription indisponibles.")
        return
    kernel, seeded, sandbox = world["kernel"], world["seeded"], world["sandbox"]
    loaded = 0
    for number, (_name, bundle) in enumerate(bundles(package)):
        prescription = from_bundle(bundle, ident.make(f"FH{number:012d}"))
        if prescription is None:
            continue
        sandbox.add(prescription)
        got = service.retrieve(
            kernel,
            seeded.pharmacy_id,
            seeded.operators["titulaire"],
            seeded.patients["camille"],
            prescription["identifier"],
        )
        assert len(got.prescription.lines) == len(prescription["lines"]) >= 1
        kinds = {a.kind for a in got.actions}
        assert "eordonnance.confirm_patient" in kinds  # the example's patient is not Camille
        loaded += 1
    assert loaded >= 10
