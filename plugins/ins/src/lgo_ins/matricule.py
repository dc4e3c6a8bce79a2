"""The matricule INS: a NIR or a NIA, 13 characters and a 2-digit key, under the OID of its authority.

The key arithmetic and the format live in the kernel (:func:`lgo.api.identifiers.check_matricule`); this module
adds what belongs to the INS: the authorities' OIDs, and test OIDs only in a pharmacy in test mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from lgo.api import OID_DEMO, OID_NIA, OID_NIR, OID_TEST, ValidationError, identifiers

OIDS = {OID_NIR: "NIR", OID_NIA: "NIA", OID_TEST: "INS de test", OID_DEMO: "INS de démonstration"}
TEST_OIDS = frozenset({OID_TEST, OID_DEMO})


def key(body: str) -> int:
    """97 − (N mod 97), where 2A counts as 19 and 2B as 18 in the department (the official Corsican rule)."""
    return identifiers.nir_key(body)


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


def check_oid(oid: object) -> str:
    """One of the INS authorities' OIDs (NIR, NIA, test, demo), or a French error."""
    if oid not in OIDS:
        shown = "".join(c if c.isprintable() else "?" for c in oid[:30]) if isinstance(oid, str) else "?"
        raise ValidationError(f"Autorité d'affectation de l'INS inconnue : « {shown} ».", detail=repr(oid)[:80])
    return str(oid)


def parse(value: str, oid: str, *, test_mode: bool = False) -> Matricule:
    """Check a 15-character matricule and its OID; test and demo OIDs only in a pharmacy in test mode."""
    text = identifiers.check_matricule(value)
    check_oid(oid)
    if oid in TEST_OIDS and not test_mode:
        raise ValidationError(
            "INS de test ou de démonstration refusé : l'officine n'est pas en mode test.", detail=f"oid {oid}"
        )
    return Matricule(text, oid)
