"""The INS Datamatrix printed on documents: payload (ANS « INS - Format datamatrix ») and its image.

Payload: header ``IS`` + ``01`` + 22 zeros, then fields by identifier — S1 matricule (15), S2 OID (≤ 20), S3 first
names (≤ 100), S4 birth name (≤ 100), S5 sex (1), S6 birth date ``JJ-MM-AAAA`` (10), S7 birth place code (5,
optional). A variable field shorter than its maximum is closed by GS (0x1D) unless it ends the payload. Readers
find fields by identifier, in any order. Only a *qualified* identity is printed (:func:`for_patient`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgo.api import ValidationError

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
    return "".join(parts)


def parse(payload: str) -> DatamatrixIdentity:
    """Read a payload (fields in any order); a malformed one gives a clear French error."""
    if not isinstance(payload, str) or not payload.startswith(HEADER):
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
    day, month, year = [*found["S6"].split("-"), "", "", ""][:3]
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        raise ValidationError("Datamatrix INS : date de naissance illisible.", detail=found["S6"])
    if found["S5"] not in ("M", "F", "I"):
        raise ValidationError("Datamatrix INS : sexe illisible.", detail=found["S5"])
    return DatamatrixIdentity(
        matricule=found["S1"],
        oid=found["S2"],
        first_names=found["S3"],
        birth_name=found["S4"],
        sex=found["S5"],
        birth_date=f"{year}-{month}-{day}",
        birth_place_code=found.get("S7"),
    )


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


def render_svg(payload: str, *, module_size: float = 2.0) -> bytes:
    """The ECC200 symbol as SVG, for printed documents (reportlab's Datamatrix encoder)."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode import createBarcodeDrawing

    drawing = createBarcodeDrawing("ECC200DataMatrix", value=payload, barWidth=module_size)
    return renderSVG.drawToString(drawing).encode("utf-8")
