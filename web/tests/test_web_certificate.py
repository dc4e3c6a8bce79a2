"""« Certificat »: a self-signed certificate, or one of another FINESS, is stored only after its warnings were shown
and confirmed; the right one is stored at once and described in words; a use declared by a plugin gets its slot."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lgo.demo_data import FINESS, PASSWORD, Seeded
from lgo.domain import certificates
from lgo.kernel import Kernel
from web_fakes import csrf_token, sign_in, text

pytestmark = pytest.mark.parametrize("lgo_backend", ["sqlite"])


def self_signed(passphrase: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PHARMACIE DES TILLEULS"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, FINESS),
            x509.NameAttribute(NameOID.COMMON_NAME, "FAIT MAISON"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"org", key, cert, None, serialization.BestAvailableEncryption(passphrase.encode())
    )


def upload(client: Any, data: bytes, passphrase: str, usage: str = "organisation") -> Any:
    token = csrf_token(client.get("/certificat").get_data(as_text=True))
    return client.post(
        "/certificat",
        data={"csrf_token": token, "usage": usage, "passphrase": passphrase, "file": (io.BytesIO(data), "c.p12")},
        content_type="multipart/form-data",
    )


def confirm(client: Any, page: Any, accept: bool, *, own_token: bool = False) -> Any:
    html = page.get_data(as_text=True)
    pending = re.search(r'name="pending"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="pending"', html
    )
    assert pending, "no pending certificate in the confirmation form"
    form = re.search(r'<form method="post" action="/certificat/confirmer">(.*?)</form>', html, re.S)
    assert form is not None
    token = csrf_token(client.get("/certificat").get_data(as_text=True)) if own_token else csrf_token(form.group(1))
    data = {"csrf_token": token, "pending": pending.group(1)}
    if accept:
        data["accept"] = "y"
    return client.post("/certificat/confirmer", data=data, follow_redirects=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("self-signed", "Certificat auto-signé"),
        ("wrong FINESS", "Le FINESS du certificat (999000011) n'est pas celui de l'officine"),
    ],
)
def test_a_doubtful_certificate_is_stored_only_once_its_warnings_are_confirmed(
    name: str, expected: str, web_client: Any, web_kernel: Kernel, web_seeded: Seeded, tmp_path: Any
) -> None:
    from lgo_sandbox.pki import TestAuthority

    pharmacy = web_seeded.pharmacy_id
    data = (
        self_signed("p12")
        if name == "self-signed"
        else TestAuthority(tmp_path / "pki").organisation("INSI-AUTO", finess="999000011").pkcs12("p12")
    )
    sign_in(web_client, "titulaire", PASSWORD)
    held = upload(web_client, data, "p12")
    page = text(held)
    assert held.status_code == 200 and "Ce certificat demande votre attention" in page and expected in page
    assert "Enregistrer malgré les avertissements" in page and "Certificat enregistré" not in page
    with web_kernel.transaction() as db:
        assert certificates.get(db, pharmacy) is None  # nothing stored before the confirmation

    unticked = confirm(web_client, held, accept=False)
    assert "Cochez la case pour confirmer" in text(unticked)
    with web_kernel.transaction() as db:
        assert certificates.get(db, pharmacy) is None

    stored = text(confirm(web_client, held, accept=True))
    assert "Certificat enregistré" in stored and expected in stored  # the warning stays on the page
    with web_kernel.transaction() as db:
        assert certificates.get(db, pharmacy) is not None


def test_the_confirmation_of_another_session_or_a_forged_one_is_refused(
    web_app: Any, web_kernel: Kernel, web_seeded: Seeded
) -> None:
    from web_fakes import https_client

    titulaire, admin = https_client(web_app), https_client(web_app)
    sign_in(titulaire, "titulaire", PASSWORD)
    sign_in(admin, "admin", PASSWORD)
    held = upload(titulaire, self_signed("p12"), "p12")
    other = text(confirm(admin, held, accept=True, own_token=True))
    assert "La confirmation a expiré" in other
    forged = admin.post(
        "/certificat/confirmer",
        data={"csrf_token": csrf_token(admin.get("/certificat").get_data(as_text=True)), "pending": "x", "accept": "y"},
        follow_redirects=True,
    )
    assert "La confirmation a expiré" in text(forged)
    with web_kernel.transaction() as db:
        assert certificates.get(db, web_seeded.pharmacy_id) is None


def test_the_right_certificate_is_stored_at_once_and_described_in_words(
    web_client: Any, web_kernel: Kernel, web_seeded: Seeded, tmp_path: Any
) -> None:
    from lgo_sandbox.pki import TestAuthority

    sign_in(web_client, "titulaire", PASSWORD)
    good = TestAuthority(tmp_path / "pki").organisation(
        "INSI-AUTO", finess=FINESS, organisation="PHARMACIE DES TILLEULS"
    )
    done = upload(web_client, good.pkcs12("p12"), "p12")
    assert done.status_code == 302
    page = text(web_client.get("/certificat"))
    assert f"PHARMACIE DES TILLEULS, FINESS {FINESS}, INSI-AUTO" in page and "Ce certificat demande" not in page
    assert "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" in page and "IGC-Santé, autorité de test" in page
    assert "CN=" not in page and "2.5.4." not in page and "UTC" not in page
