"""What cannot be integrated is quarantined with a visible reason and the CI-SIS error code, left on the server
flagged, never lost; hostile input is refused without harm. Each case goes through the real mail server."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

from lgo.domain.patients import Patient, Sex
from lgo_mssante import message as mail
from lgo_mssante import service, xdm
from lgo_mssante.model import Direction, MessageStatus, MssMessage
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from mss_helpers import DOCTOR_BOX, MssWorld
from sqlalchemy import select

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&lol3;</lcm:SubmitObjectsRequest>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""


def _deliver(world: MssWorld, message: bytes) -> None:
    world.sandbox.deliver(DOCTOR_BOX, [world.own_box], message)


def _mail_with_archive(world: MssWorld, archive: bytes, subject: str = "XDM/1.0/DDM+Essai") -> bytes:
    message = mail.compose(
        sender=DOCTOR_BOX,
        to=[world.own_box],
        subject=subject,
        body="Essai",
        message_id=mail.new_message_id(DOCTOR_BOX),
        product_reference="X",
        xdm=archive,
        cda_codes=["11488-4"],
        ins_qualified=True,
    )
    return message.as_bytes()


def _zip(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_document(cda: bytes, document: bytes) -> bytes:
    """A well-formed archive for ``cda`` whose DOC0001.XML is then replaced by ``document``."""
    source = zipfile.ZipFile(
        io.BytesIO(
            xdm.build([xdm.OutgoingDocument(cda, "Essai")], source_id="1.2.3", sender=DOCTOR_BOX, recipients=["x@y.fr"])
        )
    )
    entries = {info.filename: source.read(info) for info in source.infolist()}
    entries["IHE_XDM/SUBSET01/DOC0001.XML"] = document
    return _zip(entries)


def _quarantine(world: MssWorld) -> list[MssMessage]:
    with world.kernel.transaction() as session:
        rows = list(
            session.scalars(
                select(MssMessage)
                .where(MssMessage.direction == Direction.IN, MssMessage.status == MessageStatus.QUARANTINED)
                .order_by(MssMessage.id)
            )
        )
        for row in rows:
            session.expunge(row)
        return rows


def _reply_for(world: MssWorld, **changes: object) -> bytes:
    identity = replace(world.identity.identity(world.patient), **changes)  # type: ignore[arg-type]
    return reply_with_xdm(sender=DOCTOR_BOX, to=world.own_box, cda=professional_cda(identity)).as_bytes()


def test_unknown_and_unqualified_patients_are_quarantined_with_their_codes(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    # 902: an INS and traits the pharmacy has never seen.
    _deliver(
        world,
        _reply_for(
            world,
            matricule="180017512300115",
            birth_name="INCONNU-DEMO",
            first_names=("PIERRE",),
            sex="M",
            birth_date="1980-01-01",
        ),
    )
    # 904: the patient exists with the same traits but the pharmacy has not qualified the identity.
    with world.kernel.transaction() as session:
        session.add(
            Patient(
                pharmacy_id=world.pharmacy_id,
                birth_name="NONQUALIF-DEMO",
                first_names="LOUISE",
                sex=Sex.FEMALE,
                birth_date_text="1990-05-05",
            )
        )
    _deliver(
        world,
        _reply_for(
            world,
            matricule="290057512300147",
            birth_name="NONQUALIF-DEMO",
            first_names=("LOUISE",),
            birth_date="1990-05-05",
        ),
    )
    # 904 too: the qualified INS with a different first name.
    _deliver(world, _reply_for(world, first_names=("CLAIRE",)))
    report = service.receive(world.kernel, world.pharmacy_id)
    assert not report.integrated and len(report.quarantined) == 3
    codes = [(row.error_code, row.reason_fr) for row in _quarantine(world)]
    assert codes == [
        ("902", "patient inconnu de l'officine"),
        ("904", "l'identité du patient n'est pas qualifiée à l'officine"),
        ("904", "les traits d'identité du document diffèrent de ceux de l'INS qualifiée"),
    ]
    assert all(row.raw_encrypted for row in _quarantine(world))  # kept, encrypted, for a person to look at
    # Each sender asked for a receipt: each gets an MDN with the error code in its subject and disposition.
    world.drain()
    notices = [m for m in world.mailbox(DOCTOR_BOX) if m.get_content_type() == "multipart/report"]
    assert sorted(m["Subject"][:31] for m in notices) == [
        "[KO Intégration système !][902]",
        "[KO Intégration système !][904]",
        "[KO Intégration système !][904]",
    ]
    dispositions = [mail.read(m.as_bytes(), max_bytes=10_000_000).disposition for m in notices]
    assert all(d is not None and "processed/Error: 90" in d[1] for d in dispositions)


def test_documents_without_a_complete_ins_are_quarantined(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    cda = professional_cda(world.identity.identity(world.patient))
    no_ins = cda.replace(b'root="1.2.250.1.213.1.4.10"', b'root="1.2.250.1.999.1"')
    no_birth = cda.replace(b"<birthTime", b"<birthTimeX").replace(b"</birthTime", b"</birthTimeX")
    no_birth = no_birth.replace(b"<birthTimeX value", b"<!-- --><birthTimeX value").replace(
        b"<birthTimeX", b"<deathTime"
    )
    for variant in (no_ins, no_birth):
        _deliver(world, _mail_with_archive(world, _with_document(cda, variant)))
    service.receive(world.kernel, world.pharmacy_id)
    assert [row.error_code for row in _quarantine(world)] == ["903", "905"]


def test_hostile_messages_are_refused_without_harm(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    good_cda = professional_cda(world.identity.identity(world.patient))
    world.kernel.save_plugin_settings(
        world.pharmacy_id,
        "mssante",
        {**world.kernel.plugin_settings(world.pharmacy_id, "mssante").model_dump(), "max_message_mb": 1},
    )
    hostile = {
        "zip slip": _zip(
            {"../../etc/cron.d/evil": b"* * * * * root rm -rf /", "IHE_XDM/SUBSET01/METADATA.XML": b"<x/>"}
        ),
        "absolute path": _zip({"/tmp/evil.sh": b"#!/bin/sh", "IHE_XDM/SUBSET01/METADATA.XML": b"<x/>"}),
        "zip bomb": _with_document(good_cda, b"\0" * 30_000_000),
        "billion laughs": _zip({"IHE_XDM/SUBSET01/METADATA.XML": BILLION_LAUGHS}),
        "external entity": _zip({"IHE_XDM/SUBSET01/METADATA.XML": EXTERNAL_ENTITY}),
        "not a zip": b"PK\x03\x04 this is not really a zip archive",
    }
    for name, archive in hostile.items():
        _deliver(world, _mail_with_archive(world, archive, subject=f"XDM/1.0/DDM+{name}"))
    huge = _mail_with_archive(world, _zip({"IHE_XDM/SUBSET01/DOC0001.XML": good_cda}, method=zipfile.ZIP_STORED))
    _deliver(world, huge.replace(b"Essai", b"Essai" + b"x" * 1_200_000, 1))
    _deliver(
        world,
        (
            b"From: " + DOCTOR_BOX.encode() + b"\r\nSubject: MIME cass\xc3\xa9\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n'
            b"pas de fin de partie"
        ),
    )
    report = service.receive(world.kernel, world.pharmacy_id)
    assert not report.integrated and len(report.quarantined) == len(hostile) + 2
    reasons = [row.reason_fr or "" for row in _quarantine(world)]
    assert "chemin dangereux" in reasons[0] and "chemin dangereux" in reasons[1]
    assert "trop volumineuse" in reasons[2] or "compression anormal" in reasons[2]
    assert "DTD" in reasons[3] and "DTD" in reasons[4]
    assert "archive lisible" in reasons[5]
    assert "au-delà de la limite" in reasons[6]
    assert "mal formé" in reasons[7]
    assert all(row.error_code == "906" for row in _quarantine(world))
    # Nothing was written outside, nothing got attached to a patient, and the next fetch does not see them again.
    assert not service.received_documents(world.kernel, world.pharmacy_id, world.patient)
    again = service.receive(world.kernel, world.pharmacy_id)
    assert not again.quarantined and not again.integrated
