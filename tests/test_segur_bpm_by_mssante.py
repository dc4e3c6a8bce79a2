"""End to end with the real plugins, once per MSSanté provider chosen in the settings: the DMP test patient is
qualified through the INSi sandbox (ins), a BPM is recorded and validated (entretiens), sent by MSSanté to the
doctor and to the patient's Mon espace santé mailbox (mssante) over a real mail server; the doctor's reply is
integrated to that patient, not to another one with the same name, and acknowledged."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import lgo_entretiens.plugin
import lgo_ins.plugin
import lgo_mssante.plugin
import pytest
from lgo.demo_data import Seeded
from lgo.documents.model import HealthDocument
from lgo.domain import certificates
from lgo.kernel import Kernel
from lgo.testing import _require_or_skip
from lgo.worker import Worker
from lgo_entretiens import service as entretiens
from lgo_mssante import accounts
from lgo_mssante import message as mail
from lgo_mssante import service as mssante
from lgo_mssante.testing import checked_xdm_archives
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from lgo_sandbox.mss.mailserver import available, start_mail_sandbox
from lgo_sandbox.pki import TestAuthority
from segur_helpers import dmp_test_patient, qualify
from sqlalchemy import select

ORG_BOX = "officine@pharmacie-e2e.mssante.fr"
OWN_BOX = "titulaire@pharmacien-e2e.mssante.fr"
DOCTOR_BOX = "medecin@medecin-e2e.mssante.fr"
__all__ = ["checked_xdm_archives"]


@pytest.fixture(autouse=True)
def _every_xdm_archive_is_checked(checked_xdm_archives: list[bytes]) -> Iterator[None]:
    """Each IHE_XDM.ZIP built here is checked against the ebRIM schemas and the XDM media rules."""
    yield


@pytest.fixture(params=["mailiz", "organisationnelle"])
def world(
    request: pytest.FixtureRequest, lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    reason = available()
    if reason:
        _require_or_skip(f"{reason} : test MSSanté de bout en bout ignoré")
    traits = dmp_test_patient()
    kernel = lgo_make_kernel(lgo_ins.plugin, lgo_entretiens.plugin, lgo_mssante.plugin)
    pharmacy, titulaire = lgo_seeded.pharmacy_id, lgo_seeded.operators["titulaire"]
    for name in ("ins", "entretiens", "mssante"):
        kernel.enable(pharmacy, name)
    patient = qualify(kernel, lgo_seeded, traits, tmp_path)
    patient_box = f"{traits['matricule_ins']}@patient.mssante.fr"
    authority = TestAuthority(tmp_path / "mss-pki")
    passwords = {ORG_BOX: "o", OWN_BOX: "p", DOCTOR_BOX: "d", patient_box: "m"}
    sandbox = start_mail_sandbox(authority, passwords)
    kernel.save_plugin_settings(
        pharmacy,
        "mssante",
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": sandbox.smtp_port,
            "imap_host": "127.0.0.1",
            "imap_port": sandbox.imap_port,
            "ca_path": str(authority.ca_path),
        },
    )
    with kernel.transaction() as session:
        certificates.store(
            session, pharmacy, authority.organisation("PHARMACIE").pkcs12("x"), "x", accept_warnings=True
        )
    if request.param == "mailiz":
        person = authority.person("99999000013", given_name="Claire", surname="DURAND-DEMO")
        accounts.add_personal(
            kernel,
            pharmacy,
            operator_id=titulaire,
            address=OWN_BOX,
            login=OWN_BOX,
            password="p",
            pkcs12=person.pkcs12("y"),
            passphrase="y",
        )
        own = OWN_BOX
    else:
        box = accounts.add_organisational(kernel, pharmacy, address=ORG_BOX, login=ORG_BOX, password="o")
        accounts.set_habilitation(kernel, pharmacy, box, titulaire, "Utilisateur")
        own = ORG_BOX
    kernel.select_provider(pharmacy, "mssante", request.param)
    try:
        yield {
            "kernel": kernel,
            "seeded": lgo_seeded,
            "patient": patient,
            "patient_box": patient_box,
            "sandbox": sandbox,
            "authority": authority,
            "own": own,
        }
    finally:
        sandbox.stop()


def _drain(kernel: Kernel, pharmacy_id: int) -> None:
    worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id)
    for _ in range(3):
        worker.drain()


def test_a_bpm_goes_to_the_doctor_and_the_patient_and_the_reply_comes_back_to_the_right_patient(
    world: dict[str, Any],
) -> None:
    kernel, seeded, patient = world["kernel"], world["seeded"], world["patient"]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    record = entretiens.record_bpm(
        kernel,
        pharmacy,
        patient,
        titulaire,
        held_on=date.today(),
        analysis="Historique revu.",
        recommendations="Aucune modification.",
    )
    assert entretiens.validate_document(kernel, pharmacy, record, titulaire) == []
    with kernel.transaction() as session:
        document = session.scalars(select(HealthDocument.id).where(HealthDocument.patient_id == patient)).one()
    mssante.send_documents(
        kernel, pharmacy, titulaire, patient, [document], professionals=[DOCTOR_BOX], to_patient=True
    )
    _drain(kernel, pharmacy)
    sandbox = world["sandbox"]
    assert all("envoyé" in line for line in mssante.status_lines(kernel, pharmacy, direction="sortant"))

    # The doctor answers about the same patient; its INS comes from the BPM it received.
    import imaplib

    doctor = world["authority"].person("99999000047", given_name="Anne", surname="MEDECIN")
    imap = imaplib.IMAP4("127.0.0.1", sandbox.imap_port)
    imap.starttls(ssl_context=doctor.client_context())
    imap.login(DOCTOR_BOX, "d")
    imap.select("INBOX")
    _status, parts = imap.fetch("1", "(BODY.PEEK[])")
    imap.logout()
    received = mail.read(next(p[1] for p in parts if isinstance(p, tuple)), max_bytes=20_000_000)
    assert received.xdm is not None
    from lgo_mssante import xdm

    [bpm] = xdm.read(received.xdm)
    assert mail.cda_patient(bpm.cda).matricule == dmp_test_patient()["matricule_ins"]
    identity = kernel.shareable_identity(pharmacy, patient)
    reply = reply_with_xdm(sender=DOCTOR_BOX, to=world["own"], cda=professional_cda(identity))
    with smtplib.SMTP("127.0.0.1", sandbox.smtp_port) as smtp:
        smtp.starttls(context=doctor.client_context())
        smtp.login(DOCTOR_BOX, "d")
        smtp.send_message(reply)
    report = mssante.receive(kernel, pharmacy)
    assert len(report.integrated) == 1
    assert mssante.received_documents(kernel, pharmacy, patient) == [("Compte rendu du médecin traitant", "78601-2")]
    for other in seeded.patients.values():
        assert mssante.received_documents(kernel, pharmacy, other) == []
    _drain(kernel, pharmacy)
    assert "intégré" in mssante.status_lines(kernel, pharmacy, direction="entrant")[0]
