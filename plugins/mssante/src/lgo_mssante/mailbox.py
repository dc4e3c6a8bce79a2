"""The MSSanté mailbox as the counter shows it: who may do what, the folders, and one message read in plain words.

Rights follow the mailbox: with Mailiz (a pharmacist's nominative box) its owner does everything; with the
pharmacy's organisational box, the operator's habilitation on it decides (Utilisateur: read and send; Gestionnaire:
also the quarantine — attach a document to a patient by hand; Administrateur: also the box itself). The screens show
only what :class:`Rights` allows, and each action checks it again.

A received message is read from the copy kept (encrypted) when it arrived: sender, the subject in plain words
instead of the XDM technical subject, the text of the body, the attachments (the documents of the XDM archive with
their titles, the other files by name). Nothing of it is trusted: the archive is read with the XDM limits, every text
is escaped by the templates, a CDA is rendered by the kernel's renderer (no active content).
"""

from __future__ import annotations

import base64
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from lgo.api import LgoError, NotFound, Operator, Patient, secrets
from sqlalchemy import select

from lgo_mssante import accounts, reading, xdm
from lgo_mssante import message as mail
from lgo_mssante.model import Direction, MessageStatus, MssAccount, MssMessage
from lgo_mssante.organisationnelle import RIGHTS
from lgo_mssante.provider import NotAllowed

if TYPE_CHECKING:
    from lgo.api import Kernel
    from sqlalchemy.orm import Session

PARIS = ZoneInfo("Europe/Paris")
FOLDERS = {
    "recus": "Reçus",
    "quarantaine": "Quarantaine",
    "traites": "Traités",
    "envoyes": "Envoyés",
}
_XDM_SUBJECT = re.compile(r"^(?:\[KO Intégration système !\]\[(\d{3})\]\s*)?XDM/1\.0/DDM\+(.*)$", re.IGNORECASE)
_BIRTH = re.compile(r"\s(\d{2}/\d{2}/\d{4})$")
#: How many messages a folder lists (newest first).
FOLDER_LIMIT = 200


@dataclass(frozen=True)
class Rights:
    """What one operator may do in the pharmacy's mailboxes under the selected provider."""

    account_ids: tuple[int, ...] = ()
    read: bool = False
    send: bool = False
    quarantine: bool = False
    habilitation_fr: str = ""

    @property
    def any(self) -> bool:
        return self.read or self.send


def rights(kernel: Kernel, pharmacy_id: int, operator_id: int) -> Rights:
    provider = kernel.selected_provider(pharmacy_id, accounts.CAPABILITY)
    if not provider:
        return Rights()
    with kernel.transaction() as session:
        boxes = accounts.accounts_for_provider(session, pharmacy_id, provider)
        if provider == "mailiz":
            own = tuple(a.id for a in boxes if a.operator_id == operator_id)
            return Rights(own, bool(own), bool(own), bool(own), "titulaire de la boîte nominative" if own else "")
        if not boxes:
            return Rights()
        habilitation = accounts.habilitation(session, boxes[0], operator_id)
    allowed = RIGHTS.get(habilitation or "", set())
    return Rights(
        tuple(a.id for a in boxes),
        "read" in allowed,
        "send" in allowed,
        "quarantine" in allowed,
        habilitation or "",
    )


def require(kernel: Kernel, pharmacy_id: int, operator_id: int, right: str) -> Rights:
    """The operator's rights, or a French refusal when ``right`` (read, send, quarantine) is missing."""
    found = rights(kernel, pharmacy_id, operator_id)
    if not getattr(found, right):
        words = {
            "read": "lire la messagerie MSSanté",
            "send": "envoyer depuis la messagerie MSSanté",
            "quarantine": "traiter la quarantaine (rattacher un document à un patient)",
        }
        raise NotAllowed(
            f"Votre habilitation ne permet pas de {words[right]}.",
            detail=f"operator {operator_id} lacks {right} ({found.habilitation_fr or 'none'})",
        )
    return found


@dataclass(frozen=True)
class Summary:
    id: int
    at: datetime
    peer: str
    subject_fr: str
    status_fr: str
    handled: bool
    quarantined: bool
    direction: str

    @property
    def at_fr(self) -> str:
        return self.at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def plain_subject(subject: str) -> str:
    """« XDM/1.0/DDM+Compte rendu MARTIN Camille 14/03/1985 » → « Compte rendu — MARTIN Camille, né(e) le
    14/03/1985 »; a KO notification says so in words; any other subject is kept."""
    match = _XDM_SUBJECT.match(subject.strip())
    if match is None:
        return subject.strip() or "(sans objet)"
    code, rest = match.groups()
    birth = _BIRTH.search(rest)
    words = rest[: birth.start()] if birth else rest
    parts = words.split(" ")
    # the label may hold spaces; the patient is the last two words before the birth date (NOM prénom)
    label, who = (" ".join(parts[:-2]), " ".join(parts[-2:])) if birth and len(parts) > 2 else (words, "")
    text = f"{label.strip()} — {who}" + (f", né(e) le {birth.group(1)}" if birth else "") if who else words.strip()
    if code:
        reason = mail.ERRORS.get(code, "erreur")
        return f"Échec d'intégration chez le destinataire ({code} : {reason}) — {text}"
    return text


def _summary(row: MssMessage) -> Summary:
    return Summary(
        row.id,
        row.created_at,
        row.peer,
        plain_subject(row.subject),
        row.status_fr,
        row.handled_at is not None,
        row.status == MessageStatus.QUARANTINED,
        row.direction.value,
    )


def folder(kernel: Kernel, pharmacy_id: int, operator_id: int, name: str) -> list[Summary]:
    allowed = require(kernel, pharmacy_id, operator_id, "read")
    if name == "quarantaine" and not allowed.quarantine:
        raise NotAllowed("Votre habilitation ne donne pas accès à la quarantaine.", detail="quarantine folder")
    with kernel.transaction() as session:
        query = select(MssMessage).where(
            MssMessage.pharmacy_id == pharmacy_id, MssMessage.account_id.in_(allowed.account_ids)
        )
        if name == "envoyes":
            query = query.where(MssMessage.direction == Direction.OUT)
        else:
            query = query.where(MssMessage.direction == Direction.IN)
            if name == "quarantaine":
                query = query.where(MssMessage.status == MessageStatus.QUARANTINED)
            elif name == "traites":
                query = query.where(MssMessage.handled_at.is_not(None))
            else:
                query = query.where(MssMessage.handled_at.is_(None))
                if not allowed.quarantine:
                    query = query.where(MssMessage.status != MessageStatus.QUARANTINED)
        rows = session.scalars(query.order_by(MssMessage.id.desc()).limit(FOLDER_LIMIT))
        return [_summary(row) for row in rows]


@dataclass(frozen=True)
class Attachment:
    #: ``p<part>`` for a file attached to the mail, ``d<part>-<n>`` for the n-th document of the XDM archive.
    key: str
    name: str
    mime_type: str
    size: int
    #: For a document of the XDM archive: its title and the patient it names.
    title: str = ""
    patient_fr: str = ""
    is_document: bool = False


@dataclass(frozen=True)
class MessageView:
    id: int
    direction: str
    at: datetime
    sender: str
    recipients: str
    subject: str
    subject_fr: str
    body: str
    status_fr: str
    quarantined: bool
    error_code: str | None
    reason_fr: str | None
    patient_id: int | None
    handled_fr: str
    attachments: tuple[Attachment, ...] = field(default=())

    @property
    def at_fr(self) -> str:
        return self.at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def owned_row(session: Session, pharmacy_id: int, message_id: int | str, account_ids: tuple[int, ...]) -> MssMessage:
    """The message, if it belongs to one of these mailboxes of the pharmacy (a number from outside)."""
    try:
        pk = int(message_id)
    except (TypeError, ValueError):
        pk = -1
    row = session.get(MssMessage, pk)
    if row is None or row.pharmacy_id != pharmacy_id or row.account_id not in account_ids:
        raise NotFound("Message introuvable dans vos boîtes MSSanté.", detail=f"message {message_id}")
    return row


def raw_of(row: MssMessage) -> bytes | None:
    return base64.b64decode(secrets.decrypt(row.raw_encrypted)) if row.raw_encrypted else None


def _body_text(parsed: Message) -> str:
    return mail.body_text(parsed)[:20_000]


def _parts(parsed: Message) -> list[tuple[str, str, bytes]]:
    """The attachments of a message: (file name, MIME type, bytes)."""
    return mail.attachments(parsed)


def _attachments(parsed: Message) -> tuple[Attachment, ...]:
    shown: list[Attachment] = []
    for index, (name, mime_type, payload) in enumerate(_parts(parsed)):
        if name.upper() == xdm.ARCHIVE_NAME:
            try:
                documents = xdm.read(payload)
            except LgoError:
                shown.append(Attachment(f"p{index}", name, mime_type, len(payload), title="archive XDM illisible"))
                continue
            for number, document in enumerate(documents):
                try:
                    who = mail.cda_patient(document.cda)
                    patient = f"{who.birth_name} {who.first_name}, né(e) le {who.birth_date_fr}"
                except LgoError:
                    patient = "patient illisible"
                shown.append(
                    Attachment(
                        f"d{index}-{number}",
                        document.name,
                        "text/xml",
                        len(document.cda),
                        document.title,
                        patient,
                        True,
                    )
                )
        else:
            shown.append(Attachment(f"p{index}", name, mime_type, len(payload)))
    return tuple(shown)


def read(kernel: Kernel, pharmacy_id: int, operator_id: int, message_id: int | str) -> MessageView:
    allowed = require(kernel, pharmacy_id, operator_id, "read")
    with kernel.transaction() as session:
        row = owned_row(session, pharmacy_id, message_id, allowed.account_ids)
        if row.status == MessageStatus.QUARANTINED and not allowed.quarantine:
            raise NotAllowed("Votre habilitation ne donne pas accès à la quarantaine.", detail="quarantined message")
        account = session.get(MssAccount, row.account_id)
        own = account.address if account is not None else ""
        handled_fr = ""
        if row.handled_at is not None:
            by = session.get(Operator, row.handled_by) if row.handled_by else None
            handled_fr = f"Traité le {row.handled_at.astimezone(PARIS):%d/%m/%Y à %H:%M}" + (
                f" par {by.display_name}" if by else ""
            )
        raw = raw_of(row)
        body, attachments = row.body or "", cast("tuple[Attachment, ...]", ())
        if raw is not None:
            # a quarantined message may be unreadable: it is shown with its reason, never as an error page
            read = reading.read(raw, max_bytes=len(raw) + 1)
            if read.incoming is not None:
                body, attachments = _body_text(read.incoming.message), _attachments(read.incoming.message)
            else:
                body = "(message illisible : il est conservé tel quel pour être examiné)"
        outgoing = row.direction == Direction.OUT
        return MessageView(
            id=row.id,
            direction=row.direction.value,
            at=row.created_at,
            sender=own if outgoing else row.peer,
            recipients=row.peer if outgoing else own,
            subject=row.subject,
            subject_fr=plain_subject(row.subject),
            body=body,
            status_fr=row.status_fr,
            quarantined=row.status == MessageStatus.QUARANTINED,
            error_code=row.error_code,
            reason_fr=row.reason_fr,
            patient_id=row.patient_id,
            handled_fr=handled_fr,
            attachments=attachments,
        )


_KEY = re.compile(r"^(?:p(\d{1,3})|d(\d{1,3})-(\d{1,3}))$")


def attachment(
    kernel: Kernel, pharmacy_id: int, operator_id: int, message_id: int | str, key: str
) -> tuple[str, str, bytes]:
    """One attachment of a received message by its key (:attr:`Attachment.key`): (name, MIME type, bytes)."""
    view_rights = require(kernel, pharmacy_id, operator_id, "read")
    with kernel.transaction() as session:
        row = owned_row(session, pharmacy_id, message_id, view_rights.account_ids)
        if row.status == MessageStatus.QUARANTINED and not view_rights.quarantine:
            raise NotAllowed("Votre habilitation ne donne pas accès à la quarantaine.", detail="quarantined message")
        raw = raw_of(row)
    match = _KEY.match(key)
    if raw is None or match is None:
        raise NotFound("Pièce jointe introuvable.", detail=f"message {message_id} key {key!r}")
    read = reading.read(raw, max_bytes=len(raw) + 1)
    if read.incoming is None:
        raise NotFound(
            "Ce message est illisible : ses pièces jointes ne peuvent pas être ouvertes.", detail=read.detail
        )
    parts = _parts(read.incoming.message)
    plain, archive, number = match.groups()
    part = int(plain if plain is not None else archive)
    if not 0 <= part < len(parts):
        raise NotFound("Pièce jointe introuvable.", detail=f"message {message_id} key {key!r}")
    name, mime_type, payload = parts[part]
    if archive is None:
        return name, mime_type, payload
    documents = xdm.read(payload)
    if not 0 <= int(number) < len(documents):
        raise NotFound("Document introuvable dans l'archive.", detail=f"message {message_id} key {key!r}")
    found = documents[int(number)]
    return found.name, "text/xml", found.cda


def documents_of(kernel: Kernel, pharmacy_id: int, message_row: int) -> list[xdm.ReceivedDocument]:
    """The documents of a received message's XDM archive (no right checked: for the service's own use)."""
    with kernel.transaction() as session:
        row = session.get(MssMessage, message_row)
        raw = raw_of(row) if row is not None and row.pharmacy_id == pharmacy_id else None
    if raw is None:
        return []
    return list(reading.read(raw, max_bytes=len(raw) + 1).documents)


def sender_address(view: MessageView) -> str:
    return email.utils.parseaddr(view.sender)[1]


def patient_label(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> str:
    if patient_id is None:
        return ""
    with kernel.transaction() as session:
        patient = session.get(Patient, patient_id)
        return patient.display_name if patient is not None and patient.pharmacy_id == pharmacy_id else ""


def audit_message(
    kernel: Kernel,
    pharmacy_id: int,
    action: str,
    message_fr: str,
    message_row: int,
    *,
    session: Session | None = None,
    operator_id: int | None = None,
    patient_id: int | None = None,
) -> None:
    """An audit line about one MSSanté message, sent or received (in ``session`` when given)."""
    kernel.audit(
        pharmacy_id,
        action,
        message_fr,
        actor="mssante",
        session=session,
        operator_id=operator_id,
        patient_id=patient_id,
        object_type="mssante_message",
        object_id=message_row,
    )
