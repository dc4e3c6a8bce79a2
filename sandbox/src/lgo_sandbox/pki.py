"""A local test certificate authority shaped like the IGC-Santé TEST hierarchy.

Everything is generated on first use into a directory (a test's tmp dir, or ``LGO_HOME/sandbox-pki`` for the demo)
and reused afterwards: no key is ever committed. Subjects follow the shapes the national services check:

* organisation certificates (``CN=INSI-AUTO`` / ``INSI-MANU`` for INSi, the FINESS in ``OU``) for mutual TLS and
  the signed VIHF;
* person certificates shaped like a CPS (``CN`` = idNat ``8`` + RPPS, given name, surname, profession in ``title``);
* server certificates for ``localhost`` / ``127.0.0.1``.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from lgo.domain.certificates import ClientCredential
    from lgo.kernel import Kernel

_LOCK = threading.Lock()
_KEY_SIZE = 2048


@dataclass(frozen=True)
class Credential:
    """A certificate and its private key on disk (PEM), with the chain up to the test root."""

    name: str
    cert_path: Path
    key_path: Path
    ca_path: Path

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    @property
    def cert_pem(self) -> bytes:
        return self.cert_path.read_bytes()

    @property
    def key_pem(self) -> bytes:
        return self.key_path.read_bytes()

    def client(self) -> ClientCredential:
        """The credential as the plugins hold it (in memory), for an endpoint built by a test or the demo."""
        from lgo.domain.certificates import read_pem_files

        return read_pem_files(self.cert_path, self.key_path)

    def pkcs12(self, passphrase: str) -> bytes:
        """The credential as a PKCS#12 file protected by ``passphrase`` (what an administrator uploads)."""
        ca = x509.load_pem_x509_certificate(self.ca_path.read_bytes())
        return pkcs12.serialize_key_and_certificates(
            self.name.encode(),
            self.private_key,
            self.certificate,
            [ca],
            serialization.BestAvailableEncryption(passphrase.encode()),
        )

    def store_for(self, kernel: Kernel, pharmacy_id: int, *, kind: str = "organisation") -> None:
        """Upload this credential into the pharmacy's certificate store, as an administrator does on the
        « Certificat » page (the plugins then find it by the one rule; the test root comes along in the chain).
        Its warnings are accepted: a sandbox certificate need not carry the pharmacy's FINESS."""
        from lgo.domain import certificates

        with kernel.transaction() as session:
            certificates.store(
                session, pharmacy_id, self.pkcs12("bac-a-sable"), "bac-a-sable", kind=kind, accept_warnings=True
            )

    def client_context(self, *, verify: bool = True) -> ssl.SSLContext:
        """A client TLS context presenting this certificate and trusting the test root."""
        context = (
            ssl.create_default_context(cafile=str(self.ca_path)) if verify else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        )
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


class TestAuthority:
    """The test root CA and the credentials it issues, cached in ``directory``."""

    __test__ = False  # not a pytest test class

    #: Named like the IGC-Santé's test authority for organisations, so that the LGO reads its certificates as it
    #: reads real test ones (an IGC-Santé test certificate); the organisation below tells it apart.
    ROOT_NAME = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_path = self.directory / "ca.pem"
        self._ca_key_path = self.directory / "ca.key"
        with _LOCK:
            if not self.ca_path.exists():
                self._create_root()

    # -- root -------------------------------------------------------------------------------------------------

    def _create_root(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "LGO LIBRE TEST"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "IGC-SANTE TEST"),
                x509.NameAttribute(NameOID.COMMON_NAME, self.ROOT_NAME),
            ]
        )
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self._ca_key_path, _key_pem(key))
        self.ca_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    @property
    def ca_certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.ca_path.read_bytes())

    def _ca_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self._ca_key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    # -- issuing ----------------------------------------------------------------------------------------------

    def issue(
        self,
        name: str,
        subject: x509.Name,
        *,
        server_names: tuple[str, ...] = (),
        client: bool = True,
        server: bool = False,
        days: int = 365,
        not_before: dt.datetime | None = None,
        email: str | None = None,
    ) -> Credential:
        """Issue (or reuse) the credential called ``name``. ``not_before``/``days`` allow expired certificates."""
        cert_path = self.directory / f"{name}.pem"
        key_path = self.directory / f"{name}.key"
        with _LOCK:
            if cert_path.exists() and key_path.exists():
                return Credential(name, cert_path, key_path, self.ca_path)
            key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)
            start = not_before or (_now() - dt.timedelta(hours=1))
            usages = []
            if client:
                usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
            if server:
                usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
            if email:
                usages.append(ExtendedKeyUsageOID.EMAIL_PROTECTION)
            builder = (
                x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(self.ca_certificate.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start)
                .not_valid_after(start + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=True,
                        key_encipherment=True,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=False,
                        crl_sign=False,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(
                        self.ca_certificate.public_key()  # type: ignore[arg-type]
                    ),
                    critical=False,
                )
            )
            if usages:
                builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            alt_names: list[x509.GeneralName] = []
            for host in server_names:
                alt_names.append(_general_name(host))
            if email:
                alt_names.append(x509.RFC822Name(email))
            if alt_names:
                builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            cert = builder.sign(self._ca_key(), hashes.SHA256())
            _write_private(key_path, _key_pem(key))
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            return Credential(name, cert_path, key_path, self.ca_path)

    def server(self, name: str = "server", hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Credential:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "LGO LIBRE TEST"),
                x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
            ]
        )
        return self.issue(f"server-{name}", subject, server_names=hosts, client=False, server=True)

    def organisation(
        self,
        common_name: str = "INSI-AUTO",
        *,
        finess: str = "999000011",
        organisation: str = "PHARMACIE DU BAC A SABLE",
        days: int = 365,
        not_before: dt.datetime | None = None,
        tag: str = "",
    ) -> Credential:
        """An organisation (personne morale) certificate: ``CN`` is the usage (INSI-AUTO, INSI-MANU, the
        structure's name for the DMP), ``OU`` carries the FINESS as the IGC-Santé does."""
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, finess),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        return self.issue(
            f"org-{common_name}-{finess}{tag}".replace(" ", "_"), subject, days=days, not_before=not_before
        )

    def person(
        self,
        rpps: str,
        *,
        given_name: str,
        surname: str,
        profession: str = "Pharmacien",
        email: str | None = None,
        tag: str = "",
    ) -> Credential:
        """A person certificate shaped like a CPS: ``CN`` is the national id ``8`` + RPPS."""
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.TITLE, profession),
                x509.NameAttribute(NameOID.GIVEN_NAME, given_name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"8{rpps}"),
                x509.NameAttribute(NameOID.SURNAME, surname),
            ]
        )
        return self.issue(f"person-8{rpps}{tag}", subject, email=email)


def server_context(credential: Credential, *, require_client_certificate: bool = True) -> ssl.SSLContext:
    """A TLS server context for ``credential`` that (by default) requires a client certificate of the test root."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(credential.cert_path, credential.key_path)
    context.load_verify_locations(cafile=str(credential.ca_path))
    context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    return context


def common_name(certificate: x509.Certificate) -> str | None:
    values = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def _general_name(host: str) -> x509.GeneralName:
    import ipaddress

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
