"""The organisation certificate store: PKCS#12 checked, stored encrypted, expiry known, readable by plugins."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lgo.demo_data import Seeded
from lgo.domain import certificates
from lgo.domain.audit import recent
from lgo.errors import NotFound, ValidationError
from lgo.kernel import Kernel


def make_pkcs12(passphrase: str, *, days: int = 365, name: str = "PHARMACIE DES TESTS") -> bytes:
    key, cert = _self_signed(name, days=days)
    return pkcs12.serialize_key_and_certificates(
        b"org", key, cert, None, serialization.BestAvailableEncryption(passphrase.encode())
    )


def test_store_encrypted_then_load_for_plugins(lgo_kernel: Kernel, lgo_seeded: Seeded, tmp_path: Path) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    data = make_pkcs12("phrase-secrète", days=20)
    with lgo_kernel.transaction() as session:
        with pytest.raises(NotFound, match="Aucun certificat d'organisation"):
            certificates.load(session, pharmacy)
        with pytest.raises(ValidationError, match="mot de passe incorrect"):
            certificates.store(session, pharmacy, data, "mauvaise")
        with pytest.raises(ValidationError, match="invalide"):
            certificates.store(session, pharmacy, b"pas un certificat", "x")
        row = certificates.store(session, pharmacy, data, "phrase-secrète", accept_warnings=True)  # self-signed
        assert row.subject == "CN=PHARMACIE DES TESTS"
        assert "phrase-secrète" not in row.passphrase_encrypted and row.pkcs12_encrypted.startswith("enc:v1:")
        expiry = row.expiry()
        assert expiry.expiring_soon and not expiry.expired and "renouvelez-le" in expiry.text_fr
        assert recent(session, pharmacy, 1)[0].action == "certificate.stored"

    with lgo_kernel.transaction() as session:
        credential = certificates.load(session, pharmacy)
    assert credential.certificate.subject.rfc4514_string() == "CN=PHARMACIE DES TESTS"
    assert credential.private_key.public_key() == credential.certificate.public_key()
    assert credential.cert_pem().startswith(b"-----BEGIN CERTIFICATE-----")

    with lgo_kernel.transaction() as session:  # a new upload replaces the previous one
        certificates.store(session, pharmacy, make_pkcs12("autre", name="NOUVEAU"), "autre", accept_warnings=True)
    with lgo_kernel.transaction() as session:
        stored = certificates.get(session, pharmacy)
        assert stored is not None and stored.subject == "CN=NOUVEAU" and not stored.expiry().expiring_soon


def test_expiry_wording() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert certificates.Expiry.of(now - timedelta(days=1), now).text_fr == "expiré depuis le 23/11/2026"
    assert certificates.Expiry.of(now + timedelta(days=200), now).text_fr == "valide jusqu'au 12/06/2027"


def _self_signed(
    name: str, *, days: int = 30, ip: str | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return key, builder.sign(key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def test_the_stored_certificate_is_presented_over_mutual_tls_without_a_clear_key_on_disk(
    lgo_kernel: Kernel, lgo_seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real TLS server on loopback requires the client certificate; the ssl module only ever sees an encrypted
    copy of the key, in a folder that is gone once the context exists."""
    import socket
    import ssl
    import tempfile
    import threading

    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        certificates.store(session, pharmacy, make_pkcs12("phrase"), "phrase", accept_warnings=True)
        credential = certificates.pharmacy_credential(session, pharmacy)
    server_key, server_cert = _self_signed("127.0.0.1", ip="127.0.0.1")
    (tmp_path / "server.pem").write_bytes(_pem(server_cert))
    (tmp_path / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server_context.load_verify_locations(cadata=_pem(credential.certificate).decode())
    server_context.verify_mode = ssl.CERT_REQUIRED

    seen_by_ssl: list[bytes] = []

    class RecordingContext(ssl.SSLContext):
        def load_cert_chain(self, certfile, keyfile=None, password=None):  # type: ignore[no-untyped-def]
            seen_by_ssl.append(Path(certfile).read_bytes())
            super().load_cert_chain(certfile, keyfile, password)

    def recording_default_context(*, cafile: str | None = None) -> ssl.SSLContext:
        context = RecordingContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=cafile)
        return context

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(ssl, "create_default_context", recording_default_context)
    client_context = certificates.client_tls_context(credential, tmp_path / "server.pem")
    assert list(scratch.iterdir()) == []
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in seen_by_ssl[0] and b"BEGIN PRIVATE KEY" not in seen_by_ssl[0]

    listener = socket.create_server(("127.0.0.1", 0))
    peer: list[str] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with server_context.wrap_socket(connection, server_side=True) as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])  # type: ignore[index]
            peer.append(str(subject["commonName"]))
            tls.sendall(b"ok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.recv(2) == b"ok"
    thread.join(5)
    listener.close()
    assert peer == ["PHARMACIE DES TESTS"]


def test_a_use_takes_its_own_certificate_else_the_organisation_one_and_never_files(
    lgo_kernel: Kernel, lgo_seeded: Seeded, tmp_path: Path
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        with pytest.raises(NotFound, match="Aucun certificat"):
            certificates.pharmacy_credential(session, pharmacy, kind="insi")
        certificates.store(session, pharmacy, make_pkcs12("p", name="ORGANISATION"), "p", accept_warnings=True)
        assert certificates.pharmacy_credential(
            session, pharmacy, kind="insi"
        ).certificate.subject.rfc4514_string() == ("CN=ORGANISATION")
        certificates.store(
            session, pharmacy, make_pkcs12("q", name="INSI-AUTO"), "q", kind="insi", accept_warnings=True
        )
        assert certificates.pharmacy_credential(
            session, pharmacy, kind="insi"
        ).certificate.subject.rfc4514_string() == ("CN=INSI-AUTO")
        assert certificates.pharmacy_credential(session, pharmacy).certificate.subject.rfc4514_string() == (
            "CN=ORGANISATION"
        )
    assert "cert_path" not in inspect.signature(certificates.pharmacy_credential).parameters


def test_unreadable_pem_files_are_refused_in_french(tmp_path: Path) -> None:
    """PEM files remain for the sandboxes' own credentials; a bad one gets a French message."""
    with pytest.raises(ValidationError, match="illisible") as refused:
        certificates.read_pem_files(tmp_path / "absent.pem", tmp_path / "key.pem")
    assert "absent.pem" in refused.value.detail


def test_pem_files_and_tls_contexts_are_read_once_until_the_files_change(tmp_path: Path) -> None:
    """A worker sends thousands of documents with one certificate: it is read and its TLS context built once, and a
    renewed certificate (new files) is taken at the next call."""
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"

    def write(name: str) -> x509.Certificate:
        key, cert = _self_signed(name)
        cert_path.write_bytes(_pem(cert))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert

    first = write("AVANT RENOUVELLEMENT")
    credential = certificates.read_pem_files(cert_path, key_path)
    assert certificates.read_pem_files(cert_path, key_path) is credential
    context = certificates.client_tls_context(credential, cert_path)
    assert certificates.client_tls_context(certificates.read_pem_files(cert_path, key_path), cert_path) is context

    renewed = write("APRES RENOUVELLEMENT")
    assert renewed != first
    again = certificates.read_pem_files(cert_path, key_path)
    assert again.certificate == renewed
    assert certificates.client_tls_context(again, cert_path) is not context
