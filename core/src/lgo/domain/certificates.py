"""The pharmacy's certificates (the organisation certificate of the Ségur services: INSi, DMP, MSSanté...),
uploaded by an administrator as PKCS#12 with its passphrase.

Both are stored encrypted with :mod:`lgo.secrets`; subject and validity are kept in clear so that the admin page
can warn before expiry without decrypting anything. Plugins get a :class:`ClientCredential` (certificate and key in
memory) from :func:`pharmacy_credential` and a TLS context from :func:`client_tls_context`: the key is never written
in clear and the administrator is never asked for file paths (PEM files named in a plugin's settings remain possible
for development and the sandboxes).
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo import secrets
from lgo.db import Base, UTCDateTime, utcnow
from lgo.domain import audit
from lgo.errors import NotFound, ValidationError

ORGANISATION = "organisation"
#: The admin page warns this long before a certificate expires.
WARN_BEFORE = timedelta(days=30)
MAX_PKCS12_BYTES = 256 * 1024


class StoredCertificate(Base):
    __tablename__ = "pharmacy_certificate"
    __table_args__ = (UniqueConstraint("pharmacy_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    #: "organisation" for the certificate of the pharmacy's legal entity; other kinds may follow.
    kind: Mapped[str] = mapped_column(String(32), default=ORGANISATION)
    subject: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    serial_number: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    #: base64 of the PKCS#12 file, encrypted with lgo.secrets (``enc:v1:…``).
    pkcs12_encrypted: Mapped[str] = mapped_column(Text)
    passphrase_encrypted: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), default=None)

    def expiry(self, now: datetime | None = None) -> Expiry:
        return Expiry.of(self.not_after, now)


@dataclass(frozen=True)
class Expiry:
    not_after: datetime
    days_left: int
    expired: bool
    expiring_soon: bool

    @classmethod
    def of(cls, not_after: datetime, now: datetime | None = None) -> Expiry:
        left = not_after - (now or utcnow())
        return cls(not_after, left.days, left.total_seconds() <= 0, timedelta(0) < left <= WARN_BEFORE)

    @property
    def text_fr(self) -> str:
        date = self.not_after.strftime("%d/%m/%Y")
        if self.expired:
            return f"expiré depuis le {date}"
        if self.expiring_soon:
            return f"expire le {date} (dans {self.days_left} jour(s)) : renouvelez-le"
        return f"valide jusqu'au {date}"


@dataclass(frozen=True)
class Pkcs12Content:
    certificate: x509.Certificate
    private_key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...]


@dataclass(frozen=True)
class ClientCredential:
    """A certificate and its private key, held in memory only: decrypted from the store (:func:`load`) or read
    from PEM files (:func:`read_pem_files`)."""

    certificate: x509.Certificate
    private_key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...] = ()

    def cert_pem(self) -> bytes:
        """The certificate followed by its chain, PEM."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain))


class OperatorSigner(Protocol):
    """An operator's own signing credential (a CPS unlocked with its PIN): the certificate, PEM, and a
    ``cryptography`` private key whose operations may happen on the card (signxml takes it as is)."""

    @property
    def certificate_pem(self) -> bytes: ...

    @property
    def private_key(self) -> rsa.RSAPrivateKey: ...


def read_pkcs12(data: bytes, passphrase: str) -> Pkcs12Content:
    """Open a PKCS#12 file; French errors for what an administrator can fix."""
    if not data:
        raise ValidationError("Le fichier du certificat est vide.")
    if len(data) > MAX_PKCS12_BYTES:
        raise ValidationError("Le fichier est trop volumineux pour être un certificat PKCS#12 (.p12, .pfx).")
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, passphrase.encode() or None)
    except ValueError as exc:
        raise ValidationError(
            "Impossible d'ouvrir le certificat : fichier PKCS#12 (.p12, .pfx) invalide ou mot de passe incorrect.",
            detail=f"pkcs12: {exc}",
        ) from exc
    if certificate is None or key is None:
        raise ValidationError("Le fichier PKCS#12 doit contenir le certificat et sa clé privée.")
    return Pkcs12Content(certificate, key, tuple(chain))


def store(
    session: Session,
    pharmacy_id: int,
    data: bytes,
    passphrase: str,
    *,
    kind: str = ORGANISATION,
    operator_id: int | None = None,
) -> StoredCertificate:
    """Check and store (replacing the previous one of this kind) a PKCS#12 certificate, encrypted."""
    content = read_pkcs12(data, passphrase)
    cert = content.certificate
    row = session.scalar(
        select(StoredCertificate).where(StoredCertificate.pharmacy_id == pharmacy_id, StoredCertificate.kind == kind)
    )
    if row is None:
        row = StoredCertificate(pharmacy_id=pharmacy_id, kind=kind)
        session.add(row)
    row.subject = cert.subject.rfc4514_string()[:500]
    row.issuer = cert.issuer.rfc4514_string()[:500]
    row.serial_number = format(cert.serial_number, "x")[:64]
    row.not_before = cert.not_valid_before_utc
    row.not_after = cert.not_valid_after_utc
    row.pkcs12_encrypted = secrets.encrypt(base64.b64encode(data).decode())
    row.passphrase_encrypted = secrets.encrypt(passphrase)
    row.uploaded_at = utcnow()
    row.uploaded_by = operator_id
    session.flush()
    audit.record(
        session,
        pharmacy_id,
        "certificate.stored",
        f"Certificat « {kind} » enregistré : {row.subject} ({row.expiry().text_fr}).",
        operator_id=operator_id,
        object_type="certificate",
        object_id=kind,
        details={"serial_number": row.serial_number},
    )
    return row


def get(session: Session, pharmacy_id: int, kind: str = ORGANISATION) -> StoredCertificate | None:
    return session.scalar(
        select(StoredCertificate).where(StoredCertificate.pharmacy_id == pharmacy_id, StoredCertificate.kind == kind)
    )


def load(session: Session, pharmacy_id: int, kind: str = ORGANISATION) -> ClientCredential:
    """The decrypted certificate and key; :class:`NotFound` (French) when none was uploaded."""
    row = get(session, pharmacy_id, kind)
    if row is None:
        raise NotFound(
            "Aucun certificat d'organisation n'est enregistré : déposez-le dans la page d'administration "
            "(Paramètres › Certificat)."
        )
    data = base64.b64decode(secrets.decrypt(row.pkcs12_encrypted))
    passphrase = secrets.decrypt(row.passphrase_encrypted)
    content = read_pkcs12(data, passphrase)
    return ClientCredential(content.certificate, content.private_key, content.chain)


def read_pem_files(cert_path: str | Path, key_path: str | Path, passphrase: str = "") -> ClientCredential:
    """A certificate (followed by its chain) and its key from PEM files named in a plugin's settings; the key may be
    encrypted, with ``passphrase`` (a secret setting of the plugin)."""
    try:
        certs = x509.load_pem_x509_certificates(Path(cert_path).read_bytes())
        key_data = Path(key_path).read_bytes()
    except (OSError, ValueError, TypeError, IndexError) as exc:
        raise ValidationError(
            "Le certificat ou sa clé (fichiers PEM indiqués dans les paramètres) est illisible.",
            detail=f"{cert_path}, {key_path}: {exc}",
        ) from exc
    try:
        key = serialization.load_pem_private_key(key_data, password=passphrase.encode() if passphrase else None)
    except TypeError as exc:  # encrypted without a passphrase, or a passphrase for a clear key
        raise ValidationError(
            "La clé du certificat (fichier PEM) est chiffrée : indiquez sa phrase de passe dans les paramètres."
            if not passphrase
            else "La clé du certificat (fichier PEM) n'est pas chiffrée : laissez sa phrase de passe vide.",
            detail=f"{key_path}: {exc}",
        ) from exc
    except ValueError as exc:
        raise ValidationError(
            "La clé du certificat (fichier PEM) est illisible ou sa phrase de passe est fausse.",
            detail=f"{key_path}: {exc}",
        ) from exc
    return ClientCredential(certs[0], key, tuple(certs[1:]))


def pharmacy_credential(
    session: Session,
    pharmacy_id: int,
    *,
    kind: str = ORGANISATION,
    cert_path: str = "",
    key_path: str = "",
    key_passphrase: str = "",
) -> ClientCredential:
    """The one rule every plugin follows: PEM files named in its settings win (development, sandboxes), else the
    certificate of this ``kind`` the administrator stored (French :class:`NotFound` when there is none)."""
    if cert_path:
        return read_pem_files(cert_path, key_path, key_passphrase)
    return load(session, pharmacy_id, kind)


def client_tls_context(credential: ClientCredential, ca_path: str | Path | None = None) -> ssl.SSLContext:
    """The TLS client context of a call to a national service: it presents the credential (mutual TLS), trusts
    ``ca_path`` (the system's authorities when None) and refuses anything older than TLS 1.2. The one place every
    plugin builds it.

    The ssl module reads a key only from a file: it gets a copy encrypted with a one-time password, in a private
    folder removed before returning, so the key never lies on disk in clear and nothing is left behind."""
    context = ssl.create_default_context(cafile=str(ca_path)) if ca_path else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    password = os.urandom(32).hex().encode()
    key_pem = credential.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(password)
    )
    with tempfile.TemporaryDirectory(prefix="lgo-tls-") as folder:
        path = Path(folder) / "credential.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(credential.cert_pem() + key_pem)
        context.load_cert_chain(path, password=password)
    return context


@dataclass(frozen=True)
class TlsEndpoint:
    """A national service reached over mutual TLS: its address, the credential presented and the authorities
    trusted (INSi, ApCV...)."""

    url: str
    credential: ClientCredential
    ca_path: str | None = None
    timeout_seconds: float = 10.0

    def ssl_context(self) -> ssl.SSLContext:
        return client_tls_context(self.credential, self.ca_path)
