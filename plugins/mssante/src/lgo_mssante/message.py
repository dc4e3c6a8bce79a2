"""MSSanté e-mails: composing a message with its XDM archive and the MSSanté headers, reading a received one with
limits, and the disposition notification (MDN, RFC 8098) the CI-SIS "transmission CDA par MSSanté" describes.

Headers (Référentiel socle MSSanté #2 §3.8, decision 0600): ``X-MSS-NIL`` (the product reference) on every mail;
``X-MSS-CODECDA`` (the CDA ``code`` of each document, comma-separated) and ``X-MSS-INS`` (``O`` when the documents
carry a qualified INS, else ``N``) when an XDM archive is attached; ``X-MSS-MES: FIN`` on a mail to a patient's
Mon espace santé mailbox when the pharmacist blocks the patient's reply.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.policy import Compat32
from typing import Any

from lgo.api import ValidationError, xds, xds_codes

from lgo_mssante.safe_xml import HostileContent, parse
from lgo_mssante.xdm import ARCHIVE_NAME

SUBJECT_PREFIX = "XDM/1.0/DDM"
MAX_HEADERS = 500
#: Error codes of the CI-SIS table "applicationErrorCondition" (transmission CDA par MSSanté).
ERRORS = {
    "900": "Version du document incorrecte lors d'une demande de remplacement/suppression",
    "901": "Auteur non autorisé à remplacer ou supprimer un document",
    "902": "Identifiant patient inconnu",
    "903": "INS non présent dans le document",
    "904": "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur",
    "905": "L'INS transmis n'est pas complet",
    "906": "Erreur 'Autre'",
}


@dataclass(frozen=True)
class CdaPatient:
    matricule: str | None
    oid: str | None
    birth_name: str
    first_name: str
    #: ``YYYYMMDD`` (or shorter when partial), as in the CDA.
    birth_time: str
    sex: str

    @property
    def has_ins(self) -> bool:
        return bool(self.matricule) and self.oid in xds_codes.INS_OIDS

    @property
    def complete(self) -> bool:
        return all((self.matricule, self.oid, self.birth_name, self.first_name, self.birth_time, self.sex))

    @property
    def birth_date_fr(self) -> str:
        t = self.birth_time
        return f"{t[6:8]}/{t[4:6]}/{t[0:4]}" if len(t) >= 8 else t


def cda_patient(cda: bytes | Any) -> CdaPatient:
    root = parse(cda, what="CDA") if isinstance(cda, bytes) else cda
    ns = {"h": xds.HL7}
    ins = None
    for identifier in root.findall("h:recordTarget/h:patientRole/h:id", ns):
        if identifier.get("root") in xds_codes.INS_OIDS:
            ins = identifier
            break
    person = root.find("h:recordTarget/h:patientRole/h:patient", ns)

    def text(path: str) -> str:
        return (person.findtext(path, "", ns) if person is not None else "").strip()

    birth = person.find("h:birthTime", ns) if person is not None else None
    gender = person.find("h:administrativeGenderCode", ns) if person is not None else None
    return CdaPatient(
        matricule=ins.get("extension") if ins is not None else None,
        oid=ins.get("root") if ins is not None else None,
        birth_name=text("h:name/h:family[@qualifier='BR']") or text("h:name/h:family"),
        first_name=(text("h:name/h:given[@qualifier='BR']") or text("h:name/h:given")).split(" ")[0],
        birth_time=(birth.get("value") or "") if birth is not None else "",
        sex=(gender.get("code") or "") if gender is not None else "",
    )


def subject(label: str, patient: CdaPatient) -> str:
    return f"{SUBJECT_PREFIX}+{label} {patient.birth_name.upper()} {patient.first_name} {patient.birth_date_fr}"


def new_message_id(domain: str) -> str:
    return email.utils.make_msgid(domain=domain.split("@")[-1] or "lgo.invalid")


def compose(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    message_id: str,
    product_reference: str,
    xdm: bytes | None = None,
    cda_codes: Sequence[str] = (),
    ins_qualified: bool = False,
    copies: Sequence[tuple[str, str, bytes]] = (),
    read_receipt: bool = False,
    block_patient_reply: bool = False,
    patient_domain: str = "patient.mssante.fr",
    in_reply_to: str = "",
) -> EmailMessage:
    """One MSSanté mail. ``copies`` are human-readable copies (file name, MIME type, bytes), e.g. the PDF, or the
    files of a forwarded message; ``in_reply_to`` the Message-ID of the message answered."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message["X-MSS-NIL"] = product_reference
    if xdm is not None:
        message["X-MSS-CODECDA"] = ",".join(dict.fromkeys(cda_codes))
        message["X-MSS-INS"] = "O" if ins_qualified else "N"
    if block_patient_reply and any(a.lower().endswith("@" + patient_domain) for a in to):
        message["X-MSS-MES"] = "FIN"
    if read_receipt:
        message["Disposition-Notification-To"] = sender
    message.set_content(body)
    if xdm is not None:
        message.add_attachment(xdm, maintype="application", subtype="zip", filename=ARCHIVE_NAME)
    for name, mime_type, content in copies:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


# -- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    message: Message
    message_id: str
    sender: str
    subject: str
    xdm: bytes | None
    wants_receipt: bool
    #: For an MDN received: (Original-Message-ID, disposition text).
    disposition: tuple[str, str] | None


_FATAL_DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "NoBoundaryInMultipartDefect",
    "MissingHeaderBodySeparatorDefect",
)
#: Limits checked before the MIME parser runs, each on a cost that grows faster than the message (decision 0601):
#: the header block of the message, one header's value, the multiparts (nesting) and their separators, the lines.
MAX_HEADER_BLOCK = 256 * 1024
MAX_HEADER_CHARS = 16 * 1024
MAX_MULTIPARTS = 32
MAX_SEPARATOR_LINES = 2048
MIN_LINE_LIMIT = 100_000
_BOUNDARY = re.compile(rb"boundary", re.IGNORECASE)
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class _Oversized(Exception):
    """A header value longer than :data:`MAX_HEADER_CHARS`, met while parsing."""


class _BoundedPolicy(Compat32):
    """The legacy policy keeps headers as plain strings (``policy.default``'s header parser costs seconds per
    kilobyte on hostile values, minutes for a message at the size limit); no value is handed out above the limit,
    so that parameter parsing stays cheap."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if len(value) > MAX_HEADER_CHARS:
            raise _Oversized(f"header {name} of {len(value)} characters")
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy()


def _defects(part: Message) -> list[str]:
    return [type(d).__name__ for d in getattr(part, "defects", [])]


def clean(text: str) -> str:
    """A header's text as it may be stored and shown: unfolded, undecodable bytes replaced, controls turned into
    spaces."""
    return _CONTROL.sub(" ", _FOLDING.sub("", text).encode("utf-8", "replace").decode("utf-8")).strip()


def _header(message: Message, name: str, *, encoded_words: bool = True) -> str:
    value = message.get(name)
    if value is None:
        return ""
    if encoded_words:
        try:
            return clean(str(make_header(decode_header(value))))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            pass  # an undecodable encoded word: the raw text is better than nothing
    return clean(str(value))


def _check_shape(raw: bytes, max_bytes: int) -> None:
    """Refuse, before parsing, what would make the parser's work grow faster than the message."""
    if len(raw) > max_bytes:
        raise HostileContent(
            f"Message de {len(raw) // 1024} Ko, au-delà de la limite de {max_bytes // 1024} Ko : mis de côté.",
            detail=f"message size {len(raw)} > {max_bytes}",
        )
    end = min(i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n"), len(raw)) if i >= 0)
    lines = raw.count(b"\n")
    limits = (
        (end > MAX_HEADER_BLOCK, f"header block of {end} bytes"),
        (len(_BOUNDARY.findall(raw)) > MAX_MULTIPARTS, "too many multipart boundaries"),
        (raw.count(b"\n--") > MAX_SEPARATOR_LINES, "too many separator lines"),
        (lines > max(MIN_LINE_LIMIT, max_bytes // 50), f"{lines} lines"),
    )
    for exceeded, detail in limits:
        if exceeded:
            raise HostileContent("Message à la structure anormale (en-têtes ou parties) : mis de côté.", detail=detail)


def read(raw: bytes, *, max_bytes: int) -> Incoming:
    """A received mail, parsed with limits; refuses oversize and structurally broken MIME. Whatever the bytes,
    the result is an :class:`Incoming` or a :class:`ValidationError` (:class:`HostileContent`) in French."""
    _check_shape(raw, max_bytes)
    try:
        return _read(raw)
    except ValidationError:
        raise
    except _Oversized as exc:
        raise HostileContent("Message à l'en-tête anormalement long : mis de côté.", detail=str(exc)) from exc
    except Exception as exc:  # the parser's own failures on hostile input: refused, never raised
        raise ValidationError(
            "Message illisible (structure MIME invalide) : mis de côté.", detail=f"MIME parser: {exc!r}"
        ) from exc


def _read(raw: bytes) -> Incoming:
    parsed = BytesParser(policy=_POLICY).parsebytes(raw)
    if len(parsed.keys()) > MAX_HEADERS:
        raise HostileContent(
            "Message aux en-têtes anormalement nombreux : mis de côté.", detail=f"{len(parsed.keys())} headers"
        )
    broken = [d for part in parsed.walk() for d in _defects(part) if d in _FATAL_DEFECTS]
    if broken or not parsed.get("From"):
        raise ValidationError(
            "Message mal formé (structure MIME invalide) : mis de côté.", detail=f"MIME defects {broken or ['no From']}"
        )
    xdm = None
    disposition = None
    for part in parsed.walk():
        if part.get_content_type() == "message/disposition-notification":
            disposition = _disposition(part)
        filename = (part.get_filename() or "").upper()
        if filename == ARCHIVE_NAME and not part.is_multipart():
            payload = part.get_payload(decode=True)
            xdm = payload if isinstance(payload, bytes) else None
    if parsed.get_content_type() == "multipart/report":
        xdm = None  # the archive inside an MDN is the one we sent, not a new document
    return Incoming(
        message=parsed,
        message_id=_header(parsed, "Message-ID", encoded_words=False),
        sender=_header(parsed, "From"),
        subject=_header(parsed, "Subject"),
        xdm=xdm,
        wants_receipt=bool(parsed.get("Disposition-Notification-To")),
        disposition=disposition,
    )


def attachments(message: Message) -> list[tuple[str, str, bytes]]:
    """The files attached to a message read by :func:`read` (legacy policy): file name, MIME type and bytes of each
    leaf part that is an attachment or names a file."""
    found = []
    for part in message.walk():
        if part.is_multipart() or part is message:
            continue
        disposition = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
        name = part.get_filename()
        if disposition != "attachment" and not name:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append((clean(str(name or "")) or "piece-jointe", part.get_content_type(), payload))
    return found


def body_text(message: Message) -> str:
    """The message's first plain-text part that is not an attachment, decoded (« (texte illisible) » when its
    character set is unknown)."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_type() != "text/plain" or part.get_filename():
            continue
        if str(part.get("Content-Disposition", "")).lower().startswith("attachment"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        try:
            return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        except LookupError:
            return "(texte illisible)"
    return ""


def _disposition(part: Message) -> tuple[str, str]:
    payload = part.get_payload()
    fields: Any
    if isinstance(payload, list) and payload:
        fields = payload[0]
    else:
        fields = BytesParser(policy=_POLICY).parsebytes(str(payload).encode("utf-8", "replace"))
    return (
        _header(fields, "Original-Message-ID", encoded_words=False),
        _header(fields, "Disposition", encoded_words=False),
    )


# -- MDN ----------------------------------------------------------------------------------------------------------


def mdn(
    incoming: Incoming,
    *,
    sender: str,
    message_id: str,
    error_code: str | None = None,
    patient: CdaPatient | None = None,
    label: str = "",
) -> Message:
    """The disposition notification of a received mail: processed, or processed/Error with the CI-SIS code."""
    base_subject = subject(label or "Document", patient) if patient else incoming.subject
    report = MIMEMultipart("report", report_type="disposition-notification")
    report["From"] = sender
    report["To"] = str(incoming.message.get("Disposition-Notification-To", incoming.sender))
    report["Date"] = email.utils.formatdate(localtime=True)
    report["Message-ID"] = message_id
    if error_code:
        text = ERRORS[error_code]
        report["Subject"] = f"[KO Intégration système !][{error_code}] {base_subject}"
        human = (
            "Le message ci-dessous n'a pas pu être intégré automatiquement dans le logiciel de l'officine pour "
            f"la raison suivante : {text} (code {error_code})."
        )
        # The disposition fields are ASCII (RFC 8098): the label loses its accents there, not in the human part.
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        disposition = (
            f"automatic-action/MDN-sent-automatically; processed/Error: {error_code}^{ascii_text}"
            "^applicationErrorCondition"
        )
    else:
        report["Subject"] = base_subject
        human = "Le document a été intégré dans le dossier du patient à l'officine."
        disposition = "automatic-action/MDN-sent-automatically; processed"
    report.attach(MIMEText(human, "plain", "utf-8"))
    notification = MIMEBase("message", "disposition-notification")
    original_recipient = str(incoming.message.get("Original-Recipient", "")) or f"rfc822;{sender}"
    notification.set_payload(
        f"Original-Recipient: {original_recipient}\r\nFinal-Recipient: rfc822;{sender}\r\n"
        f"Original-Message-ID: {incoming.message_id}\r\nDisposition: {disposition}\r\n"
    )
    report.attach(notification)
    original = MIMEBase("message", "rfc822")
    original.set_payload([incoming.message])
    report.attach(original)
    return report


def ko_subject(error_code: str, incoming: Incoming, patient: CdaPatient | None, label: str) -> str:
    """``[KO Intégration système !][code] XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>``."""
    base = subject(label or "Document", patient) if patient else incoming.subject
    return f"[KO Intégration système !][{error_code}] {base}"


def ko_notification(
    incoming: Incoming,
    *,
    sender: str,
    message_id: str,
    error_code: str,
    patient: CdaPatient | None = None,
    label: str = "",
    product_reference: str = "LGO-LIBRE",
) -> EmailMessage:
    """The « courriel standard » the ANS guide (transmission CDA par MSSanté) specifies when automatic integration
    fails: a human-readable text with the error's code and label, the original message attached
    (``message/rfc822``), and the original attachments (``IHE_XDM.ZIP``, the PDF) attached again."""
    reason = ERRORS.get(error_code, ERRORS["906"])
    notification = EmailMessage(policy=policy.SMTP)
    notification["From"] = sender
    notification["To"] = incoming.sender
    notification["Subject"] = ko_subject(error_code, incoming, patient, label)
    notification["Date"] = email.utils.formatdate(localtime=True)
    notification["Message-ID"] = message_id
    notification["X-MSS-NIL"] = product_reference
    if incoming.message_id:
        notification["In-Reply-To"] = incoming.message_id
        notification["References"] = incoming.message_id
    notification.set_content(
        "Bonjour,\n\n"
        "Le document envoyé n'a pas pu être intégré automatiquement dans le logiciel de l'officine.\n"
        "Voici les détails de l'erreur rencontrée :\n\n"
        f"- Erreur détectée : {reason}\n"
        f"- Code d'erreur : {error_code}\n\n"
        "Vous trouverez en pièce jointe :\n"
        "1. Le message original contenant le document soumis.\n"
        "2. Les fichiers liés (archive ZIP et PDF associés au message original).\n\n"
        "Le message est conservé à l'officine, qui peut le rattacher au dossier du patient après vérification de "
        "son identité. Sinon, vérifiez les informations transmises et renvoyez le document après correction.\n\n"
        "Cordialement."
    )
    notification.add_attachment(incoming.message, filename="message_original.eml")
    for name, mime_type, payload in attachments(incoming.message):
        maintype, subtype = mime_type.split("/", 1)
        notification.add_attachment(payload, maintype=maintype, subtype=subtype, filename=name)
    return notification
