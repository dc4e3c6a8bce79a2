"""No message blocks the mailbox: whatever arrives ends integrated, quarantined with a French reason, or recorded
for a person to read — never an exception — and the next message is handled (issue 16).

The bulk (more than 10 000 random and mutated messages) goes through the reading step of ``receive()``, which is
pure; a sample goes through the real mail server and ``receive()`` itself, on SQLite and PostgreSQL, with good
messages between them that must be integrated.
"""

from __future__ import annotations

import base64
import imaplib
import io
import random
import struct
import time
import zipfile
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_mssante import message as mail
from lgo_mssante import reading, service, xdm
from lgo_mssante.model import Direction, MessageStatus, MssMessage
from lgo_mssante.provider import INTEGRATED, QUARANTINED
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from mss_helpers import DOCTOR_BOX, PASSWORDS, MssWorld
from sqlalchemy import select

MAX_BYTES = 2 * 1024 * 1024
OWN_BOX = "officine.tilleuls@pharmacie-demo.mssante.fr"
CDA = professional_cda(FakeIdentityPlugin().identity(1))
KINDS = {"unreadable", "acknowledgement", "other", "documents"}


def _reply(cda: bytes = CDA) -> EmailMessage:
    return reply_with_xdm(sender=DOCTOR_BOX, to=OWN_BOX, cda=cda)


def _plain() -> bytes:
    return mail.compose(
        sender=DOCTOR_BOX,
        to=[OWN_BOX],
        subject="=?utf-8?q?Question_sur_une_d=C3=A9livrance?=",
        body="Bonjour,\nune question.\n",
        message_id=mail.new_message_id(DOCTOR_BOX),
        product_reference="X",
    ).as_bytes()


def _mdn() -> bytes:
    incoming = mail.read(_reply().as_bytes(), max_bytes=MAX_BYTES)
    return mail.mdn(incoming, sender=OWN_BOX, message_id=mail.new_message_id(OWN_BOX), error_code="902").as_bytes()


def _two_documents() -> bytes:
    archive = xdm.build(
        [xdm.OutgoingDocument(CDA, "Premier"), xdm.OutgoingDocument(CDA, "Second")],
        source_id="1.2.3",
        sender=DOCTOR_BOX,
        recipients=[OWN_BOX],
    )
    return _with_archive(archive)


def _template() -> tuple[bytes, bytes]:
    """A composed mail around a marker archive, cut at the marker: wrapping an archive is then a concatenation
    (composing each of thousands of mails would cost more than reading them)."""
    raw = mail.compose(
        sender=DOCTOR_BOX,
        to=[OWN_BOX],
        subject="XDM/1.0/DDM+Essai",
        body="Essai",
        message_id="<MESSAGE-ID>",
        product_reference="X",
        xdm=b"MARKER",
        cda_codes=["11488-4"],
        ins_qualified=True,
        read_receipt=True,
    ).as_bytes()
    before, after = raw.split(base64.b64encode(b"MARKER"))
    return before, after


_BEFORE, _AFTER = _template()


def _with_archive(archive: bytes, message_id: str = "<essai@medecin.mssante.fr>") -> bytes:
    encoded = base64.encodebytes(archive).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    return _BEFORE.replace(b"<MESSAGE-ID>", message_id.encode()) + encoded + _AFTER


SEEDS = [_reply().as_bytes(), _plain(), _mdn(), _two_documents()]
ARCHIVE = xdm.build([xdm.OutgoingDocument(CDA, "Essai")], source_id="1.2.3", sender=DOCTOR_BOX, recipients=[OWN_BOX])


def negative_offset_archive() -> bytes:
    """The archive the review found: the end record places the central directory one byte further than it is,
    so that zipfile works out a local-header offset of -1 (``ValueError: negative seek value``)."""
    data = bytearray(ARCHIVE)
    end = data.rindex(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<I", data, end + 16)
    struct.pack_into("<I", data, end + 16, offset + 1)
    return bytes(data)


# -- mutations ------------------------------------------------------------------------------------------------


def _mutate(data: bytes, rng: random.Random, rounds: int) -> bytes:
    buffer = bytearray(data)
    for _ in range(rounds):
        if not buffer:
            buffer.extend(rng.randbytes(rng.randint(1, 64)))
            continue
        at = rng.randrange(len(buffer))
        choice = rng.randrange(8)
        if choice == 0:  # flip a byte
            buffer[at] = rng.randrange(256)
        elif choice == 1:  # cut a slice
            del buffer[at : at + rng.randint(1, 512)]
        elif choice == 2:  # repeat a slice (headers, boundaries, parts)
            piece = buffer[at : at + rng.randint(1, 2048)]
            buffer[at:at] = piece * rng.randint(1, 8)
        elif choice == 3:  # insert random bytes
            buffer[at:at] = rng.randbytes(rng.randint(1, 128))
        elif choice == 4:  # truncate
            del buffer[at:]
        elif choice == 5:  # a little-endian field of a zip record set to an arbitrary value
            field = rng.choice((1, 2, 4))
            buffer[at : at + field] = rng.randbytes(field)
        elif choice == 6:  # line endings and separators
            buffer[at:at] = rng.choice([b"\r\n", b"\n", b"\r\n\r\n", b"\r\n--", b"\r\n ", b"\x00", b";", b'"'])
        else:  # a header of a seed pasted anywhere
            line = rng.choice(data.split(b"\n")[:40] or [b""])
            buffer[at:at] = line + b"\n"
    return bytes(buffer)


def _mutated_archive(rng: random.Random, message_id: str = "<essai@medecin.mssante.fr>") -> bytes:
    """The archive mutated on its records (offsets, sizes, counts, names), then mailed properly, so that the
    mutation reaches the zip reader instead of breaking the mail's base64."""
    data = bytearray(ARCHIVE)
    records = [i for signature in (b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06") for i in _positions(data, signature)]
    for _ in range(rng.randint(1, 4)):
        at = rng.choice(records) + rng.randrange(4, 46)
        field = rng.choice((1, 2, 4))
        value = rng.choice([0, 1, 0xFF, 0xFFFF, 0xFFFFFFFF, rng.randrange(2**32), len(data), len(data) + 1])
        data[at : at + field] = (value & (2 ** (8 * field) - 1)).to_bytes(field, "little")
    cut = rng.randint(len(data) // 2, len(data)) if rng.random() < 0.2 else len(data)
    return _with_archive(bytes(data[:cut]), message_id)


def _positions(data: bytearray, signature: bytes) -> list[int]:
    found, at = [], data.find(signature)
    while at != -1:
        found.append(at)
        at = data.find(signature, at + 1)
    return found


def _mutated_entries(rng: random.Random, message_id: str = "<essai@medecin.mssante.fr>") -> bytes:
    """A well-formed zip whose entries are mutated (METADATA.XML, the CDA: XML, URIs, patient)."""
    source = zipfile.ZipFile(io.BytesIO(ARCHIVE))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    name = rng.choice(sorted(entries))
    entries[name] = _mutate(entries[name], rng, rng.randint(1, 6))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as archive:
        for entry, content in entries.items():
            archive.writestr(entry, content)
    return _with_archive(buffer.getvalue(), message_id)


def _check(raw: bytes) -> reading.Reading:
    result = reading.read(raw, max_bytes=MAX_BYTES)  # must not raise
    assert result.kind in KINDS
    if result.kind == "unreadable":
        assert result.refused_fr and result.refused_fr.strip()
    else:
        assert result.incoming is not None
        assert len(result.documents) == len(result.patients)
    return result


FUZZ = settings(max_examples=3500, deadline=None, suppress_health_check=list(HealthCheck))


@settings(FUZZ, max_examples=3000)
@given(st.binary(max_size=3000))
def test_random_bytes_are_read_or_set_aside(raw: bytes) -> None:
    _check(raw)


@FUZZ
@given(st.randoms(use_true_random=True), st.sampled_from(SEEDS), st.integers(1, 12))
def test_mutated_messages_are_read_or_set_aside(rng: random.Random, seed: bytes, rounds: int) -> None:
    _check(_mutate(seed, rng, rounds))


@FUZZ
@given(st.randoms(use_true_random=True), st.booleans())
def test_mutated_archives_are_read_or_set_aside(rng: random.Random, on_records: bool) -> None:
    _check(_mutated_archive(rng) if on_records else _mutated_entries(rng))


def test_the_archive_with_a_negative_offset_is_set_aside() -> None:
    result = _check(_with_archive(negative_offset_archive()))
    assert result.kind == "unreadable" and "illisible" in (result.refused_fr or "")


# -- cost -----------------------------------------------------------------------------------------------------


def _hostile_shapes(size: int) -> dict[str, bytes]:
    n = size // 8
    nested = b"From: a@b.fr\r\n"
    for i in range(min(n, 2000)):
        nested += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
    return {
        "long From list": b"From: " + b"a@b.fr, " * n + b"\r\n\r\nx",
        "parameters of a part": b'From: a@b.fr\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        + b"Content-Type: text/plain; "
        + b"a=b; " * n
        + b"\r\n\r\nx\r\n--b--\r\n",
        "encoded words": b"From: a@b.fr\r\nSubject: " + b"=?utf-8?q?a?= " * (n // 2) + b"\r\n\r\nx",
        "headers": b"From: a@b.fr\r\n" + b"X-A: b\r\n" * n + b"\r\nx",
        "nesting": nested,
        "short lines": b"From: a@b.fr\r\n\r\n" + b"a\r\n" * (size // 3),
        "many parts": b'From: a@b.fr\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * (size // 40)
        + b"--b--\r\n",
    }


def _cost(raw: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        reading.read(raw, max_bytes=MAX_BYTES)
        best = min(best, time.perf_counter() - start)
    return best


def test_reading_a_hostile_message_costs_about_as_much_as_a_normal_one_of_its_size() -> None:
    """Before the fix a 256 KB header took minutes (the header parser of ``policy.default``); now every shape
    costs at most a few times a normal message of the same size (measured in this run)."""
    size = 256 * 1024
    filler = base64.b64encode(random.Random(0).randbytes(size * 3 // 4))  # incompressible: a real large document
    big = CDA.replace(b"</ClinicalDocument>", b"<!--" + filler + b"--></ClinicalDocument>")
    normal = _with_archive(
        xdm.build([xdm.OutgoingDocument(big, "Gros")], source_id="1.2.3", sender=DOCTOR_BOX, recipients=[OWN_BOX])
    )
    reference = max(_cost(normal), 0.002)
    for name, raw in _hostile_shapes(size).items():
        assert _cost(raw) < 20 * reference, name


# -- through the real mail server -----------------------------------------------------------------------------


def _unhandled_on_server(world: MssWorld) -> list[bytes]:
    imap = imaplib.IMAP4("127.0.0.1", world.sandbox.imap_port)
    imap.starttls(ssl_context=world.doctor.client_context())
    imap.login(world.own_box, PASSWORDS[world.own_box])
    imap.select("INBOX", readonly=True)
    _status, data = imap.search(None, f"UNKEYWORD {INTEGRATED} UNKEYWORD {QUARANTINED}")
    imap.logout()
    return data[0].split() if data and data[0] else []


def _good_reply(world: MssWorld, sent: list[str]) -> bytes:
    message = reply_with_xdm(
        sender=DOCTOR_BOX, to=world.own_box, cda=professional_cda(world.identity.identity(world.patient))
    )
    sent.append(message["Message-ID"])
    return message.as_bytes()


def test_a_mailbox_full_of_hostile_messages_goes_on_to_the_next_one(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    rng = random.Random(16)
    hostile = [_with_archive(negative_offset_archive(), mail.new_message_id(DOCTOR_BOX))]
    hostile += [_mutate(rng.choice(SEEDS), rng, rng.randint(1, 8)) for _ in range(12)]
    hostile += [_mutated_archive(rng, mail.new_message_id(DOCTOR_BOX)) for _ in range(8)]
    hostile += [_mutated_entries(rng, mail.new_message_id(DOCTOR_BOX)) for _ in range(8)]
    hostile += [rng.randbytes(rng.randint(0, 2000)) for _ in range(4)]
    good: list[str] = []
    for number, raw in enumerate(hostile):
        world.sandbox.deliver(DOCTOR_BOX, [world.own_box], raw)
        if number % 8 == 0:  # good messages between the bad ones: each must be integrated
            world.sandbox.deliver(DOCTOR_BOX, [world.own_box], _good_reply(world, good))
    world.sandbox.deliver(DOCTOR_BOX, [world.own_box], _good_reply(world, good))
    report = service.receive(world.kernel, world.pharmacy_id)
    assert not report.errors
    assert _unhandled_on_server(world) == []  # everything is flagged: nothing is fetched again, nothing blocks
    with world.kernel.transaction() as session:
        received = list(session.scalars(select(MssMessage).where(MssMessage.direction == Direction.IN)))
    integrated = {row.message_id for row in received if row.status == MessageStatus.INTEGRATED}
    assert set(good) <= integrated
    quarantined = [row for row in received if row.status == MessageStatus.QUARANTINED]
    assert len(quarantined) >= len(hostile) // 2
    assert all(row.reason_fr and row.raw_encrypted and row.error_code for row in quarantined)
    again = service.receive(world.kernel, world.pharmacy_id)
    assert (again.integrated, again.quarantined, again.other) == ([], [], [])
