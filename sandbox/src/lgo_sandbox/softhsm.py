"""A test CPS in SoftHSM2: a token holding an authentication and a signature certificate with their keys.

Used by the tests and the demo only (never with a real card). The token folder and ``softhsm2.conf`` live in a
directory of the caller (a test's temp dir, ``LGO_HOME`` for the demo); SoftHSM reads ``SOFTHSM2_CONF`` when the
module is first loaded in the process, so :func:`use_config` must run before any PKCS#11 call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MODULE_PATH = "/usr/lib/softhsm/libsofthsm2.so"
AUTH_CERT_LABEL = "Certificat d'Authentification CPS"
SIGN_CERT_LABEL = "Certificat de Signature CPS"


@dataclass(frozen=True)
class TestCard:
    __test__ = False

    module_path: str
    label: str
    pin: str
    so_pin: str


def available() -> str | None:
    """Why a SoftHSM card cannot be made here (``None`` when it can)."""
    for tool, package in (("softhsm2-util", "softhsm2"), ("pkcs11-tool", "opensc")):
        if shutil.which(tool) is None:
            return f"{tool} absent (paquet Debian « {package} »)"
    if not os.path.exists(MODULE_PATH):
        return f"module SoftHSM absent ({MODULE_PATH}, paquet Debian « softhsm2 »)"
    return None


def use_config(directory: Path) -> Path:
    """Write a private ``softhsm2.conf`` under ``directory`` and point this process at it."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


def provision(
    directory: Path,
    label: str,
    *,
    authentication: tuple[Path, Path] | None,
    signature: tuple[Path, Path] | None,
    pin: str = "1234",
    so_pin: str = "12345678",
) -> TestCard:
    """A token ``label`` with the (certificate PEM, key PEM) pairs given; ``use_config`` must have run."""
    _run("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin)
    for key_id, cert_label, pair in (("01", AUTH_CERT_LABEL, authentication), ("02", SIGN_CERT_LABEL, signature)):
        if pair is None:
            continue
        cert_path, key_path = pair
        _run(
            "softhsm2-util",
            "--import",
            str(key_path),
            "--token",
            label,
            "--label",
            cert_label.replace("Certificat", "Cle"),
            "--id",
            key_id,
            "--pin",
            pin,
        )
        der = directory / f"{label}-{key_id}.der"
        der.write_bytes(x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(serialization.Encoding.DER))
        _run(
            "pkcs11-tool",
            "--module",
            MODULE_PATH,
            "--token-label",
            label,
            "--login",
            "--pin",
            pin,
            "--write-object",
            str(der),
            "--type",
            "cert",
            "--id",
            key_id,
            "--label",
            cert_label,
        )
    return TestCard(MODULE_PATH, label, pin, so_pin)
