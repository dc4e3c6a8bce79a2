"""Identity traits as the RNIV writes and compares them: one transliteration, one comparison, one birth-place rule.

The INS traits (nom de naissance, prénoms, sexe, date et lieu de naissance) travel in upper case, letters A-Z only,
with space, hyphen and apostrophe as separators (INSi, CDA, Datamatrix). A name typed at the counter may carry
accents, ligatures or letters of other Latin alphabets: :func:`ins_name` writes it the RNIV way (diacritics dropped,
Æ → AE, Œ → OE, ß → SS, Ø → O, Ł → L, Þ → TH...), and refuses in French what has no Latin transliteration (digits,
symbols, control characters, other scripts). A name is accepted on the patient file only if it has one, so that
whatever the file holds can be sent to INSi. Every comparison of traits between two sources (INSi answer, carte
Vitale, e-prescription, received document) goes through :func:`same_name` / :func:`first_name_in`.

Birth place: the INSEE code (COG) of the commune of birth, ``2A``/``2B`` in place of the department digits in
Corsica (``2A004``), ``99`` + the country code for a birth abroad (``99109``), and ``99999`` when the place is
unknown (RNIV).
"""

from __future__ import annotations

import re
import unicodedata

from lgo.errors import ValidationError

#: Letters that Unicode does not decompose into a base letter and an accent, as the RNIV transliterates them
#: (Latin-1 and Latin Extended-A; the rest decomposes, e.g. É = E + accent).
_SPECIAL = {
    "Æ": "AE",
    "æ": "AE",
    "Œ": "OE",
    "œ": "OE",
    "ß": "SS",
    "Ø": "O",
    "ø": "O",
    "Ð": "D",
    "ð": "D",
    "Đ": "D",
    "đ": "D",
    "Þ": "TH",
    "þ": "TH",
    "Ħ": "H",
    "ħ": "H",
    "ı": "I",
    "Ĳ": "IJ",
    "ĳ": "IJ",
    "ĸ": "K",
    "Ŀ": "L",
    "ŀ": "L",
    "Ł": "L",
    "ł": "L",
    "ŉ": "'N",
    "Ŋ": "N",
    "ŋ": "N",
    "ſ": "S",
    "Ŧ": "T",
    "ŧ": "T",
    # Typographic apostrophes and hyphens typed or pasted from a word processor.
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "´": "'",
    "`": "'",
    "‐": "-",
    "‑": "-",
    "–": "-",
    "\xa0": " ",
}
_INS_NAME = re.compile(r"^[A-Z](?:[A-Z' -]*[A-Z'])?$")
MAX_NAME = 100

#: Sex of the INS traits (INSi, Datamatrix): M, F, or I (indéterminé).
SEXES = ("M", "F", "I")
#: Birth place when unknown (RNIV).
UNKNOWN_BIRTH_PLACE = "99999"
_BIRTH_PLACE = re.compile(r"^(?:2[AB]|(?!00)[0-9]{2})[0-9]{3}$")


def ins_name(value: object, what: str = "Nom") -> str:
    """``value`` as an INS trait (upper case, A-Z, space, hyphen, apostrophe); a French error when it has no
    Latin transliteration or is longer than 100 characters."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} illisible : du texte est attendu.", detail=f"{what}: {type(value).__name__}")
    out = []
    for char in unicodedata.normalize("NFC", value):
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char != " " and unicodedata.category(char)[0] in "CZ":
            out.append("\x00")  # a control character or an unusual space: refused below, never silently dropped
        else:
            base = unicodedata.normalize("NFD", char)[0]
            out.append(base.upper() if base.isascii() else char)
    written = re.sub(" +", " ", "".join(out)).strip()
    if not _INS_NAME.match(written) or len(written) > MAX_NAME:
        shown = "".join(c if c.isprintable() else "?" for c in value[:40])
        raise ValidationError(
            f"{what} invalide : « {shown} » (lettres, espaces, tirets et apostrophes seulement, 100 caractères au "
            "plus).",
            detail=f"{what}: {value[:120]!r} -> {written[:120]!r}",
        )
    return written


def is_ins_name(value: object) -> bool:
    try:
        ins_name(value)
    except ValidationError:
        return False
    return True


def same_name(left: str, right: str) -> bool:
    """The same trait once both are written the RNIV way (``Noël`` = ``NOEL``, ``Œdipe`` = ``OEDIPE``)."""
    return _comparable(left) == _comparable(right)


def first_name_in(first_name: str, first_names: str) -> bool:
    """``first_name`` is one of ``first_names`` (the RNIV list, space-separated), whatever the accents."""
    wanted = _comparable(first_name)
    return bool(wanted) and (wanted in _comparable(first_names).split(" ") or wanted == _comparable(first_names))


def _comparable(value: str) -> str:
    try:
        return ins_name(value)
    except ValidationError:
        return " ".join(str(value).upper().split())


def birth_place(value: object) -> str:
    """A COG birth-place code (commune, Corsica 2A/2B, 99xxx abroad, 99999 unknown), or a French error."""
    if not isinstance(value, str) or not _BIRTH_PLACE.match(value.strip().upper()):
        shown = value[:10] if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            f"Code du lieu de naissance invalide : « {shown} » (code INSEE à 5 caractères de la commune, 2A ou 2B "
            "en Corse, 99 suivi du code du pays pour une naissance à l'étranger).",
            detail=repr(value)[:40],
        )
    return value.strip().upper()


def is_birth_place(value: object) -> bool:
    try:
        birth_place(value)
    except ValidationError:
        return False
    return True


def cda_gender(sex: str) -> str:
    """The CDA ``administrativeGenderCode`` of an INS sex (JDV_J143: F, M, UN — « indéterminé » is UN)."""
    return {"M": "M", "F": "F"}.get(sex, "UN")


def missing_ins_traits(
    *, birth_name: str, first_names: tuple[str, ...], sex: str, birth_date: str, birth_place_code: str | None
) -> list[str]:
    """The INS traits that are missing or malformed (French names), empty for a complete set."""
    missing = []
    if not is_ins_name(birth_name):
        missing.append("nom de naissance")
    if not first_names or not all(is_ins_name(name) for name in first_names):
        missing.append("prénoms")
    if sex not in SEXES:
        missing.append("sexe")
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", birth_date or ""):
        missing.append("date de naissance")
    if not is_birth_place(birth_place_code):
        missing.append("lieu de naissance")
    return missing
