"""The INS Datamatrix printed on documents: payload (ANS « INS - Format datamatrix ») and its image.

Payload: header ``IS`` + ``01`` + 22 zeros, then fields by identifier — S1 matricule (15), S2 OID (≤ 20), S3 first
names (≤ 100), S4 birth name (≤ 100), S5 sex (1), S6 birth date ``JJ-MM-AAAA`` (10), S7 birth place code (5,
optional). A variable field shorter than its maximum is closed by GS (0x1D) unless it ends the payload. Readers
find fields by identifier, in any order. Only a *qualified* identity is printed (:func:`for_patient`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgo.api import PartialDate, ValidationError, identifiers, traits

from lgo_ins import matricule

if TYPE_CHECKING:
    from lgo.api import Kernel, SharedIdentity

GS = "\x1d"
HEADER = "IS01" + "0" * 22
#: identifier → (fixed length or None, maximum length)
FIELDS: dict[str, tuple[int | None, int]] = {
    "S1": (15, 15),
    "S2": (None, 20),
    "S3": (None, 100),
    "S4": (None, 100),
    "S5": (1, 1),
    "S6": (10, 10),
    "S7": (5, 5),
}


@dataclass(frozen=True)
class DatamatrixIdentity:
    matricule: str
    oid: str
    first_names: str
    birth_name: str
    sex: str
    #: ISO date (YYYY-MM-DD).
    birth_date: str
    birth_place_code: str | None = None


def build(identity: DatamatrixIdentity) -> str:
    day = identity.birth_date.split("-")
    values = {
        "S1": identity.matricule,
        "S2": identity.oid,
        "S3": identity.first_names,
        "S4": identity.birth_name,
        "S5": identity.sex,
        "S6": f"{day[2]}-{day[1]}-{day[0]}" if len(day) == 3 else identity.birth_date,
    }
    if identity.birth_place_code:
        values["S7"] = identity.birth_place_code
    parts = [HEADER]
    identifiers = list(values)
    for index, identifier in enumerate(identifiers):
        value = values[identifier]
        fixed, maximum = FIELDS[identifier]
        if GS in value or (fixed is not None and len(value) != fixed) or not 0 < len(value) <= maximum:
            raise ValidationError(f"Champ {identifier} du Datamatrix INS invalide : « {value} ».")
        parts.append(identifier + value)
        if fixed is None and len(value) < maximum and index < len(identifiers) - 1:
            parts.append(GS)
    payload = "".join(parts)
    parse(payload)  # what is printed must be an identity a reader accepts
    return payload


def parse(payload: str) -> DatamatrixIdentity:
    """Read a payload (fields in any order) into an identity; a malformed payload or an impossible identity gives
    a clear French error."""
    return _checked(fields(payload))


def fields(payload: str) -> dict[str, str]:
    """The fields of a payload by identifier (``S1``…``S7``), read by syntax only: :func:`parse` checks them."""
    if not isinstance(payload, str):
        raise ValidationError(
            "Ce code n'est pas un Datamatrix INS lisible (texte attendu).", detail=type(payload).__name__
        )
    if not payload.isascii() or any(c < " " and c != GS for c in payload):
        raise ValidationError(
            "Datamatrix INS refusé : caractères de contrôle ou non ASCII dans le code.", detail=repr(payload[:60])
        )
    if not payload.startswith(HEADER):
        raise ValidationError(
            "Ce Datamatrix n'est pas un Datamatrix INS (en-tête IS01 absent).",
            detail=repr(payload[:30]) if isinstance(payload, str) else type(payload).__name__,
        )
    found: dict[str, str] = {}
    position = len(HEADER)
    while position < len(payload):
        identifier = payload[position : position + 2]
        if identifier not in FIELDS:
            raise ValidationError(
                "Datamatrix INS illisible : identifiant de champ inconnu.", detail=f"{identifier!r} at {position}"
            )
        if identifier in found:
            raise ValidationError(f"Datamatrix INS illisible : champ {identifier} répété.")
        position += 2
        fixed, maximum = FIELDS[identifier]
        if fixed is not None:
            value = payload[position : position + fixed]
            if len(value) != fixed:
                raise ValidationError(f"Datamatrix INS tronqué (champ {identifier}).")
            position += fixed
        else:
            end = payload.find(GS, position)
            stop = min(end if end >= 0 else len(payload), position + maximum)
            value = payload[position:stop]
            position = stop + 1 if stop == end else stop
        if GS in value or not value:
            raise ValidationError(f"Datamatrix INS illisible : champ {identifier} vide ou mal séparé.")
        found[identifier] = value
    missing = [identifier for identifier in ("S1", "S2", "S3", "S4", "S5", "S6") if identifier not in found]
    if missing:
        raise ValidationError("Datamatrix INS incomplet : champ(s) " + ", ".join(missing) + " absent(s).")
    return found


def _checked(found: dict[str, str]) -> DatamatrixIdentity:
    """Refuse, in French, what no INS can hold: a wrong matricule or key, an unknown authority, a name with
    digits, control characters or emoji, an impossible date, a birth place that is not a COG code."""
    try:
        identity = DatamatrixIdentity(
            matricule=identifiers.check_matricule(found["S1"]),
            oid=matricule.check_oid(found["S2"]),
            first_names=traits.ins_name(found["S3"], "Prénoms"),
            birth_name=traits.ins_name(found["S4"], "Nom de naissance"),
            sex=found["S5"],
            birth_date=_iso_date(found["S6"]),
            birth_place_code=traits.birth_place(found["S7"]) if "S7" in found else None,
        )
    except ValidationError as exc:
        raise ValidationError(f"Datamatrix INS refusé : {exc.message_fr}", detail=exc.detail) from exc
    if identity.sex not in traits.SEXES:
        raise ValidationError("Datamatrix INS refusé : sexe illisible (M, F ou I attendu).", detail=found["S5"])
    return identity


def _iso_date(text: str) -> str:
    """``JJ-MM-AAAA`` → ``AAAA-MM-JJ``, a real date (``00`` for an unknown day or month, as the RNIV writes it)."""
    match = re.fullmatch(r"([0-9]{2})-([0-9]{2})-([0-9]{4})", text)
    if match is None:
        raise ValidationError("Date de naissance illisible (JJ-MM-AAAA attendu).", detail=repr(text))
    day, month, year = match.groups()
    return str(PartialDate.parse(f"{year}-{month}-{day}"))


def from_shared(identity: SharedIdentity) -> DatamatrixIdentity:
    return DatamatrixIdentity(
        matricule=identity.matricule,
        oid=identity.oid,
        first_names=" ".join(identity.first_names),
        birth_name=identity.birth_name,
        sex=identity.sex,
        birth_date=identity.birth_date,
        birth_place_code=identity.birth_place_code,
    )


def for_patient(kernel: Kernel, pharmacy_id: int, patient_id: int) -> str:
    """The payload for a patient: refused (in French) unless the identity is qualified."""
    return build(from_shared(kernel.shareable_identity(pharmacy_id, patient_id)))


#: Square ECC200 symbols (ISO/IEC 16022): modules per side, data regions per side, data and error-correction
#: codewords, interleaved Reed-Solomon blocks. The longest INS traits need about 275 data codewords (64 × 64).
SYMBOLS = (
    (10, 1, 3, 5, 1),
    (12, 1, 5, 7, 1),
    (14, 1, 8, 10, 1),
    (16, 1, 12, 12, 1),
    (18, 1, 18, 14, 1),
    (20, 1, 22, 18, 1),
    (22, 1, 30, 20, 1),
    (24, 1, 36, 24, 1),
    (26, 1, 44, 28, 1),
    (32, 2, 62, 36, 1),
    (36, 2, 86, 42, 1),
    (40, 2, 114, 48, 1),
    (44, 2, 144, 56, 1),
    (48, 2, 174, 68, 1),
    (52, 2, 204, 84, 2),
    (64, 4, 280, 112, 2),
    (72, 4, 368, 144, 4),
    (80, 4, 456, 192, 4),
)


def _symbol_class() -> type:
    from reportlab.graphics.barcode.widgets import BarcodeECC200DataMatrix

    class SizedDataMatrix(BarcodeECC200DataMatrix):
        """reportlab's C40 ECC200 encoder, which only knows the 44 × 44 symbol, with the smallest square symbol
        the payload fits in and the interleaved error correction of the large ones."""

        def encode(self) -> list[list[int]]:
            if hasattr(self, "encoded"):
                return list(self.encoded)  # type: ignore[has-type]
            needed = len(self._c40_codewords(self.validated))
            fitting = [symbol for symbol in SYMBOLS if needed <= symbol[2]]
            if not fitting:
                raise ValidationError(
                    "Datamatrix INS trop long pour un symbole ECC200.", detail=f"{needed} codewords > {SYMBOLS[-1][2]}"
                )
            size, regions, data, ecc, blocks = fitting[0]
            self.row_modules = self.col_modules = size
            self.row_regions = self.col_regions = regions
            self.cw_data, self.cw_ecc = data, ecc
            self.row_usable_modules = self.col_usable_modules = size - 2 * regions
            codewords = self._encode_c40(self.validated)
            corrections = [self._get_reed_solomon_code(codewords[b::blocks], ecc // blocks) for b in range(blocks)]
            codewords += [corrections[i % blocks][i // blocks] for i in range(ecc)]
            regions_ = self._wrap_data_regions_with_finders(self._create_data_regions(self._create_matrix(codewords)))
            self.encoded = self._merge_data_regions(regions_)
            self.encoded.reverse()  # reportlab draws from the bottom left corner
            return list(self.encoded)

        def _c40_codewords(self, value: str) -> list[int]:
            # C40 in whole triples, then unlatch and ASCII for what is left: reportlab pads a last single value
            # with zeros, which readers decode as a trailing NUL (ISO/IEC 16022, 5.2.5.2).
            total = cut = 0
            for index, char in enumerate(value):
                total += len(self._encode_c40_char(char))
                cut = index + 1 if total % 3 == 0 else cut
            values = [v for char in value[:cut] for v in self._encode_c40_char(char)]
            codewords = [230]
            for i in range(0, len(values), 3):
                packed = values[i] * 1600 + values[i + 1] * 40 + values[i + 2] + 1
                codewords += [packed // 256, packed % 256]
            return [*codewords, 254, *(ord(char) + 1 for char in value[cut:])]

        def _encode_c40(self, value: str) -> list[int]:
            codewords = self._c40_codewords(value)
            if len(codewords) < self.cw_data:
                codewords.append(129)  # first pad, then the 253-state randomised pads
                while len(codewords) < self.cw_data:
                    codewords.append((129 + (149 * (len(codewords) + 1)) % 253 + 1) % 254)
            return codewords

        def computeSize(self, *args: object) -> None:
            self.encode()
            super().computeSize(*args)

    return SizedDataMatrix


def modules(payload: str) -> list[list[int]]:
    """The symbol's modules, top row first (1 = dark), for a payload checked by :func:`parse`."""
    parse(payload)
    symbol = _symbol_class()(value=payload)
    symbol.validate()
    return list(reversed(symbol.encode()))


def render_svg(payload: str, *, module_size: float = 2.0) -> bytes:
    """The ECC200 symbol as SVG, for printed documents; the symbol grows with the payload (up to 64 × 64 modules for
    the longest INS traits)."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.shapes import Drawing

    parse(payload)
    symbol = _symbol_class()(value=payload, barWidth=module_size)
    symbol.validate()
    x1, y1, x2, y2 = symbol.getBounds()
    drawing = Drawing(width=x2 - x1, height=y2 - y1, transform=[1, 0, 0, 1, -x1, -y1])
    drawing.add(symbol, "_bc")
    return renderSVG.drawToString(drawing).encode("utf-8")
