"""The prescription's unique identifier, read from the QR code of the paper copy or typed from the number under it.

The CNAM format is not public (decision 0700): the project assumes a 15-character identifier in Crockford's base 32
alphabet (no I, L, O, U), the last character a check symbol (ISO 7064 MOD 37-2 over the alphabet extended with
``*~$=U``, as in Crockford's specification), and a QR payload ``ORDNUM:1:<identifier>``. The parser is strict and
says in French what is wrong: empty, another kind of code, truncated, foreign characters, wrong check symbol.
"""

from __future__ import annotations

import re

from lgo.api import ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
LENGTH = 15
QR_PREFIX = "ORDNUM:1:"
_TYPED_NOISE = re.compile(r"[\s\-.]")


def check_symbol(body: str) -> str:
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    return CHECK_ALPHABET[value % 37]


def make(body: str) -> str:
    """An identifier from its 14 characters (used by the sandbox and the tests)."""
    return body + check_symbol(body)


def parse(scanned: str) -> str:
    """The identifier from a scanned QR payload or a typed number; a clear French error otherwise."""
    if scanned is not None and not isinstance(scanned, str):
        raise ValidationError(
            "Code illisible : scannez à nouveau le QR code de l'ordonnance ou saisissez son numéro.",
            detail=f"scan of type {type(scanned).__name__}",
        )
    text = (scanned or "").strip()
    if not text:
        raise ValidationError("Aucun code lu : scannez le QR code de l'ordonnance ou saisissez son numéro.")
    if text.upper().startswith("ORDNUM:"):
        if not text.upper().startswith(QR_PREFIX):
            raise ValidationError(
                "QR code d'ordonnance numérique d'une version non prise en charge.", detail=repr(text[:20])
            )
        text = text[len(QR_PREFIX) :]
    elif len(text) > LENGTH + 6 or text.startswith(("IS01", "http", "HTTP", "{", "<")):
        raise ValidationError(
            "Ce code n'est pas celui d'une ordonnance numérique (QR code d'un autre document ?).",
            detail=repr(text[:30]),
        )
    candidate = _TYPED_NOISE.sub("", text).upper()
    for wrong, right in (("O", "0"), ("I", "1"), ("L", "1")):  # Crockford: read what people type by mistake
        candidate = candidate.replace(wrong, right)
    if len(candidate) < LENGTH:
        raise ValidationError(
            f"Numéro d'ordonnance incomplet : {len(candidate)} caractères sur {LENGTH}.", detail=repr(candidate)
        )
    if len(candidate) > LENGTH:
        raise ValidationError(
            f"Numéro d'ordonnance trop long : {len(candidate)} caractères au lieu de {LENGTH}.", detail=repr(candidate)
        )
    body, check = candidate[:-1], candidate[-1]
    if any(c not in ALPHABET for c in body) or check not in CHECK_ALPHABET:
        raise ValidationError("Numéro d'ordonnance invalide : caractères non autorisés.", detail=repr(candidate))
    if check_symbol(body) != check:
        raise ValidationError(
            "Numéro d'ordonnance invalide : le caractère de contrôle ne correspond pas (erreur de saisie ?).",
            detail=repr(candidate),
        )
    return candidate
