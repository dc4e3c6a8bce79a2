"""Issue 23's acceptance, end to end with the real plugins: the identity qualified by the ``ins`` plugin, the ``dp``
plugin in two pharmacies of one database, each with its own organisation certificate, talking to the DP sandbox over
HTTPS with mutual TLS, ``lgo worker`` turns in between.

* a dispensation in pharmacy A appears in pharmacy B's consultation within one worker turn, with its lot;
* a patient without a qualified INS is refused with a clear message;
* a refusal stops feeding;
* a recall blocks both counters of the pharmacy until one operator acknowledges, and lists who received the lot;
* the DP down, then back: every dispensation delivered exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import lgo_dp.plugin
import lgo_ins.plugin
import pytest
from lgo.counter import BillingResult, Counter
from lgo.demo_data import Seeded, seed
from lgo.domain.dispensing import create_prescription
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import Pharmacy
from lgo.identifiers import nir_key, with_luhn
from lgo.identity import OID_TEST, IdentityNotShareable
from lgo.kernel import Kernel
from lgo.worker import Worker
from lgo_dp import api as dp
from lgo_ins import api as ins
from lgo_sandbox.dp import start_dp_sandbox
from lgo_sandbox.pki import TestAuthority


@pytest.fixture
def two_pharmacies(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path, lgo_home: Path
) -> Iterator[tuple[Kernel, Any, Seeded, Seeded]]:
    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_dp.plugin)
    with kernel.transaction() as session:
        b = seed(session, finess=with_luhn("99000002"))
    authority = TestAuthority(tmp_path / "pki")
    server, sandbox = start_dp_sandbox(authority)
    for pharmacy, name in ((lgo_seeded, "PHARMACIE DES TILLEULS"), (b, "PHARMACIE DU MARCHE")):
        with kernel.transaction() as session:
            finess = session.get(Pharmacy, pharmacy.pharmacy_id).finess  # type: ignore[union-attr]
        authority.organisation("DP", finess=finess, organisation=name).store_for(kernel, pharmacy.pharmacy_id)
        kernel.enable(pharmacy.pharmacy_id, "dp", with_dependencies=True)
        kernel.enable(pharmacy.pharmacy_id, "ins")
        kernel.select_provider(pharmacy.pharmacy_id, "dp", "json")
        kernel.save_plugin_settings(pharmacy.pharmacy_id, "dp", {"endpoint": server.url})
    yield kernel, sandbox, lgo_seeded, b
    server.stop()


def _qualify(kernel: Kernel, pharmacy: Seeded, key: str) -> str:
    """INSi's answer recorded and an identity card checked, through the ins plugin: the identity is qualifiée."""
    patient_id, titulaire = pharmacy.patients[key], pharmacy.operators["titulaire"]
    with kernel.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None and patient.vitale_nir
        body = patient.vitale_nir[:13]
        found = ins.InsiTraits(
            matricule=f"{body}{nir_key(body):02d}",
            oid=OID_TEST,
            birth_name=patient.birth_name.replace("É", "E"),
            first_names=tuple(patient.first_names.split()),
            sex=patient.sex.value,
            birth_date=patient.birth_date_text,
            birth_place_code=patient.birth_place_code,
        )
    ins.record_insi_result(kernel, pharmacy.pharmacy_id, patient_id, titulaire, found)
    ins.record_identity_document(kernel, pharmacy.pharmacy_id, patient_id, titulaire, ins.DocumentKind.CNI)
    return found.matricule


def _dispense(kernel: Kernel, pharmacy: Seeded, key: str, product: str, lot: str | None = None) -> BillingResult:
    patient = pharmacy.patients[key]
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, pharmacy.pharmacy_id, patient, prescriber_name="Dr Démo", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy.pharmacy_id, pharmacy.operators["titulaire"])
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, pharmacy.products[product], 1, lot_number=lot)
    return counter.end_billing(billing)


def _turn(kernel: Kernel, pharmacy: Seeded) -> int:
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy.pharmacy_id)
    worker.run_periodic(force=True)
    return worker.run_once()


def _blocking(kernel: Kernel, pharmacy_id: int) -> list[Any]:
    """What blocks every counter page of the pharmacy (``lgo_counter_blocking``, asked by each page of each counter;
    the two counters in a browser: ``tests/test_counter_dp_in_the_browser.py``)."""
    return [a for p, a in kernel.hooks.counter_blocking(pharmacy_id) if p == "dp" and a.blocking]


def test_the_dp_across_two_pharmacies_with_the_real_identity_plugin(
    two_pharmacies: tuple[Kernel, Any, Seeded, Seeded],
) -> None:
    kernel, sandbox, a, b = two_pharmacies
    matricule = _qualify(kernel, a, "camille")
    assert _qualify(kernel, b, "camille") == matricule

    # Without a qualified INS: refused, clearly, before any call to the DP.
    with pytest.raises(IdentityNotShareable, match="exige une INS qualifiée"):
        dp.consult(kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["jean"])

    # Pharmacy A: the creation proposed and accepted, one dispensation with its lot.
    actions = Counter(kernel, a.pharmacy_id, a.operators["preparatrice"]).select_patient(a.patients["camille"])
    assert [x.kind for x in actions] == ["dp.propose_creation"]
    dp.answer(kernel, a.pharmacy_id, a.operators["preparatrice"], a.patients["camille"], "create")
    _turn(kernel, a)
    sold = _dispense(kernel, a, "camille", "amoxicilline", lot="AM24C").event.lines[0]
    assert sold.lot_number == "AM24C"
    assert dp.consult(kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"]).lines == ()
    assert _turn(kernel, a) == 1  # one worker turn
    (line,) = dp.consult(kernel, b.pharmacy_id, b.operators["titulaire"], b.patients["camille"]).lines
    assert (line.lot, line.pharmacy_name, line.quantity, line.own) == ("AM24C", "PHARMACIE DES TILLEULS", 1, False)

    # A refusal (Jean, in A) stops feeding.
    jean = _qualify(kernel, a, "jean")
    until = dp.refuse(kernel, a.pharmacy_id, a.operators["titulaire"], a.patients["jean"])
    assert until.year == date.today().year + 10
    _dispense(kernel, a, "jean", "paracetamol")
    for _ in range(3):
        _turn(kernel, a)
    assert sandbox.lines_of(jean, OID_TEST) == [] and sandbox.file_of(jean, OID_TEST).state == "refus"

    # The DP down, then back: every dispensation delivered exactly once.
    sandbox.down = True
    for _ in range(2):
        _dispense(kernel, a, "camille", "paracetamol")
    _turn(kernel, a)
    sandbox.down, sandbox.lose_answers = False, 1
    for _ in range(4):
        _turn(kernel, a)
    references = [x.reference for x in sandbox.lines_of(matricule, OID_TEST)]
    assert len(references) == len(set(references)) == 3

    # A recall of the lot blocks both counters of A until one operator acknowledges; it names Camille.
    sandbox.publish(
        "rappel",
        "Rappel du lot AM24C",
        "Défaut de dissolution.",
        products=[{"cip13": a.products["amoxicilline"], "lots": ["AM24C"]}],
    )
    _turn(kernel, a)
    (recall,) = _blocking(kernel, a.pharmacy_id)
    assert recall.data["patients"] == [{"patient_id": a.patients["camille"], "name": "CAMILLE MARTIN-DÉMO"}]
    assert _blocking(kernel, b.pharmacy_id) == []  # B has not fetched it yet
    dp.acknowledge(kernel, a.pharmacy_id, recall.data["bulletin_id"], a.operators["preparatrice"])
    assert _blocking(kernel, a.pharmacy_id) == []
