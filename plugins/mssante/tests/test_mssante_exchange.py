"""The acceptance scenario with each provider, selected by settings only: send a BPM to a professional and to the
patient's Mon espace santé mailbox, receive the professional's reply with an XDM archive, integrate it to the right
patient, send the MDN. Then the mail server down at send time, and the checks made before queuing."""

from __future__ import annotations

import io
import zipfile

import pytest
from lgo.documents import xds
from lgo.errors import ValidationError
from lgo.worker import Worker
from lgo_mssante import message as mail
from lgo_mssante import service
from lgo_mssante.model import MessageStatus, MssMessage
from lgo_mssante.provider import NotAllowed
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from lxml import etree
from mss_helpers import DOCTOR_BOX, PASSWORDS, PATIENT_BOX, MssWorld
from sqlalchemy import select


def _submit_as_doctor(world: MssWorld, message: object) -> None:
    import smtplib

    with smtplib.SMTP("127.0.0.1", world.sandbox.smtp_port) as smtp:
        smtp.starttls(context=world.doctor.client_context())
        smtp.login(DOCTOR_BOX, PASSWORDS[DOCTOR_BOX])
        smtp.send_message(message)  # type: ignore[arg-type]


def test_send_a_bpm_receive_the_reply_integrate_it_and_acknowledge(mss_world: MssWorld) -> None:
    world = mss_world
    document = world.document()
    message_row = service.send_documents(
        world.kernel,
        world.pharmacy_id,
        world.pharmacist,
        world.patient,
        [document],
        professionals=[DOCTOR_BOX],
        to_patient=True,
    )
    world.drain()

    for address in (DOCTOR_BOX, PATIENT_BOX):
        [received] = world.mailbox(address)
        assert received["From"] == world.own_box
        assert received["Subject"].startswith("XDM/1.0/DDM+Bilan partagé de médication MARTIN-DEMO CAMILLE 14/03/1985")
        assert received["X-MSS-CODECDA"] == "56445-0" and received["X-MSS-INS"] == "O"
        assert received["X-MSS-NIL"] == "LGO-LIBRE-TEST"
        assert received["Disposition-Notification-To"] == world.own_box
        names = [part.get_filename() for part in received.iter_attachments()]
        assert names == ["IHE_XDM.ZIP", "Bilan_partag_de_m_dication.pdf"]
        archive = next(p for p in received.iter_attachments() if p.get_filename() == "IHE_XDM.ZIP")
        with zipfile.ZipFile(io.BytesIO(archive.get_content())) as xdm_zip:
            assert {"INDEX.HTM", "README.TXT", "IHE_XDM/SUBSET01/METADATA.XML", "IHE_XDM/SUBSET01/DOC0001.XML"} == set(
                xdm_zip.namelist()
            )
            metadata = etree.fromstring(xdm_zip.read("IHE_XDM/SUBSET01/METADATA.XML"))
        uri = metadata.findtext(f".//{{{xds.RIM}}}Slot[@name='URI']/{{{xds.RIM}}}ValueList/{{{xds.RIM}}}Value")
        assert uri == "DOC0001.XML"
        recipients = metadata.findall(f".//{{{xds.RIM}}}Slot[@name='intendedRecipient']//{{{xds.RIM}}}Value")
        assert {r.text for r in recipients} == {f"||^^Internet^{DOCTOR_BOX}", f"||^^Internet^{PATIENT_BOX}"}

    with world.kernel.transaction() as session:
        assert session.get(MssMessage, message_row).status == MessageStatus.SENT  # type: ignore[union-attr]

    identity = world.identity.identity(world.patient)
    reply = reply_with_xdm(sender=DOCTOR_BOX, to=world.own_box, cda=professional_cda(identity))
    _submit_as_doctor(world, reply)
    report = service.receive(world.kernel, world.pharmacy_id)
    assert len(report.integrated) == 1 and not report.quarantined
    # ``lgo worker`` fetches the mailboxes by itself too: here nothing new is left.
    assert Worker(world.kernel, pharmacy_id=world.pharmacy_id).run_periodic(force=True) == 1
    assert service.received_documents(world.kernel, world.pharmacy_id, world.patient) == [
        ("Compte rendu du médecin traitant", "78601-2")
    ]

    world.drain()  # the MDN goes through the outbox
    mdns = [m for m in world.mailbox(DOCTOR_BOX) if m.get_content_type() == "multipart/report"]
    assert len(mdns) == 1
    acknowledged = mail.read(mdns[0].as_bytes(), max_bytes=10_000_000).disposition
    assert acknowledged == (reply["Message-ID"], "automatic-action/MDN-sent-automatically; processed")

    # Fetching again finds nothing new: the message is flagged as integrated on the server, never deleted.
    again = service.receive(world.kernel, world.pharmacy_id)
    assert not again.integrated and not again.quarantined


def test_the_acknowledgement_of_our_message_is_recorded(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    row = service.send_documents(
        world.kernel, world.pharmacy_id, world.pharmacist, world.patient, [world.document()], professionals=[DOCTOR_BOX]
    )
    world.drain()
    [received] = world.mailbox(DOCTOR_BOX)
    incoming = mail.read(received.as_bytes(), max_bytes=10_000_000)
    mdn = mail.mdn(incoming, sender=DOCTOR_BOX, message_id=mail.new_message_id(DOCTOR_BOX))
    _submit_as_doctor(world, mdn)
    # Fetched by ``lgo worker``'s periodic job, not by a command.
    assert Worker(world.kernel, pharmacy_id=world.pharmacy_id).run_periodic(force=True) == 1
    with world.kernel.transaction() as session:
        assert session.get(MssMessage, row).status == MessageStatus.ACKNOWLEDGED  # type: ignore[union-attr]


def test_the_server_down_at_send_time_then_the_message_is_delivered_once(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    world.sandbox.stop_smtp()
    row = service.send_documents(
        world.kernel, world.pharmacy_id, world.pharmacist, world.patient, [world.document()], professionals=[DOCTOR_BOX]
    )
    Worker(world.kernel, base_backoff_seconds=0.0, pharmacy_id=world.pharmacy_id).run_once()
    with world.kernel.transaction() as session:
        message = session.get(MssMessage, row)
        assert message is not None and message.status == MessageStatus.QUEUED
    world.sandbox.start_smtp()
    world.drain()
    assert len(world.mailbox(DOCTOR_BOX)) == 1
    with world.kernel.transaction() as session:
        assert session.get(MssMessage, row).status == MessageStatus.SENT  # type: ignore[union-attr]


def test_the_patient_mailbox_needs_a_qualified_ins(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    document = world.document()
    world.identity.qualified.discard(world.patient)
    with pytest.raises(ValidationError) as refused:
        service.send_documents(
            world.kernel, world.pharmacy_id, world.pharmacist, world.patient, [document], to_patient=True
        )
    assert "INS" in refused.value.message_fr
    with world.kernel.transaction() as session:
        assert not list(session.scalars(select(MssMessage)))


def test_an_operator_without_habilitation_cannot_send_from_the_organisational_mailbox(
    mss_org_world: MssWorld,
) -> None:
    from lgo_mssante.model import MssHabilitation

    world = mss_org_world
    document = world.document()
    with world.kernel.transaction() as session:
        for row in session.scalars(select(MssHabilitation)):
            session.delete(row)
    with pytest.raises(NotAllowed) as refused:
        service.send_documents(
            world.kernel, world.pharmacy_id, world.pharmacist, world.patient, [document], professionals=[DOCTOR_BOX]
        )
    assert "habilitation" in refused.value.message_fr
    with world.kernel.transaction() as session:
        assert not list(session.scalars(select(MssMessage)))
