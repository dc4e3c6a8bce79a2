"""A certificate is read as an administrator must see it before it is used: in words, with warnings for a
self-signed one, one not issued by the IGC-Santé, another FINESS, or a test certificate in production — and it is
stored only once those warnings were accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lgo.demo_data import FINESS, Seeded
from lgo.domain import certificates
from lgo.domain.audit import recent
from lgo.domain.pharmacy import Pharmacy
from lgo.kernel import Kernel

OTHER_FINESS = "999000011"


def _name(**attributes: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
        "GN": NameOID.GIVEN_NAME,
        "SN": NameOID.SURNAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attributes.items()])


def _certificate(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def issued_pkcs12(authority: str, *, finess: str, passphrase: str = "p12") -> bytes:
    """An organisation certificate (FINESS in OU, as the IGC-Santé issues them) and its authority in the chain."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(C="FR", O="ASIP-SANTE", OU="IGC-SANTE TEST", CN=authority)
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    leaf = _certificate(
        _name(C="FR", O="PHARMACIE DES TILLEULS", OU=finess, CN="INSI-AUTO"), ca_name, key, ca_key, False
    )
    return pkcs12.serialize_key_and_certificates(
        b"org", key, leaf, [ca], serialization.BestAvailableEncryption(passphrase.encode())
    )


def self_signed_pkcs12(passphrase: str = "p12") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(O="PHARMACIE DES TILLEULS", OU=FINESS, CN="FAIT MAISON")
    cert = _certificate(name, name, key, key, ca=False)
    return pkcs12.serialize_key_and_certificates(
        b"org", key, cert, None, serialization.BestAvailableEncryption(passphrase.encode())
    )


def test_subjects_are_read_in_words_never_as_oids() -> None:
    person = _name(C="FR", GN="Claire", SN="DURAND", CN="899900012345")
    words = certificates.describe_name(person.rfc4514_string())
    assert "2.5.4.42=" in person.rfc4514_string() and "2.5.4." not in words
    assert words == "pays FR, prénom Claire, nom de famille DURAND, nom 899900012345"
    checked = certificates.review(
        _name(O="PHARMACIE X", OU=f"1{FINESS}", CN="INSI-AUTO").rfc4514_string(),
        _name(CN="AC IGC-SANTE ELEMENTAIRE ORGANISATIONS").rfc4514_string(),
        pharmacy_finess=FINESS,
        test_mode=False,
    )
    assert checked.holder_fr == f"PHARMACIE X, FINESS {FINESS}, INSI-AUTO"
    assert checked.authority == "igc-sante" and checked.warnings == ()


@pytest.mark.parametrize(
    ("authority", "finess", "test_mode", "expected"),
    [
        ("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", FINESS, True, ()),
        ("AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", FINESS, False, ()),
        ("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", OTHER_FINESS, True, ("n'est pas celui de l'officine",)),
        ("AC MAISON DE CERTIFICATION", FINESS, True, ("n'est pas une autorité de l'IGC-Santé",)),
        ("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", FINESS, False, ("Certificat de test",)),
        ("AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", FINESS, True, ("Certificat de production",)),
    ],
)
def test_warnings_by_issuer_finess_and_mode(
    authority: str, finess: str, test_mode: bool, expected: tuple[str, ...]
) -> None:
    checked = certificates.review(
        _name(O="PHARMACIE", OU=finess, CN="INSI-AUTO").rfc4514_string(),
        _name(C="FR", CN=authority).rfc4514_string(),
        pharmacy_finess=FINESS,
        test_mode=test_mode,
    )
    assert len(checked.warnings) == len(expected)
    for fragment, warning in zip(expected, checked.warnings, strict=True):
        assert fragment in warning


def test_a_self_signed_or_wrong_finess_certificate_is_stored_only_with_its_warnings_accepted(
    lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        assert session.get(Pharmacy, pharmacy).test_mode  # type: ignore[union-attr]
    for data, fragment in (
        (self_signed_pkcs12(), "Certificat auto-signé"),
        (issued_pkcs12("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", finess=OTHER_FINESS), f"({OTHER_FINESS})"),
    ):
        with lgo_kernel.transaction() as session:
            with pytest.raises(certificates.CertificateNeedsConfirmation, match="demande votre attention") as held:
                certificates.store(session, pharmacy, data, "p12")
            assert any(fragment in w for w in held.value.review.warnings)
            assert certificates.get(session, pharmacy) is None  # nothing written
        with lgo_kernel.transaction() as session:
            certificates.store(session, pharmacy, data, "p12", accept_warnings=True, operator_id=None)
            entry = recent(session, pharmacy, 1)[0]
            assert entry.action == "certificate.stored" and "Avertissements acceptés" in entry.message_fr
            assert fragment in entry.message_fr and entry.details["warnings"]
            session.delete(certificates.get(session, pharmacy))
    with lgo_kernel.transaction() as session:  # the right one needs no confirmation
        stored = certificates.store(
            session, pharmacy, issued_pkcs12("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", finess=FINESS), "p12"
        )
        assert "CN=INSI-AUTO" in stored.subject


def test_the_authorities_of_the_certificate_chain_are_trusted_for_the_services(
    lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    """The national services present server certificates of the IGC-Santé, which no system store holds: the chain
    uploaded with the pharmacy's certificate is trusted, and the pharmacy's own certificate is not an authority."""
    pharmacy = lgo_seeded.pharmacy_id
    data = issued_pkcs12("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", finess=FINESS)
    with lgo_kernel.transaction() as session:
        certificates.store(session, pharmacy, data, "p12")
        credential = certificates.pharmacy_credential(session, pharmacy)
    context = certificates.client_tls_context(credential)
    trusted = {tuple(sorted(dict(x[0] for x in c["subject"]).items())) for c in context.get_ca_certs()}
    assert any(dict(t).get("commonName") == "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" for t in trusted)
    assert not any(dict(t).get("commonName") == "INSI-AUTO" for t in trusted)
