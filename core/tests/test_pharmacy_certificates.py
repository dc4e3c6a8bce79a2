"""The organisation certificate store: PKCS#12 checked, stored encrypted, expiry known, readable by plugins."""

from __future__ import annotations

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
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256())
    )
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
        row = certificates.store(session, pharmacy, data, "phrase-secrète")
        assert row.subject == "CN=PHARMACIE DES TESTS"
        assert "phrase-secrète" not in row.passphrase_encrypted and row.pkcs12_encrypted.startswith("enc:v1:")
        expiry = row.expiry()
        assert expiry.expiring_soon and not expiry.expired and "renouvelez-le" in expiry.text_fr
        assert recent(session, pharmacy, 1)[0].action == "certificate.stored"

    with lgo_kernel.transaction() as session:
        credential = certificates.load(session, pharmacy)
        cert_path, key_path = certificates.write_pem(credential, tmp_path / "pem")
    assert credential.passphrase == "phrase-secrète" and credential.pkcs12 == data
    assert cert_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert key_path.stat().st_mode & 0o777 == 0o600

    with lgo_kernel.transaction() as session:  # a new upload replaces the previous one
        certificates.store(session, pharmacy, make_pkcs12("autre", name="NOUVEAU"), "autre")
    with lgo_kernel.transaction() as session:
        stored = certificates.get(session, pharmacy)
        assert stored is not None and stored.subject == "CN=NOUVEAU" and not stored.expiry().expiring_soon


def test_expiry_wording() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert certificates.Expiry.of(now - timedelta(days=1), now).text_fr == "expiré depuis le 23/11/2026"
    assert certificates.Expiry.of(now + timedelta(days=200), now).text_fr == "valide jusqu'au 12/06/2027"
