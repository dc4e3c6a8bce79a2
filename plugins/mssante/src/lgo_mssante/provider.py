"""The provider protocol of the ``mssante`` capability, and the SMTP/IMAP transport both our providers share.

A provider (stevedore entry point in ``lgo.providers.mssante``) is a factory called ``(account, settings)`` —
usually the driver class itself, with a French ``label`` for the administrator's page — returning an object that
follows :class:`MssanteProvider`. Exactly one provider is selected per pharmacy
(``kernel.select_provider(pharmacy_id, "mssante", name)``); a vendor ships a third one the same way.

Both our providers speak SMTP submission (587, STARTTLS) and IMAP (STARTTLS) with a TLS client certificate, as the
MSSanté operators require; they differ in which mailbox and which certificate they use, and in who may use them.
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol, runtime_checkable

from lgo.api import ClientCredential, LgoError, client_tls_context

#: IMAP keywords our providers set on a message once handled (the message stays in the mailbox).
INTEGRATED = "$LgoIntegre"
QUARANTINED = "$LgoQuarantaine"
OUTCOMES = {"integre": INTEGRATED, "quarantaine": QUARANTINED, "lu": None}


class MailUnavailable(LgoError):
    """The operator's server cannot be reached or refused the connection: retried later, nothing is lost."""


class MailRefused(LgoError):
    """The server refused for good (authentication, unknown recipient): a person must act."""


class NotAllowed(LgoError):
    """The operator has no habilitation for this mailbox action."""


@dataclass(frozen=True)
class MailAccount:
    """Everything a provider needs to reach one mailbox (built by :mod:`lgo_mssante.accounts`)."""

    address: str
    login: str
    password: str
    #: The certificate presented to the servers (the pharmacist's own for Mailiz, the organisation's otherwise).
    credential: ClientCredential
    ca_path: str | None
    smtp_host: str
    smtp_port: int
    imap_host: str
    imap_port: int
    timeout: float = 20.0
    #: "personnelle" or "organisationnelle".
    kind: str = "organisationnelle"
    #: The operator acting, and their habilitation on an organisational mailbox (None: none).
    operator_id: int | None = None
    habilitation: str | None = None
    rpps: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchedMessage:
    uid: str
    size: int
    #: None when the message is larger than the limit: it is left on the server, flagged, never downloaded.
    raw: bytes | None


@runtime_checkable
class MssanteProvider(Protocol):
    name: str
    account: MailAccount

    def send(self, message: Message, recipients: Sequence[str]) -> None:
        """Submit one message; raises :class:`MailUnavailable` (retry) or :class:`MailRefused` (for good)."""

    def fetch_new(self, *, max_bytes: int) -> Iterable[FetchedMessage]:
        """The messages of the inbox not handled yet (neither integrated nor quarantined). An iterator is best:
        the caller handles (and marks) each message before the next one is downloaded."""

    def mark(self, uid: str, outcome: str) -> None:
        """Record on the server how the message was handled: ``integre``, ``quarantaine`` or ``lu``."""

    def send_acknowledgement(self, mdn: Message, recipient: str) -> None:
        """Send a disposition notification (MDN)."""


def client_context(account: MailAccount) -> ssl.SSLContext:
    return client_tls_context(account.credential, account.ca_path)


class StandardMailTransport:
    """SMTP submission + IMAP, both upgraded with STARTTLS and authenticated by certificate then login."""

    name = "standard"

    def __init__(self, account: MailAccount) -> None:
        self.account = account

    # -- SMTP ---------------------------------------------------------------------------------------------------

    def _smtp_send(self, message: Message, recipients: Sequence[str]) -> None:
        account = self.account
        try:
            with smtplib.SMTP(account.smtp_host, account.smtp_port, timeout=account.timeout) as smtp:
                smtp.starttls(context=client_context(account))
                smtp.login(account.login, account.password)
                refused = smtp.send_message(message, from_addr=account.address, to_addrs=list(recipients))
        except smtplib.SMTPAuthenticationError as exc:
            raise MailRefused(
                "Le serveur MSSanté refuse l'identification de la boîte aux lettres.",
                detail=f"SMTP auth {exc.smtp_code} {exc.smtp_error!r}",
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailRefused(
                "Adresse MSSanté refusée par le serveur : " + ", ".join(exc.recipients) + ".",
                detail=f"recipients refused {exc.recipients!r}",
            ) from exc
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise MailUnavailable(
                "Le serveur d'envoi MSSanté ne répond pas : le message partira plus tard.",
                detail=f"SMTP {account.smtp_host}:{account.smtp_port}: {exc!r}",
            ) from exc
        if refused:
            raise MailRefused("Adresse MSSanté refusée : " + ", ".join(refused) + ".", detail=f"refused {refused!r}")

    def send(self, message: Message, recipients: Sequence[str]) -> None:
        self._smtp_send(message, recipients)

    def send_acknowledgement(self, mdn: Message, recipient: str) -> None:
        self._smtp_send(mdn, [recipient])

    # -- IMAP ---------------------------------------------------------------------------------------------------

    def _imap(self) -> imaplib.IMAP4:
        account = self.account
        try:
            imap = imaplib.IMAP4(account.imap_host, account.imap_port, timeout=account.timeout)
            imap.starttls(ssl_context=client_context(account))
            imap.login(account.login, account.password)
            imap.select("INBOX")
        except imaplib.IMAP4.error as exc:
            raise MailRefused(
                "Le serveur MSSanté refuse l'accès à la boîte aux lettres.", detail=f"IMAP {account.imap_host}: {exc!r}"
            ) from exc
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            raise MailUnavailable(
                "Le serveur de réception MSSanté ne répond pas : nouvel essai plus tard.",
                detail=f"IMAP {account.imap_host}:{account.imap_port}: {exc!r}",
            ) from exc
        return imap

    def fetch_new(self, *, max_bytes: int) -> Iterator[FetchedMessage]:
        """One message at a time: however many wait, no more than one is held in memory. The connection is made
        now, so that a server that cannot be reached or refuses the certificate is told at once."""
        return self._each_new(self._imap(), max_bytes)

    def _each_new(self, imap: imaplib.IMAP4, max_bytes: int) -> Iterator[FetchedMessage]:
        try:
            status, data = imap.uid("SEARCH", None, f"UNKEYWORD {INTEGRATED} UNKEYWORD {QUARANTINED}")  # type: ignore[arg-type]
            uids = data[0].split() if status == "OK" and data and data[0] else []
            for raw_uid in uids:
                uid = raw_uid.decode()
                try:
                    _status, sizes = imap.uid("FETCH", uid, "(RFC822.SIZE)")
                    size = _size(sizes)
                    raw = None
                    if size <= max_bytes:
                        _status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                        raw = bytes(next((p[1] for p in parts if isinstance(p, tuple)), b""))
                except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
                    raise MailUnavailable(
                        "Le serveur de réception MSSanté ne répond plus : nouvel essai plus tard.",
                        detail=f"IMAP fetch of {uid}: {exc!r}",
                    ) from exc
                yield FetchedMessage(uid, size, raw)
        finally:
            _logout(imap)

    def mark(self, uid: str, outcome: str) -> None:
        keyword = OUTCOMES[outcome]
        imap = self._imap()
        try:
            flags = f"(\\Seen {keyword})" if keyword else "(\\Seen)"
            imap.uid("STORE", uid, "+FLAGS", flags)
        finally:
            _logout(imap)


def _size(response: list[object]) -> int:
    for item in response:
        text = item.decode() if isinstance(item, bytes) else str(item)
        if "RFC822.SIZE" in text:
            return int(text.split("RFC822.SIZE", 1)[1].strip(" ()").split()[0].rstrip(")"))
    return 0


def _logout(imap: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        imap.logout()
