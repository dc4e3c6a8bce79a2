"""The matricule INS: a NIR or a NIA, 13 characters and a 2-digit key, under the OID of its authority."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lgo.api import OID_DEMO, OID_NIA, OID_NIR, OID_TEST, ValidationError

#: Lexical profile of the INSi XSD for the 13 characters (Corsica: 2A / 2B in place of the department digits).
_BODY = re.compile(r"^[1-478][0-9]{2}(0[1-9]|1[0-2]|[2-9][0-9])(2[AB]|[0-9]{2})[0-9]{6}$")
_FULL = re.compile(r"^(?P<body>[0-9AB]{13})(?P<key>[0-9]{2})$")

OIDS = {OID_NIR: "NIR", OID_NIA: "NIA", OID_TEST: "INS de test", OID_DEMO: "INS de démonstration"}
TEST_OIDS = frozenset({OID_TEST, OID_DEMO})


def key(body: str) -> int:
    """97 − (N mod 97), where 2A counts as 19 and 2B as 18 in the department (the official Corsican rule)."""
    if not _BODY.match(body):
        raise ValidationError(f"Matricule INS invalide : « {body} » (13 caractères attendus, format du NIR).")
    digits = body.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


@dataclass(frozen=True)
class Matricule:
    value: str
    oid: str

    @property
    def body(self) -> str:
        return self.value[:13]

    @property
    def authority(self) -> str:
        return OIDS[self.oid]


def parse(value: str, oid: str, *, test_mode: bool = False) -> Matricule:
    """Check a 15-character matricule and its OID; test and demo OIDs only in a pharmacy in test mode."""
    text = (value or "").strip().upper().replace(" ", "")
    match = _FULL.match(text)
    if not match:
        raise ValidationError(
            "Matricule INS invalide : 15 caractères attendus (13 + clé de 2 chiffres).", detail=f"{value!r}"
        )
    expected = key(match["body"])
    if int(match["key"]) != expected:
        raise ValidationError(
            "Matricule INS invalide : la clé ne correspond pas (erreur de saisie ?).",
            detail=f"{text}: key {match['key']} != {expected:02d}",
        )
    if oid not in OIDS:
        raise ValidationError(f"Autorité d'affectation de l'INS inconnue : « {oid} ».")
    if oid in TEST_OIDS and not test_mode:
        raise ValidationError(
            "INS de test ou de démonstration refusé : l'officine n'est pas en mode test.", detail=f"oid {oid}"
        )
    return Matricule(text, oid)
