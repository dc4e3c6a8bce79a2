"""The pharmacy's certificates (the organisation certificate of the Ségur services: INSi, DMP, MSSanté, ApCV,
ordonnance numérique...), uploaded by an administrator as PKCS#12 with its passphrase.

Both are stored encrypted with :mod:`lgo.secrets`; subject and validity are kept in clear so that the admin page
can warn before expiry without decrypting anything. Plugins get a :class:`ClientCredential` (certificate and key in
memory) from :func:`pharmacy_credential` — the one rule: the certificate stored for that use, else the organisation
certificate — and a TLS context from :func:`client_tls_context`: the key is never written in clear and nobody is
asked for a file path.

Before a certificate is stored, :func:`review` reads it as an administrator would: who it names (organisation,
FINESS), who issued it (an IGC-Santé test or production authority, someone else, nobody), and what is wrong for
this pharmacy. A certificate with warnings is stored only once they were shown and accepted (``accept_warnings``).
"""

from __future__ import annotations

import base64
import functools
import os
import re
import ssl
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo import secrets
from lgo.db import Base, UTCDateTime, utcnow
from lgo.domain import audit
from lgo.errors import NotFound, ValidationError
from lgo.local_time import date_fr
from lgo.xml_signature import Signer

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
        date = date_fr(self.not_after)
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


#: An operator's own signing credential (a CPS unlocked with its PIN): the one signer shape of
#: :mod:`lgo.xml_signature` (certificate PEM and a ``cryptography`` private key whose operations may happen on a card).
OperatorSigner = Signer


#: French words for the attributes of a certificate's subject or issuer (the rest is shown by its OID).
_ATTRIBUTE_LABELS_FR = {
    NameOID.COMMON_NAME: "nom",
    NameOID.ORGANIZATION_NAME: "organisation",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "unité",
    NameOID.GIVEN_NAME: "prénom",
    NameOID.SURNAME: "nom de famille",
    NameOID.TITLE: "profession",
    NameOID.LOCALITY_NAME: "commune",
    NameOID.STATE_OR_PROVINCE_NAME: "département",
    NameOID.COUNTRY_NAME: "pays",
    NameOID.EMAIL_ADDRESS: "adresse électronique",
    NameOID.SERIAL_NUMBER: "numéro",
}

#: The IGC-Santé's certification authorities (``[TEST ]AC [RACINE ]IGC-SANTE <level> [<population>]``): the
#: ANS's PKI for health, whose test branch serves the national test platforms.
_IGC_SANTE = re.compile(r"^(TEST )?AC (RACINE )?IGC-SANTE (ELEMENTAIRE|STANDARD|FORTE)( [A-Z -]+)?$")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())


def parse_name(rfc4514: str) -> x509.Name | None:
    """A subject or issuer as stored (RFC 4514), or None when it cannot be read back."""
    try:
        return x509.Name.from_rfc4514_string(rfc4514)
    except ValueError:
        return None


def _values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def finess_of(name: x509.Name) -> str | None:
    """The FINESS an IGC-Santé organisation certificate carries in an ``OU`` (alone, or as the national structure
    identifier ``1`` + FINESS)."""
    from lgo.domain.pharmacy import check_finess

    for unit in _values(name, NameOID.ORGANIZATIONAL_UNIT_NAME):
        candidate = unit.strip()
        if len(candidate) == 10 and candidate.startswith("1"):
            candidate = candidate[1:]
        try:
            return check_finess(candidate)
        except ValidationError:
            continue
    return None


def describe_name(rfc4514: str) -> str:
    """A subject or issuer in words (``organisation PHARMACIE X, unité 999000011, nom INSI-AUTO``), never
    ``2.5.4.42=…``."""
    name = parse_name(rfc4514)
    if name is None:
        return rfc4514
    parts = []
    for attribute in name:  # in the certificate's order (country first)
        label = _ATTRIBUTE_LABELS_FR.get(attribute.oid, attribute.oid.dotted_string)
        value = attribute.value.decode(errors="replace") if isinstance(attribute.value, bytes) else attribute.value
        parts.append(f"{label} {value}")
    return ", ".join(parts)


@dataclass(frozen=True)
class CertificateReview:
    """A certificate read as the administrator must see it before it is used: who it names, who issued it, and
    what is wrong for this pharmacy (``warnings``, French sentences; none for an IGC-Santé certificate of the
    pharmacy's FINESS and mode)."""

    holder_fr: str
    organisation: str | None
    finess: str | None
    common_name: str | None
    issuer_fr: str
    #: "igc-sante-test", "igc-sante" (production), "self-signed" or "other".
    authority: str
    warnings: tuple[str, ...]

    @property
    def authority_fr(self) -> str:
        return {
            "igc-sante-test": "IGC-Santé, autorité de test",
            "igc-sante": "IGC-Santé, autorité de production",
            "self-signed": "aucune (certificat auto-signé)",
        }.get(self.authority, "autorité inconnue (hors IGC-Santé)")


def review(
    subject: str,
    issuer: str,
    *,
    pharmacy_finess: str | None,
    test_mode: bool,
    expects_finess: bool = True,
) -> CertificateReview:
    """Read a certificate's subject and issuer (RFC 4514, as stored) for a pharmacy; ``expects_finess`` is False for a
    person's certificate (a pharmacist's own, which names no structure)."""
    name = parse_name(subject) or x509.Name([])
    issuer_name = parse_name(issuer) or x509.Name([])
    organisation = next(iter(_values(name, NameOID.ORGANIZATION_NAME)), None)
    common_name = next(iter(_values(name, NameOID.COMMON_NAME)), None)
    finess = finess_of(name)
    issuer_common_name = next(iter(_values(issuer_name, NameOID.COMMON_NAME)), "")
    issuer_cn = _plain(issuer_common_name)
    warnings: list[str] = []
    if subject == issuer:
        authority = "self-signed"
        warnings.append(
            "Certificat auto-signé : aucune autorité ne l'a émis, les services nationaux le refuseront. Déposez le "
            "certificat délivré par l'IGC-Santé (ANS)."
        )
    elif match := _IGC_SANTE.match(issuer_cn):
        authority = "igc-sante-test" if match.group(1) else "igc-sante"
        if test_mode and authority == "igc-sante":
            warnings.append(
                "Certificat de production alors que l'officine est en mode test : les plateformes de test le "
                "refuseront."
            )
        if not test_mode and authority == "igc-sante-test":
            warnings.append(
                "Certificat de test (IGC-Santé de test) alors que l'officine est en production : les services "
                "nationaux le refuseront."
            )
    else:
        authority = "other"
        warnings.append(
            f"L'émetteur ({issuer_common_name or describe_name(issuer)}) n'est pas une autorité de l'IGC-Santé, ni "
            "de test ni de production : les services nationaux refuseront probablement ce certificat."
        )
    if expects_finess:
        if finess is None:
            warnings.append("Aucun numéro FINESS n'est lisible dans ce certificat.")
        elif pharmacy_finess and finess != pharmacy_finess:
            warnings.append(
                f"Le FINESS du certificat ({finess}) n'est pas celui de l'officine ({pharmacy_finess}) : les "
                "services nationaux rattacheront les échanges à l'autre établissement ou les refuseront."
            )
    holder = ", ".join(
        part
        for part in (
            organisation,
            f"FINESS {finess}" if finess else None,
            common_name if common_name != organisation else None,
        )
        if part
    )
    return CertificateReview(
        holder_fr=holder or describe_name(subject),
        organisation=organisation,
        finess=finess,
        common_name=common_name,
        issuer_fr=issuer_common_name or describe_name(issuer),
        authority=authority,
        warnings=tuple(warnings),
    )


class CertificateNeedsConfirmation(ValidationError):
    """The certificate is readable but has warnings the administrator has not accepted yet."""

    def __init__(self, checked: CertificateReview) -> None:
        super().__init__(
            "Ce certificat demande votre attention : "
            + " ".join(checked.warnings)
            + " Pour l'enregistrer quand même, confirmez avoir lu ces avertissements.",
            detail=f"certificate with {len(checked.warnings)} unaccepted warning(s): {checked.holder_fr}",
        )
        self.review = checked


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
    accept_warnings: bool = False,
    expects_finess: bool = True,
) -> StoredCertificate:
    """Check and store (replacing the previous one of this kind) a PKCS#12 certificate, encrypted.

    A certificate whose :func:`review` has warnings (self-signed, not IGC-Santé, another FINESS, test certificate in
    production...) raises :class:`CertificateNeedsConfirmation` unless ``accept_warnings``: the caller shows them and
    asks again. Accepted warnings are kept in the audit log."""
    from lgo.domain.pharmacy import Pharmacy

    content = read_pkcs12(data, passphrase)
    cert = content.certificate
    pharmacy = session.get(Pharmacy, pharmacy_id)
    checked = review(
        cert.subject.rfc4514_string(),
        cert.issuer.rfc4514_string(),
        pharmacy_finess=pharmacy.finess if pharmacy else None,
        test_mode=bool(pharmacy and pharmacy.test_mode),
        expects_finess=expects_finess,
    )
    if checked.warnings and not accept_warnings:
        raise CertificateNeedsConfirmation(checked)
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
        f"Certificat « {kind} » enregistré : {checked.holder_fr}, émis par {checked.issuer_fr} "
        f"({row.expiry().text_fr})."
        + (f" Avertissements acceptés : {' '.join(checked.warnings)}" if checked.warnings else ""),
        operator_id=operator_id,
        object_type="certificate",
        object_id=kind,
        details={"serial_number": row.serial_number, "warnings": list(checked.warnings)},
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
            "(onglet « Certificat »).",
            detail=f"no stored certificate of kind {kind!r} in pharmacy {pharmacy_id}",
        )
    data = base64.b64decode(secrets.decrypt(row.pkcs12_encrypted))
    passphrase = secrets.decrypt(row.passphrase_encrypted)
    content = read_pkcs12(data, passphrase)
    return ClientCredential(content.certificate, content.private_key, content.chain)


def read_pem_files(cert_path: str | Path, key_path: str | Path, passphrase: str = "") -> ClientCredential:
    """A certificate (followed by its chain) and its key from PEM files named in a plugin's settings; the key may be
    encrypted, with ``passphrase`` (a secret setting of the plugin). Read once per process while the files stay the
    same: loading a key checks it, which costs a worker more than the call it is loaded for."""
    try:
        stamp = tuple(value for path in (cert_path, key_path) for value in _stamp(Path(path)))
    except OSError as exc:
        raise ValidationError(
            "Le certificat ou sa clé (fichiers PEM indiqués dans les paramètres) est illisible.",
            detail=f"{cert_path}, {key_path}: {exc}",
        ) from exc
    return _read_pem_files(str(cert_path), str(key_path), passphrase, stamp)


def _stamp(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns, status.st_size


@functools.lru_cache(maxsize=32)
def _read_pem_files(cert_path: str, key_path: str, passphrase: str, _stamp: tuple[int, ...]) -> ClientCredential:
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


def pharmacy_credential(session: Session, pharmacy_id: int, *, kind: str = ORGANISATION) -> ClientCredential:
    """The one rule every plugin follows: the certificate the administrator stored for this use (``kind``, e.g.
    ``"insi"``, declared by the plugin with ``lgo_register_certificate_usages``), else the pharmacy's organisation
    certificate (French :class:`NotFound` when there is none). Never a file named in settings."""
    if kind != ORGANISATION and get(session, pharmacy_id, kind) is not None:
        return load(session, pharmacy_id, kind)
    return load(session, pharmacy_id, ORGANISATION)


def client_tls_context(credential: ClientCredential, ca_path: str | Path | None = None) -> ssl.SSLContext:
    """The TLS client context of a call to a national service: it presents the credential (mutual TLS), trusts
    ``ca_path`` (the system's authorities when None) **and the authorities of the credential's own chain**, and
    refuses anything older than TLS 1.2. The one place every plugin builds it; built once per process for the same
    credential and authorities (a context serves any number of connections, and building one costs tens of
    milliseconds).

    The chain matters because the national services (INSi, DMP, MSSanté operators) present server certificates of
    the same IGC-Santé hierarchy as the pharmacy's certificate, which no system trust store holds: the PKCS#12 the
    administrator uploaded carries those authorities, so nothing else needs configuring (test or production alike).

    The ssl module reads a key only from a file: it gets a copy encrypted with a one-time password, in a private
    folder removed before returning, so the key never lies on disk in clear and nothing is left behind."""
    public = credential.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    identity = (
        credential.cert_pem(),
        public,
        str(ca_path) if ca_path else "",
        _stamp(Path(ca_path)) if ca_path else (),
    )
    with _contexts_lock:
        context = _contexts.get(identity)
        if context is None:
            context = _contexts[identity] = _new_tls_context(credential, ca_path)
            while len(_contexts) > 32:
                _contexts.pop(next(iter(_contexts)))
    return context


_contexts: dict[tuple[object, ...], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def _new_tls_context(credential: ClientCredential, ca_path: str | Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_path)) if ca_path else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    authorities = [c for c in credential.chain if _is_authority(c)]
    if authorities:
        context.load_verify_locations(
            cadata="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in authorities)
        )
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


def _is_authority(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


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
