"""End to end with the real plugins: the DMP test patient is qualified against the INSi sandbox (ins), a
vaccination is billed and its note validated (vaccination), an interview and a BPM are recorded (entretiens), and
the DMP sandbox over HTTPS with client certificates lists every document for that patient (dmp)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import lgo_dmp.plugin
import lgo_entretiens.plugin
import lgo_ins.plugin
import lgo_vaccination.plugin
import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain.dispensing import create_prescription
from lgo.domain.patients import create_patient
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.identity import OID_NIR
from lgo.kernel import Kernel
from lgo.testing.cda import cda_errors
from lgo.worker import Worker
from lgo_dmp import service as dmp
from lgo_entretiens import service as entretiens
from lgo_ins import api as ins
from lgo_sandbox.pki import TestAuthority
from lgo_vaccination import service as vaccination
from lgo_vaccination.model import NoteStatus
from segur_helpers import dmp_test_patient as _dmp_test_patient
from segur_helpers import qualify as _qualify


@pytest.fixture
def segur(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from lgo_sandbox.dmp import start_dmp_sandbox

    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_dmp.plugin, lgo_vaccination.plugin, lgo_entretiens.plugin)
    pharmacy = lgo_seeded.pharmacy_id
    for name in ("ins", "dmp", "vaccination", "entretiens"):
        kernel.enable(pharmacy, name)
    authority = TestAuthority(tmp_path / "pki")
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
    organisation = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
    server, sandbox = start_dmp_sandbox(authority, seed=11)
    organisation.store_for(kernel, pharmacy)
    kernel.save_plugin_settings(
        pharmacy,
        "dmp",
        {
            "endpoint": server.url,
        },
    )
    try:
        yield {"kernel": kernel, "seeded": lgo_seeded, "sandbox": sandbox, "tmp_path": tmp_path}
    finally:
        server.stop()


def _bill_vaccination(kernel: Kernel, seeded: Seeded, patient: int) -> int:
    pharmacy = seeded.pharmacy_id
    with kernel.transaction() as session:
        product = product_by_cip13(session, pharmacy, seeded.products["grippe"])
        receive(session, pharmacy, product, lot_number="E2E-1", expiry=date.today() + timedelta(days=90), quantity=2)
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Pharmacien", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy, seeded.operators["titulaire"])
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, seeded.products["grippe"], 1, lot_number="E2E-1")
    counter.add_act(billing, "VGP")
    result = counter.end_billing(billing)
    assert "ins.qualify" not in [a.kind for a in result.actions]
    (note_id,) = vaccination.notes_for_invoice(kernel, pharmacy, result.invoice_id)
    return note_id


def _drain(kernel: Kernel, pharmacy_id: int) -> None:
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id)
    for _ in range(20):
        if not worker.drain():
            return


def test_vaccination_note_interview_and_bpm_reach_the_dmp_of_the_qualified_test_patient(segur: dict[str, Any]) -> None:
    kernel, seeded, sandbox = segur["kernel"], segur["seeded"], segur["sandbox"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    patient = _qualify(kernel, seeded, _dmp_test_patient(), segur["tmp_path"])

    note_id = _bill_vaccination(kernel, seeded, patient)
    assert vaccination.validate_note(kernel, pharmacy, note_id, titulaire) == []
    avk = entretiens.record_interview(
        kernel,
        pharmacy,
        patient,
        titulaire,
        theme_code="AVK",
        held_on=date.today(),
        analysis="INR stable.",
        recommendations="Poursuivre.",
    )
    bpm = entretiens.record_bpm(
        kernel,
        pharmacy,
        patient,
        titulaire,
        held_on=date.today(),
        analysis="Historique revu.",
        recommendations="Aucune modification.",
    )
    for record in (avk, bpm):
        assert entretiens.validate_document(kernel, pharmacy, record, titulaire) == []
    _drain(kernel, pharmacy)

    listed = dmp.list_documents(kernel, pharmacy, titulaire, patient)
    assert sorted(entry.type_code for entry in listed) == ["56445-0", "78601-2", "87273-9"]
    note = next(entry for entry in listed if entry.type_code == "87273-9")
    content = dmp.open_document(kernel, pharmacy, titulaire, patient, note)
    assert cda_errors(content, ["CI-SIS_VAC-NOTE_2023.01.sch"]) == []
    assert all(count == 1 for count in sandbox.registrations.values())
    # The carnet joins the local notes and the DMP: the note sent to the DMP is not listed twice.
    carnet = vaccination.full_record(kernel, pharmacy, titulaire, patient)
    assert [(line.disease, line.added_by) for line in carnet] == [("Grippe", "cette pharmacie")]


def test_an_unqualified_patient_s_vaccination_waits_then_reaches_the_dmp(segur: dict[str, Any]) -> None:
    kernel, seeded = segur["kernel"], segur["seeded"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    traits = _dmp_test_patient()
    with kernel.transaction() as session:
        patient = create_patient(
            session,
            pharmacy,
            birth_name=traits["nomNaissance"],
            first_names=traits["prenom"],
            sex=traits["sexe"],
            birth_date=traits["dateNaissance"],
            birth_place_code=traits["inseeCommune"],
        ).id
    with kernel.transaction() as session:
        product = product_by_cip13(session, pharmacy, seeded.products["grippe"])
        receive(session, pharmacy, product, lot_number="E2E-2", expiry=date.today() + timedelta(days=90), quantity=1)
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Pharmacien", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy, titulaire)
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, seeded.products["grippe"], 1, lot_number="E2E-2")
    counter.add_act(billing, "VGP")
    result = counter.end_billing(billing)
    assert "ins.qualify" in [a.kind for a in result.actions]
    (note_id,) = vaccination.notes_for_invoice(kernel, pharmacy, result.invoice_id)
    # The pharmacist does not answer the qualification: the note is validated and waits, visibly.
    vaccination.validate_note(kernel, pharmacy, note_id, titulaire)
    assert vaccination.note_status(kernel, pharmacy, note_id) == NoteStatus.WAITING_IDENTITY
    _drain(kernel, pharmacy)
    ins.record_insi_result(
        kernel,
        pharmacy,
        patient,
        titulaire,
        ins.InsiTraits(
            traits["matricule_ins"],
            OID_NIR,
            traits["nomNaissance"],
            (traits["prenom"],),
            traits["sexe"],
            traits["dateNaissance"],
            traits["inseeCommune"],
        ),
    )
    ins.record_identity_document(kernel, pharmacy, patient, titulaire, ins.DocumentKind.PASSEPORT)
    assert vaccination.note_status(kernel, pharmacy, note_id) == NoteStatus.VALIDATED
    _drain(kernel, pharmacy)
    assert [e.type_code for e in dmp.list_documents(kernel, pharmacy, titulaire, patient)] == ["87273-9"]
