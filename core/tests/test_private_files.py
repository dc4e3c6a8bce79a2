"""Files private to their user (issue 16): the data folder created 0700, the SQLite database and its WAL files and
the key of the secrets 0600 — also when they existed before, more open; encrypted PEM keys read with their
passphrase, each mistake told in French."""

from __future__ import annotations

import datetime
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lgo import secrets
from lgo.domain.audit import record
from lgo.domain.certificates import read_pem_files
from lgo.domain.pharmacy import create_pharmacy
from lgo.errors import LgoError
from lgo.kernel import Kernel


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "nouveau" / "lgo"
    monkeypatch.setenv("LGO_HOME", str(home))
    monkeypatch.delenv("LGO_SECRET_KEY", raising=False)
    monkeypatch.delenv("LGO_DATABASE_URL", raising=False)
    secrets._fernet.cache_clear()
    yield home
    secrets._fernet.cache_clear()


def test_the_data_folder_the_database_its_wal_files_and_the_secret_key_are_private(fresh_home: Path) -> None:
    kernel = Kernel(discover_installed=False)
    kernel.upgrade_database()
    with kernel.transaction() as session:
        pharmacy = create_pharmacy(session, name="Pharmacie", finess="999000011")
        record(session, pharmacy.id, "test", "écriture en WAL")
    secrets.encrypt("un secret")
    database = fresh_home / "lgo.sqlite"
    assert _mode(fresh_home) == 0o700
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), fresh_home / "secret.key"):
        assert path.exists() and _mode(path) == 0o600, path
    kernel.close()


def test_an_existing_database_and_key_left_open_are_made_private(fresh_home: Path) -> None:
    fresh_home.mkdir(parents=True)
    os.chmod(fresh_home, 0o755)  # an existing folder is the administrator's choice: left as it is
    Kernel(discover_installed=False).close()
    secrets.encrypt("crée la clé")
    database = fresh_home / "lgo.sqlite"
    opened = (database, Path(f"{database}-wal"), fresh_home / "secret.key")
    for path in opened:  # as an older version, or a copy by hand, left them
        path.touch()
        os.chmod(path, 0o644)
    secrets._fernet.cache_clear()
    Kernel(discover_installed=False).close()
    secrets.encrypt("relit la clé")
    assert _mode(fresh_home) == 0o755
    for path in opened:
        assert _mode(path) == 0o600, path


def test_a_bad_secret_key_is_refused_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGO_SECRET_KEY", "pas-une-cle")
    with pytest.raises(LgoError, match="La clé de chiffrement des secrets \\(LGO_SECRET_KEY\\) est invalide"):
        secrets.encrypt("x")


def _pem_pair(folder: Path, passphrase: bytes | None) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PHARMACIE DE TEST")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return cert_path, key_path


def test_an_encrypted_pem_key_is_read_with_its_passphrase(tmp_path: Path) -> None:
    cert, key = _pem_pair(tmp_path, b"phrase-secrete")
    credential = read_pem_files(cert, key, "phrase-secrete")
    assert credential.certificate.subject.rfc4514_string() == "CN=PHARMACIE DE TEST"
    with pytest.raises(LgoError, match="est chiffrée : indiquez sa phrase de passe"):
        read_pem_files(cert, key)
    with pytest.raises(LgoError, match="phrase de passe est fausse"):
        read_pem_files(cert, key, "mauvaise")
    (tmp_path / "clair").mkdir()
    clear_cert, clear_key = _pem_pair(tmp_path / "clair", None)
    assert read_pem_files(clear_cert, clear_key).certificate is not None
    with pytest.raises(LgoError, match="n'est pas chiffrée : laissez sa phrase de passe vide"):
        read_pem_files(clear_cert, clear_key, "inutile")
