"""The mailbox behind the counter's screens, on the real mail server: a message for an unknown patient is quarantined
and its sender receives the KO notification of the ANS guide (subject, code, the original and its files attached)
besides the MDN; the quarantine is attached by hand to the right patient only by a holder of the quarantine right,
after the identity checks, traced with the operator's name; plain-words subjects; reply, forward, mark handled."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage

import pytest
from lgo.domain.audit import AuditEntry
from lgo.domain.patients import create_patient
from lgo.errors import ValidationError
from lgo_mssante import accounts, attach, compose, mailbox, service
from lgo_mssante.model import Direction, MessageStatus, MssMessage, MssReceivedDocument
from lgo_mssante.provider import NotAllowed
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from mss_helpers import DOCTOR_BOX, PHARMACIST_BOX, MssWorld
from sqlalchemy import select

#: A patient the pharmacy does not know yet when the doctor writes.
NEWCOMER = {"birth_name": "LEGRAND-DEMO", "first_names": ("SOPHIE",), "sex": "F", "birth_date": "1990-05-12"}


def _newcomer_mail(world: MssWorld) -> bytes:
    identity = replace(world.identity.identity(world.patient), matricule="290059912345678", **NEWCOMER)  # type: ignore[arg-type]
    reply = reply_with_xdm(sender=DOCTOR_BOX, to=world.own_box, cda=professional_cda(identity))
    return reply.as_bytes()


def _quarantined(world: MssWorld) -> MssMessage:
    with world.kernel.transaction() as session:
        row = session.scalars(select(MssMessage).where(MssMessage.status == MessageStatus.QUARANTINED)).one()
        session.expunge(row)
        return row


def test_unknown_patient_ko_notification_and_manual_attachment(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    kernel, pharmacy = world.kernel, world.pharmacy_id
    preparer, titulaire = world.seeded.operators["preparatrice"], world.pharmacist
    world.sandbox.deliver(DOCTOR_BOX, [world.own_box], _newcomer_mail(world))
    report = service.receive(kernel, pharmacy)
    assert len(report.quarantined) == 1
    row = _quarantined(world)
    assert row.error_code == "902"
    world.drain()

    # the sender receives the KO notification (standard mail) and the MDN
    received = world.mailbox(DOCTOR_BOX)
    ko = [m for m in received if str(m["Subject"]).startswith("[KO Intégration système !][902] XDM/1.0/DDM+")]
    assert len(ko) == 2, [str(m["Subject"]) for m in received]  # the standard notification and the MDN
    standard = next(m for m in ko if m.get_content_type() == "multipart/mixed")
    assert "LEGRAND-DEMO SOPHIE 12/05/1990" in str(standard["Subject"])
    text = standard.get_body(preferencelist=("plain",))
    assert isinstance(text, EmailMessage) and "Code d'erreur : 902" in text.get_content()
    files = {part.get_filename(): part.get_content_type() for part in standard.iter_attachments()}
    assert files["message_original.eml"] == "message/rfc822" and files["IHE_XDM.ZIP"] == "application/zip"
    assert next(m for m in ko if m.get_content_type() == "multipart/report")
    with kernel.transaction() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "mssante.ko")).one()

    # a préparateur « Utilisateur » reads and sends, but has no access to the quarantine
    box = world.account_id
    accounts.set_habilitation(kernel, pharmacy, box, preparer, "Utilisateur")
    rights = mailbox.rights(kernel, pharmacy, preparer)
    assert rights.read and rights.send and not rights.quarantine
    assert row.id not in [m.id for m in mailbox.folder(kernel, pharmacy, preparer, "recus")]
    with pytest.raises(NotAllowed):
        mailbox.folder(kernel, pharmacy, preparer, "quarantaine")
    with pytest.raises(NotAllowed):
        attach.attach(kernel, pharmacy, preparer, row.id, world.patient, confirmed=True)

    # the pharmacist (Gestionnaire) reads it in plain words
    accounts.set_habilitation(kernel, pharmacy, box, titulaire, "Gestionnaire")
    shown = mailbox.read(kernel, pharmacy, titulaire, row.id)
    assert shown.subject_fr == "Compte rendu du médecin traitant — LEGRAND-DEMO SOPHIE, né(e) le 12/05/1990"
    assert shown.body.startswith("Bonjour, voici mon compte rendu.")
    (document,) = [a for a in shown.attachments if a.is_document]
    assert document.title == "Compte rendu du médecin traitant" and "LEGRAND-DEMO" in document.patient_fr

    # the wrong patient: traits differ, refused and traced
    checks = attach.checks(kernel, pharmacy, row.id, world.patient)
    assert not checks.ok and "ne le concerne pas" in checks.blocking_fr and not checks.rows[0].same
    with pytest.raises(ValidationError):
        attach.attach(kernel, pharmacy, titulaire, row.id, world.patient, confirmed=True)

    # the patient comes to the pharmacy and is created; the document is attached after the checks
    with kernel.transaction() as session:
        newcomer = create_patient(
            session, pharmacy, birth_name="Legrand-Démo", first_names="Sophie", sex="F", birth_date="1990-05-12"
        ).id
    checks = attach.checks(kernel, pharmacy, row.id, newcomer)
    assert checks.ok and all(r.same for r in checks.rows) and "non qualifiée" in checks.ins_fr
    with pytest.raises(ValidationError, match="J'ai vérifié"):
        attach.attach(kernel, pharmacy, titulaire, row.id, newcomer, confirmed=False)
    assert attach.attach(kernel, pharmacy, titulaire, row.id, newcomer, confirmed=True) == 1
    with kernel.transaction() as session:
        (attached,) = session.scalars(select(MssReceivedDocument)).all()
        assert attached.patient_id == newcomer and attached.attached_by == titulaire
        message = session.get(MssMessage, row.id)
        assert message is not None and message.status == MessageStatus.INTEGRATED
        traced = session.scalars(select(AuditEntry).where(AuditEntry.action.like("mssante.attach%"))).all()
    assert [e.action for e in traced] == ["mssante.attach.refused", "mssante.attach.refused", "mssante.attached"]
    assert all("Claire Durand-Démo" in e.message_fr and e.operator_id == titulaire for e in traced)


def test_a_hostile_archive_is_set_aside_and_its_sender_told_an_unreadable_message_is_not(
    mss_org_world: MssWorld,
) -> None:
    """Automatic integration also fails on an archive that cannot be read safely (a DTD here): the sender gets the
    KO notification with code 906; a message whose MIME structure is broken names no sender to answer."""
    import io
    import zipfile

    from lgo_mssante import message as mail

    world = mss_org_world
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as built:
        built.writestr(
            "IHE_XDM/SUBSET01/METADATA.XML",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        )
    hostile = mail.compose(
        sender=DOCTOR_BOX,
        to=[world.own_box],
        subject="XDM/1.0/DDM+Compte rendu",
        body="Bonjour",
        message_id=mail.new_message_id(DOCTOR_BOX),
        product_reference="LOGICIEL-MEDECIN-FICTIF",
        xdm=archive.getvalue(),
        cda_codes=["11488-4"],
        ins_qualified=True,
    )
    world.sandbox.deliver(DOCTOR_BOX, [world.own_box], hostile.as_bytes())
    world.sandbox.deliver(
        DOCTOR_BOX,
        [world.own_box],
        b"From: " + DOCTOR_BOX.encode() + b"\r\nSubject: cass\xc3\xa9\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsans fin',
    )
    report = service.receive(world.kernel, world.pharmacy_id)
    assert len(report.quarantined) == 2 and not report.integrated
    world.drain()
    subjects = [str(m["Subject"]) for m in world.mailbox(DOCTOR_BOX)]
    assert [s for s in subjects if s.startswith("[KO Intégration système !]")] == [
        "[KO Intégration système !][906] XDM/1.0/DDM+Compte rendu"
    ], subjects
    with world.kernel.transaction() as session:
        (told,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "mssante.ko")).all()
        assert DOCTOR_BOX in told.message_fr and "906" in told.message_fr


def test_reply_forward_and_handled(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    kernel, pharmacy, titulaire = world.kernel, world.pharmacy_id, world.pharmacist
    doctor_cda = professional_cda(world.identity.identity(world.patient))
    world.sandbox.deliver(
        DOCTOR_BOX, [world.own_box], reply_with_xdm(sender=DOCTOR_BOX, to=world.own_box, cda=doctor_cda).as_bytes()
    )
    assert len(service.receive(kernel, pharmacy).integrated) == 1
    world.drain()  # the MDN
    (listed,) = mailbox.folder(kernel, pharmacy, titulaire, "recus")
    reply = compose.queue(
        kernel, pharmacy, titulaire, professionals=[DOCTOR_BOX], body="Merci, bien reçu.", reply_to=listed.id
    )
    forward = compose.queue(kernel, pharmacy, titulaire, professionals=[PHARMACIST_BOX], forward_of=listed.id)
    with pytest.raises(ValidationError, match="Adresse MSSanté invalide"):
        compose.queue(kernel, pharmacy, titulaire, professionals=["<script>@x"], body="x")
    world.drain()
    with kernel.transaction() as session:
        statuses = {
            r.id: r.status for r in session.scalars(select(MssMessage).where(MssMessage.direction == Direction.OUT))
        }
    assert statuses[reply] == MessageStatus.SENT and statuses[forward] == MessageStatus.SENT
    answers = [m for m in world.mailbox(DOCTOR_BOX) if str(m["Subject"]).startswith("RE: ")]
    assert len(answers) == 1 and answers[0]["In-Reply-To"]
    (forwarded,) = world.mailbox(PHARMACIST_BOX)
    assert str(forwarded["Subject"]).startswith("TR: XDM/1.0/DDM+") and forwarded["X-MSS-CODECDA"] == "78601-2"
    assert "IHE_XDM.ZIP" in [part.get_filename() for part in forwarded.iter_attachments()]
    compose.mark_handled(kernel, pharmacy, titulaire, listed.id)
    assert mailbox.folder(kernel, pharmacy, titulaire, "recus") == []
    (done,) = mailbox.folder(kernel, pharmacy, titulaire, "traites")
    assert mailbox.read(kernel, pharmacy, titulaire, done.id).handled_fr.endswith("par Claire Durand-Démo")
    sent = {m.subject_fr for m in mailbox.folder(kernel, pharmacy, titulaire, "envoyes")}
    assert any(s.startswith("TR: ") for s in sent) and any(s.startswith("RE: ") for s in sent)


def test_plain_subjects() -> None:
    assert (
        mailbox.plain_subject("XDM/1.0/DDM+Bilan partagé de médication MARTIN-DEMO CAMILLE 14/03/1985")
        == "Bilan partagé de médication — MARTIN-DEMO CAMILLE, né(e) le 14/03/1985"
    )
    assert mailbox.plain_subject("[KO Intégration système !][902] XDM/1.0/DDM+CR DUPONT JEAN 01/02/1950").startswith(
        "Échec d'intégration chez le destinataire (902 : Identifiant patient inconnu) — CR — DUPONT JEAN"
    )
    assert mailbox.plain_subject("Rendez-vous <b>demain</b>") == "Rendez-vous <b>demain</b>"  # escaped on screen
    assert mailbox.plain_subject("   ") == "(sans objet)"
