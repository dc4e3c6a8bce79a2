"""Encryption of secrets at rest (settings passwords, certificate passphrases): Fernet (AES-128-CBC +
HMAC-SHA256) from ``cryptography``.

The key comes from ``LGO_SECRET_KEY`` (a Fernet key, for deployments that keep it in a vault) or from the
file ``secret.key`` in the data folder, created on first use with permissions 0600.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from lgo.config import create_private_file, data_dir, private_file
from lgo.errors import LgoError

PREFIX = "enc:v1:"


@lru_cache(maxsize=4)
def _fernet(key_source: str) -> Fernet:
    if key_source.startswith("env:"):
        return _key(key_source[4:].encode(), "LGO_SECRET_KEY")
    path = Path(key_source)
    if not create_private_file(path, Fernet.generate_key()):
        private_file(path)  # an older file, or one copied by hand, made private
    return _key(path.read_bytes().strip(), str(path))


def _key(value: bytes, source: str) -> Fernet:
    try:
        return Fernet(value)
    except (ValueError, TypeError) as exc:
        raise LgoError(
            f"La clé de chiffrement des secrets ({source}) est invalide : une clé Fernet (32 octets en base64) est "
            "attendue, par exemple celle que produit « python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())' ».",
            detail=f"invalid Fernet key from {source}: {exc}",
        ) from exc


def _current() -> Fernet:
    key = os.environ.get("LGO_SECRET_KEY")
    return _fernet(f"env:{key}" if key else str(data_dir() / "secret.key"))


def encrypt(plain: str) -> str:
    return PREFIX + _current().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise LgoError("Secret stocké dans un format inconnu.", detail="missing enc:v1: prefix")
    try:
        return _current().decrypt(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise LgoError(
            "Impossible de déchiffrer un secret : la clé de chiffrement a changé (LGO_SECRET_KEY ou secret.key).",
            detail="Fernet InvalidToken",
        ) from exc
