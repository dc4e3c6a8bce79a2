"""Sending documents by MSSanté through the outbox, and receiving: integration to the right patient, quarantine
with a visible reason, disposition notifications (MDN).

The counter never waits on a mail server: :func:`send_documents` checks and queues in one transaction; the worker
composes and submits (``mssante.send``), and sends the MDNs (``mssante.mdn``). :func:`receive` is run by the
worker's periodic job or ``lgo mssante relever``.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lgo.api import (
    HealthDocument,
    LgoError,
    PermanentFailure,
    Pharmacy,
    ValidationError,
    identifiers,
    outbox,
    parse_untrusted,
    secrets,
    utcnow,
)
from sqlalchemy import select

from lgo_mssante import accounts, mailbox, reading, xdm
from lgo_mssante import message as mail
from lgo_mssante.matching import match
from lgo_mssante.model import Direction, MessageStatus, MssAccount, MssMessage, MssReceivedDocument
from lgo_mssante.provider import FetchedMessage, MailRefused, MailUnavailable, MssanteProvider, NotAllowed

if TYPE_CHECKING:
    from lgo.api import Delivery, Kernel

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
PLUGIN = "mssante"
SEND = "mssante.send"
MDN = "mssante.mdn"
#: The « courriel standard » of a failed automatic integration (ANS guide), sent besides the MDN.
KO = "mssante.ko"
_NON_XML = "{urn:hl7-org:v3}component/{urn:hl7-org:v3}nonXMLBody/{urn:hl7-org:v3}text"


def _settings(kernel: Kernel, pharmacy_id: int) -> Any:
    return kernel.plugin_settings(pharmacy_id, PLUGIN)


def _provider_name(kernel: Kernel, pharmacy_id: int) -> str:
    name = kernel.selected_provider(pharmacy_id, accounts.CAPABILITY)
    if not name:
        raise ValidationError(
            "Aucun fournisseur MSSanté n'est choisi pour l'officine (Mailiz ou boîte "
            "organisationnelle) : voyez la page d'administration.",
            detail="no provider selected",
        )
    return name


# -- sending ------------------------------------------------------------------------------------------------------


def send_documents(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    patient_id: int,
    document_ids: Sequence[int],
    *,
    professionals: Sequence[str] = (),
    to_patient: bool = False,
    body: str = "",
    read_receipt: bool | None = None,
    block_patient_reply: bool = False,
) -> int:
    """Queue one message carrying these validated documents of the patient; returns the message's id (the same
    checks as a message written at the counter: :func:`lgo_mssante.compose.queue`)."""
    from lgo_mssante import compose

    _provider_name(kernel, pharmacy_id)
    if not document_ids:
        raise ValidationError("Choisissez au moins un document à envoyer.", detail="no document")
    return compose.queue(
        kernel,
        pharmacy_id,
        operator_id,
        professionals=professionals,
        patient_id=patient_id,
        to_patient=to_patient,
        document_ids=document_ids,
        body=body,
        read_receipt=read_receipt,
        block_patient_reply=block_patient_reply,
    )


def _pdf_copy(cda: bytes) -> bytes | None:
    root = parse_untrusted(cda, what="document CDA")
    text = root.find(_NON_XML)
    if text is None or text.get("mediaType") != "application/pdf" or not text.text:
        return None
    return base64.b64decode(text.text)


def _file_stem(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_")[:60] or "document"


def deliver_send(kernel: Kernel, delivery: Delivery) -> None:
    payload, pharmacy_id = delivery.payload, delivery.pharmacy_id
    settings = _settings(kernel, pharmacy_id)
    with kernel.transaction() as session:
        row = session.get(MssMessage, payload["message"])
        if row is None:
            raise PermanentFailure(
                f"mssante message {payload['message']} vanished",
                message_fr="Le message à envoyer n'existe plus dans la messagerie de l'officine.",
            )
        account = session.get(MssAccount, row.account_id)
        assert account is not None
        documents = [session.get(HealthDocument, i) for i in payload["documents"]]
        contents = [(d.content or b"", d.title, d.type_code) for d in documents if d is not None]
        account_id, operator_id, sender, message_id = row.account_id, row.operator_id, account.address, row.message_id
        subject, patient_id = row.subject, row.patient_id
        pharmacy = session.get(Pharmacy, pharmacy_id)
        finess = pharmacy.finess if pharmacy is not None else str(pharmacy_id)
        forwarded = _forwarded(session, pharmacy_id, payload.get("forward_of"))
    archive = (
        xdm.build(
            [xdm.OutgoingDocument(cda, title) for cda, title, _ in contents],
            source_id=settings.source_id or identifiers.derived_oid(f"lgo:pharmacy:{finess}"),
            sender=sender,
            recipients=payload["recipients"],
            product=settings.product_reference,
        )
        if contents
        else forwarded.xdm
    )
    copies = [
        (f"{_file_stem(title)}.pdf", "application/pdf", pdf)
        for cda, title, _ in contents
        if (pdf := _pdf_copy(cda)) is not None
    ] + ([] if contents else forwarded.others)
    body = payload.get("body") or (
        "Bonjour,\n\nVeuillez trouver ci-joint un document de santé transmis par l'officine.\n\nCordialement."
    )
    outgoing = mail.compose(
        sender=sender,
        to=payload["recipients"],
        subject=subject,
        body=body,
        message_id=message_id,
        product_reference=settings.product_reference,
        xdm=archive,
        cda_codes=[c for _, _, c in contents] if contents else forwarded.codes,
        ins_qualified=True if contents else forwarded.ins_qualified,
        copies=copies,
        read_receipt=bool(payload.get("read_receipt")) and archive is not None,
        block_patient_reply=bool(payload.get("block_patient_reply")),
        patient_domain=settings.patient_domain,
        in_reply_to=str(payload.get("in_reply_to") or ""),
    )
    try:
        accounts.provider_for(kernel, pharmacy_id, account_id, operator_id=operator_id).send(
            outgoing, payload["recipients"]
        )
    except (MailRefused, NotAllowed) as exc:
        _set_status(kernel, payload["message"], MessageStatus.REJECTED, exc.message_fr)
        raise PermanentFailure(exc.detail or exc.message_fr, message_fr=exc.message_fr) from exc
    _set_status(kernel, payload["message"], MessageStatus.SENT, None)
    kernel.audit(
        pharmacy_id,
        "mssante.sent",
        f"Message MSSanté envoyé à {', '.join(payload['recipients'])}.",
        patient_id=patient_id,
        operator_id=operator_id,
        object_type="mssante_message",
        object_id=payload["message"],
    )


@dataclass(frozen=True)
class _Forwarded:
    xdm: bytes | None = None
    others: list[tuple[str, str, bytes]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    ins_qualified: bool = False


def _forwarded(session: Any, pharmacy_id: int, message_row: int | None) -> _Forwarded:
    """The files of a received message being forwarded: its XDM archive (with the codes of its documents and
    whether they carry an INS) and its other attachments."""
    if not message_row:
        return _Forwarded()
    row = session.get(MssMessage, int(message_row))
    if row is None or row.pharmacy_id != pharmacy_id or not row.raw_encrypted:
        return _Forwarded()
    raw = base64.b64decode(secrets.decrypt(row.raw_encrypted))
    parsed = mail.read(raw, max_bytes=len(raw) + 1)
    others = [(n, t, p) for n, t, p in mail.attachments(parsed.message) if n.upper() != xdm.ARCHIVE_NAME]
    codes: list[str] = []
    ins = False
    if parsed.xdm is not None:
        try:
            documents = xdm.read(parsed.xdm)
            codes = [d.type_code for d in documents]
            ins = all(mail.cda_patient(d.cda).has_ins for d in documents)
        except LgoError:
            codes = []
    return _Forwarded(parsed.xdm, others, codes, ins)


def _set_status(
    kernel: Kernel, message_row: int, status: MessageStatus, reason: str | None, error_code: str | None = None
) -> None:
    with kernel.transaction() as session:
        row = session.get(MssMessage, message_row)
        if row is not None:
            row.status, row.reason_fr, row.error_code, row.updated_at = status, reason, error_code, utcnow()


# -- receiving ----------------------------------------------------------------------------------------------------


@dataclass
class ReceiveReport:
    integrated: list[int] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    acknowledgements: list[int] = field(default_factory=list)
    other: list[int] = field(default_factory=list)
    #: Mailboxes that could not be fetched, with the French reason (the others are fetched all the same).
    errors: list[str] = field(default_factory=list)

    def lines_fr(self) -> list[str]:
        return [
            f"{len(self.integrated)} message(s) intégré(s) au dossier du patient, "
            f"{len(self.quarantined)} mis en quarantaine, {len(self.acknowledgements)} accusé(s) de réception, "
            f"{len(self.other)} autre(s) message(s) à lire.",
            *self.errors,
        ]


def receive(kernel: Kernel, pharmacy_id: int) -> ReceiveReport:
    """Fetch every mailbox of the selected provider and handle each new message. A mailbox that cannot be reached
    is reported in French and skipped (nothing of it is marked: the next run sees the same messages). A message
    ends integrated, quarantined with its reason, or recorded for a person to read — never blocks the next one."""
    provider_name = _provider_name(kernel, pharmacy_id)
    settings = _settings(kernel, pharmacy_id)
    max_bytes = settings.max_message_mb * 1024 * 1024
    with kernel.transaction() as session:
        account_ids = [(a.id, a.address) for a in accounts.accounts_for_provider(session, pharmacy_id, provider_name)]
    report = ReceiveReport()
    for account_id, address in account_ids:
        try:
            provider = accounts.provider_for(kernel, pharmacy_id, account_id, operator_id=None)
            for fetched in provider.fetch_new(max_bytes=max_bytes):
                box = _Box(kernel, pharmacy_id, account_id, provider, report)
                try:
                    _handle(box, fetched, max_bytes)
                except (MailUnavailable, MailRefused):
                    raise
                except Exception as exc:  # a case no rule foresaw: the message is set aside, the mailbox goes on
                    log.exception("mssante: message uid %s of %s could not be handled", fetched.uid, address)
                    _set_aside(box, fetched, None, reading.UNEXPECTED_FR, detail=repr(exc))
        except (MailUnavailable, MailRefused) as exc:
            log.warning("mssante: mailbox %s not fetched: %s", address, exc.detail)
            report.errors.append(f"Boîte {address} non relevée : {exc.message_fr}")
    return report


@dataclass(frozen=True)
class _Box:
    """The mailbox being fetched, and where its messages are counted."""

    kernel: Kernel
    pharmacy_id: int
    account_id: int
    provider: MssanteProvider
    report: ReceiveReport


def _record_in(
    box: _Box,
    *,
    message_id: str,
    sender: str,
    subject: str,
    status: MessageStatus,
    raw: bytes | None,
    patient_id: int | None = None,
    error_code: str | None = None,
    reason: str | None = None,
) -> int:
    kernel, pharmacy_id = box.kernel, box.pharmacy_id
    sender = mail.clean(sender)
    with kernel.transaction() as session:
        row = MssMessage(
            pharmacy_id=pharmacy_id,
            account_id=box.account_id,
            direction=Direction.IN,
            message_id=mail.clean(message_id)[:254],
            peer=sender[:2000],
            subject=mail.clean(subject)[:500],
            patient_id=patient_id,
            status=status,
            error_code=error_code,
            reason_fr=mail.clean(reason)[:1000] if reason else None,
            raw_encrypted=secrets.encrypt(base64.b64encode(raw).decode()) if raw else None,
        )
        session.add(row)
        session.flush()
        if status == MessageStatus.QUARANTINED:
            kernel.audit(
                pharmacy_id,
                "mssante.quarantine",
                (
                    f"Message MSSanté de {sender[:200]} mis en quarantaine : {row.reason_fr}"
                    + (f" (erreur {error_code})." if error_code else ".")
                )[:500],
                session=session,
                patient_id=patient_id,
                object_type="mssante_message",
                object_id=row.id,
            )
        return row.id


def _already_seen(box: _Box, message_id: str) -> MssMessage | None:
    if not message_id:
        return None
    with box.kernel.transaction() as session:
        row = session.scalar(
            select(MssMessage).where(
                MssMessage.pharmacy_id == box.pharmacy_id,
                MssMessage.account_id == box.account_id,
                MssMessage.direction == Direction.IN,
                MssMessage.message_id == mail.clean(message_id)[:254],
            )
        )
        if row is not None:
            session.expunge(row)
        return row


def _key(fetched: FetchedMessage, incoming: mail.Incoming | None) -> str:
    """The Message-ID, or for a message without one (or unreadable) a stable stand-in: the same bytes fetched
    again are recognised, two different messages never collide."""
    if incoming is not None and incoming.message_id:
        return incoming.message_id
    digest = hashlib.sha256(fetched.raw or str(fetched.size).encode()).hexdigest()[:24]
    return f"<uid-{fetched.uid}-{digest}>"


def _set_aside(
    box: _Box,
    fetched: FetchedMessage,
    incoming: mail.Incoming | None,
    reason: str,
    *,
    error_code: str = "906",
    detail: str = "",
) -> int:
    """Quarantine: kept encrypted with its French reason and the CI-SIS error code, flagged on the server."""
    log.warning("mssante: message uid %s set aside: %s", fetched.uid, detail or reason)
    key = _key(fetched, incoming)
    seen = _already_seen(box, key)
    row = (
        seen.id
        if seen is not None
        else _record_in(
            box,
            message_id=key,
            sender=incoming.sender if incoming else "?",
            subject=incoming.subject if incoming else "(message illisible)",
            status=MessageStatus.QUARANTINED,
            raw=fetched.raw,
            error_code=error_code,
            reason=reason,
        )
    )
    box.provider.mark(fetched.uid, "quarantaine")
    box.report.quarantined.append(row)
    return row


def _handle(box: _Box, fetched: FetchedMessage, max_bytes: int) -> None:
    if fetched.raw is None:
        _set_aside(
            box, fetched, None, f"message de {fetched.size // 1024} Ko, au-delà de la limite ; laissé sur le serveur"
        )
        return
    read = reading.read(fetched.raw, max_bytes=max_bytes)
    incoming = read.incoming
    seen = _already_seen(box, _key(fetched, incoming))
    if seen is not None:
        box.provider.mark(fetched.uid, "quarantaine" if seen.status == MessageStatus.QUARANTINED else "integre")
        return
    if incoming is None or read.refused_fr is not None:
        row = _set_aside(box, fetched, incoming, read.refused_fr or reading.UNEXPECTED_FR, detail=read.detail)
        if incoming is not None and incoming.xdm is not None:  # documents whose automatic integration failed
            _queue_answer(box.kernel, box.pharmacy_id, KO, row, "906", "")
        return
    if incoming.disposition is not None:
        box.report.acknowledgements.append(_acknowledgement(box, fetched, incoming))
        box.provider.mark(fetched.uid, "integre")
        return
    if not read.documents:
        box.report.other.append(_record_received(box, fetched, incoming))
        box.provider.mark(fetched.uid, "integre")
        return
    _integrate(box, fetched, incoming, read)


def _acknowledgement(box: _Box, fetched: FetchedMessage, incoming: mail.Incoming) -> int:
    original, disposition = incoming.disposition or ("", "")
    error = "error" in disposition.lower()
    with box.kernel.transaction() as session:
        sent = session.scalar(
            select(MssMessage).where(
                MssMessage.pharmacy_id == box.pharmacy_id,
                MssMessage.direction == Direction.OUT,
                MssMessage.message_id == original[:254],
            )
        )
        if sent is not None:
            sent.status = MessageStatus.REJECTED if error else MessageStatus.ACKNOWLEDGED
            sent.reason_fr = disposition.split("Error:", 1)[1].strip()[:1000] if error else None
            sent.updated_at = utcnow()
    return _record_received(box, fetched, incoming)


def _record_received(box: _Box, fetched: FetchedMessage, incoming: mail.Incoming) -> int:
    """A message kept as received, with no document to integrate (a plain message, an acknowledgement)."""
    return _record_in(
        box,
        message_id=_key(fetched, incoming),
        sender=incoming.sender,
        subject=incoming.subject,
        status=MessageStatus.RECEIVED,
        raw=fetched.raw,
    )


def _integrate(box: _Box, fetched: FetchedMessage, incoming: mail.Incoming, read: reading.Reading) -> None:
    assert fetched.raw is not None
    kernel, pharmacy_id = box.kernel, box.pharmacy_id
    results = [match(kernel, pharmacy_id, p) for p in read.patients]
    failed = next((r for r in results if r.error_code), None)
    if failed is None and len({r.patient_id for r in results}) > 1:
        failed = type(results[0])(None, "906", "les documents concernent plusieurs patients")
    label = read.documents[0].title
    if failed is not None:
        row = _set_aside(box, fetched, incoming, failed.reason_fr, error_code=failed.error_code or "906")
        _queue_answer(kernel, pharmacy_id, KO, row, failed.error_code or "906", label)
        if incoming.wants_receipt:
            _queue_answer(kernel, pharmacy_id, MDN, row, failed.error_code, label)
        return
    patient_id = results[0].patient_id
    assert patient_id is not None
    with kernel.transaction() as session:
        row_obj = MssMessage(
            pharmacy_id=pharmacy_id,
            account_id=box.account_id,
            direction=Direction.IN,
            message_id=_key(fetched, incoming)[:254],
            peer=incoming.sender[:2000],
            subject=incoming.subject[:500],
            patient_id=patient_id,
            status=MessageStatus.INTEGRATED,
            raw_encrypted=secrets.encrypt(base64.b64encode(fetched.raw).decode()),
        )
        session.add(row_obj)
        session.flush()
        for document in read.documents:
            session.add(
                MssReceivedDocument(
                    pharmacy_id=pharmacy_id,
                    message_id=row_obj.id,
                    patient_id=patient_id,
                    unique_id=document.unique_id[:128],
                    type_code=document.type_code[:64],
                    title=document.title[:500],
                    content=document.cda,
                )
            )
        kernel.audit(
            pharmacy_id,
            "mssante.integrated",
            f"{len(read.documents)} document(s) reçu(s) de {incoming.sender[:200]} par MSSanté intégré(s) au dossier "
            "du patient.",
            session=session,
            patient_id=patient_id,
            object_type="mssante_message",
            object_id=row_obj.id,
        )
        row = row_obj.id
    box.provider.mark(fetched.uid, "integre")
    box.report.integrated.append(row)
    if incoming.wants_receipt:
        _queue_answer(kernel, pharmacy_id, MDN, row, None, label)


def _queue_answer(
    kernel: Kernel, pharmacy_id: int, kind: str, message_row: int, error_code: str | None, label: str
) -> None:
    with kernel.transaction() as session:
        outbox.enqueue(
            session,
            pharmacy_id,
            plugin=PLUGIN,
            kind=kind,
            # "mssante:mdn:<row>", "mssante:ko:<row>": the keys already queued must keep matching
            idempotency_key=f"{kind.replace('.', ':')}:{message_row}",
            payload={"message": message_row, "error_code": error_code, "label": label},
        )


@dataclass(frozen=True)
class _Received:
    """A received message read back from its encrypted copy, to answer its sender."""

    account_id: int
    sender: str
    incoming: mail.Incoming
    patient: mail.CdaPatient | None


def _received(kernel: Kernel, payload: dict[str, Any], unavailable_fr: str, what: str) -> _Received:
    with kernel.transaction() as session:
        row = session.get(MssMessage, payload["message"])
        if row is None or not row.raw_encrypted:
            raise PermanentFailure(
                f"received message {payload['message']} has no content to {what}",
                message_fr=f"Le message reçu n'est plus disponible : {unavailable_fr}",
            )
        account = session.get(MssAccount, row.account_id)
        assert account is not None
        raw = base64.b64decode(secrets.decrypt(row.raw_encrypted))
        account_id, sender = row.account_id, account.address
    incoming = mail.read(raw, max_bytes=len(raw) + 1)
    patient = None
    if incoming.xdm is not None:
        try:
            patient = mail.cda_patient(xdm.read(incoming.xdm)[0].cda)
        except LgoError:
            patient = None
    return _Received(account_id, sender, incoming, patient)


def _send_answer(kernel: Kernel, pharmacy_id: int, account_id: int, notification: Message, address: str) -> None:
    try:
        accounts.provider_for(kernel, pharmacy_id, account_id, operator_id=None).send_acknowledgement(
            notification, address
        )
    except MailRefused as exc:
        raise PermanentFailure(exc.detail or exc.message_fr, message_fr=exc.message_fr) from exc


def deliver_ko(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler ``mssante.ko``: tell the sender, in the standard e-mail the ANS guide specifies, that the
    automatic integration failed (code and label), with the original message and its files attached."""
    pharmacy_id, payload = delivery.pharmacy_id, delivery.payload
    received = _received(kernel, payload, "la notification d'échec ne peut pas être envoyée.", "answer")
    settings = _settings(kernel, pharmacy_id)
    notification = mail.ko_notification(
        received.incoming,
        sender=received.sender,
        message_id=mail.new_message_id(received.sender),
        error_code=str(payload["error_code"]),
        patient=received.patient,
        label=str(payload.get("label", "")),
        product_reference=settings.product_reference,
    )
    _name, address = email.utils.parseaddr(received.incoming.sender)
    _send_answer(kernel, pharmacy_id, received.account_id, notification, address)
    mailbox.audit_message(
        kernel,
        pharmacy_id,
        "mssante.ko",
        f"Notification d'échec d'intégration envoyée à {address} (erreur {payload['error_code']}).",
        payload["message"],
    )


def deliver_mdn(kernel: Kernel, delivery: Delivery) -> None:
    pharmacy_id, payload = delivery.pharmacy_id, delivery.payload
    received = _received(kernel, payload, "l'accusé de réception ne peut pas être envoyé.", "acknowledge")
    notification = mail.mdn(
        received.incoming,
        sender=received.sender,
        message_id=mail.new_message_id(received.sender),
        error_code=payload.get("error_code"),
        patient=received.patient,
        label=payload.get("label", ""),
    )
    recipient = str(received.incoming.message.get("Disposition-Notification-To", received.incoming.sender))
    _name, address = email.utils.parseaddr(recipient)
    _send_answer(kernel, pharmacy_id, received.account_id, notification, address)
    kernel.audit(
        pharmacy_id,
        "mssante.mdn",
        f"Accusé de réception MSSanté envoyé à {address}"
        + (f" (erreur {payload['error_code']})." if payload.get("error_code") else "."),
        object_type="mssante_message",
        object_id=payload["message"],
    )


__all__ = [
    "MailUnavailable",
    "ReceiveReport",
    "deliver_ko",
    "deliver_mdn",
    "deliver_send",
    "receive",
    "send_documents",
]


# -- lists for the pharmacist -------------------------------------------------------------------------------------


def status_lines(kernel: Kernel, pharmacy_id: int, *, direction: str | None = None) -> list[str]:
    with kernel.transaction() as session:
        query = select(MssMessage).where(MssMessage.pharmacy_id == pharmacy_id).order_by(MssMessage.id)
        if direction:
            query = query.where(MssMessage.direction == Direction(direction))
        return [
            f"{m.created_at.astimezone(PARIS):%d/%m/%Y %H:%M} {m.direction.value} {m.peer} — {m.subject} — "
            f"{m.status_fr}"
            for m in session.scalars(query)
        ]


def received_documents(kernel: Kernel, pharmacy_id: int, patient_id: int) -> list[tuple[str, str]]:
    with kernel.transaction() as session:
        return [
            (d.title, d.type_code)
            for d in session.scalars(
                select(MssReceivedDocument).where(
                    MssReceivedDocument.pharmacy_id == pharmacy_id, MssReceivedDocument.patient_id == patient_id
                )
            )
        ]
