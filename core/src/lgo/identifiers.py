"""National identifiers, checked and built in one place, with French messages for what a person typed or scanned.

python-stdnum does the arithmetic where it applies (NIR/NIA key with Corsica's 2A/2B, Luhn for FINESS and RPPS,
EAN-13/GTIN for CIP13 and box codes); this module adds the French rules on top: what a FINESS, an RPPS, a CIP13 or a
matricule INS looks like, and the *identifiant national* (idNat) the Ségur services expect: ``8`` + RPPS for a
professional, ``1`` + FINESS for a structure (the CI-SIS, the VIHF, Pro Santé Connect, the CPS certificate's CN).
Every function refuses a non-text value with a French message rather than an ``AttributeError``.
"""

from __future__ import annotations

import re
import uuid

from stdnum import ean, luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir

from lgo.errors import ValidationError

#: OIDs of the idNat of professionals and of structures (CI-SIS, VIHF, XDS authorInstitution).
OID_IDNAT_PS = "1.2.250.1.71.4.2.1"
OID_IDNAT_STRUCT = "1.2.250.1.71.4.2.2"
#: idNat prefixes (TRE_G08): 8 = RPPS, 1 = FINESS, 3 = SIRET.
IDNAT_RPPS = "8"
IDNAT_FINESS = "1"

#: Lexical profile of the 13 characters of a NIR or NIA (INSi XSD): sex, year, month (or 20-99 for an unknown or
#: fictitious month), department (2A/2B in Corsica), commune, order number.
_MATRICULE_BODY = re.compile(r"^[1-478][0-9]{2}(0[1-9]|1[0-2]|[2-9][0-9])(2[AB]|[0-9]{2})[0-9]{6}$")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} illisible : du texte est attendu.", detail=f"{what}: {type(value).__name__}")
    return value.strip()


def nir_key(body: str) -> int:
    """The 2-digit key of a NIR or NIA: 97 − (N mod 97), Corsica's 2A counting as 19 and 2B as 18."""
    body = _text(body, "Matricule INS").upper()
    if not _MATRICULE_BODY.match(body):
        raise ValidationError(
            f"Matricule INS invalide : « {body[:20]} » (13 caractères attendus, format du NIR).", detail=repr(body)
        )
    return int(nir.calc_check_digits(body + "00"))


def check_matricule(value: object) -> str:
    """A matricule INS (NIR or NIA): 13 characters and the right 2-digit key; spaces are ignored."""
    text = _text(value, "Matricule INS").upper().replace(" ", "")
    if len(text) != 15 or not text[13:].isdigit():
        raise ValidationError(
            "Matricule INS invalide : 15 caractères attendus (13 + clé de 2 chiffres).", detail=repr(text[:40])
        )
    expected = nir_key(text[:13])
    if int(text[13:]) != expected:
        raise ValidationError(
            "Matricule INS invalide : la clé ne correspond pas (erreur de saisie ?).",
            detail=f"{text}: key {text[13:]} != {expected:02d}",
        )
    return text


def check_finess(value: object) -> str:
    """FINESS: 9 characters, the last one a Luhn check digit (Corsica keeps 2A/2B, counted as 20)."""
    finess = _text(value, "Numéro FINESS").upper()
    if len(finess) != 9 or not finess[2:].isdigit() or not (finess[:2].isdigit() or finess[:2] in ("2A", "2B")):
        raise ValidationError(f"Numéro FINESS invalide : « {finess[:20]} » (9 caractères attendus).")
    if not luhn.is_valid(finess.replace("2A", "20").replace("2B", "20")):
        raise ValidationError(f"Numéro FINESS invalide : « {finess} » (clé de contrôle incorrecte).")
    return finess


def check_rpps(value: object) -> str:
    """RPPS: 11 digits, the last one a Luhn check digit."""
    rpps = _text(value, "Numéro RPPS")
    if len(rpps) != 11 or not rpps.isdigit():
        raise ValidationError(f"Numéro RPPS invalide : « {rpps[:20]} » (11 chiffres attendus).")
    if not luhn.is_valid(rpps):
        raise ValidationError(f"Numéro RPPS invalide : « {rpps} » (clé de contrôle incorrecte).")
    return rpps


def check_gtin(value: object) -> str:
    """A GTIN (EAN-8, EAN-13 or GTIN-14, as printed on a box) with its check digit."""
    gtin = _text(value, "Code GTIN")
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        raise ValidationError(f"Code GTIN invalide : « {gtin[:20]} » (8, 12, 13 ou 14 chiffres attendus).")
    try:
        ean.validate(gtin)
    except StdnumError as exc:
        raise ValidationError(f"Code GTIN invalide : « {gtin} » (clé de contrôle incorrecte).") from exc
    return gtin


def check_cip13(value: object) -> str:
    """CIP13: an EAN-13 in the 3400 range."""
    cip13 = _text(value, "Code CIP13")
    if len(cip13) != 13 or not cip13.isdigit():
        raise ValidationError(f"Code CIP13 invalide : « {cip13[:20]} » (13 chiffres attendus).")
    if not cip13.startswith("3400"):
        raise ValidationError(f"Code CIP13 invalide : « {cip13} » (doit commencer par 3400).")
    if not ean.is_valid(cip13):
        raise ValidationError(f"Code CIP13 invalide : « {cip13} » (clé de contrôle incorrecte).")
    return cip13


def ean13_check_digit(first12: str) -> int:
    """The check digit that completes 12 digits into an EAN-13 (a CIP13, for instance)."""
    return int(ean.calc_check_digit(first12))


def with_luhn(prefix: str) -> str:
    """``prefix`` followed by its Luhn check digit (fictional FINESS and RPPS numbers of the demo)."""
    return prefix + luhn.calc_check_digit(prefix)


def idnat_ps(rpps: str) -> str:
    """The idNat of a professional registered in the RPPS: ``8`` + RPPS (an RPPS already checked where it was
    entered, :func:`check_rpps`; here only its shape, so that a document never carries a malformed idNat)."""
    if not isinstance(rpps, str) or len(rpps) != 11 or not rpps.isdigit():
        raise ValidationError("Numéro RPPS invalide : 11 chiffres attendus.", detail=f"idNat from {rpps!r}")
    return IDNAT_RPPS + rpps


def idnat_structure(finess: str) -> str:
    """The idNat of a structure identified by its FINESS: ``1`` + FINESS (shape checked, as :func:`idnat_ps`)."""
    if not isinstance(finess, str) or len(finess) != 9 or not finess[2:].isdigit():
        raise ValidationError("Numéro FINESS invalide : 9 caractères attendus.", detail=f"idNat from {finess!r}")
    return IDNAT_FINESS + finess


def rpps_from_idnat(idnat: object) -> str | None:
    """The RPPS in a professional's idNat (``8`` + 11 digits), or ``None`` for another kind (ADELI...). The RPPS
    is taken as the issuer wrote it: a card or an identity provider is trusted for its own identifiers."""
    if not isinstance(idnat, str) or len(idnat) != 12 or not idnat.startswith(IDNAT_RPPS) or not idnat.isdigit():
        return None
    return idnat[1:]


def is_oid(value: object) -> bool:
    """An ISO OID in dotted form (``1.2.250...``), at most 64 characters as XDS allows."""
    return isinstance(value, str) and len(value) <= 64 and bool(_OID.match(value))


def derived_oid(name: str) -> str:
    """A stable OID for ``name`` without registering an arc (ITU-T X.667: ``2.25.`` + a name-based UUID), e.g. the
    sourceId of a pharmacy's software instance derived from its FINESS."""
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, name).int}"
