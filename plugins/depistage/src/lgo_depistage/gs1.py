"""The test device's UDI read from its GS1 DataMatrix (or GS1-128) as a scanner types it, or typed by hand.

The kernel has no GS1 element-string parser yet (issue « Le comptoir (1) » brings one for the counter): this small
one lives in the plugin until then (decision 1203). It reads what a UDI carries — GTIN (01), production date (11),
expiry (17), lot (10), serial (21) — plus the few other application identifiers found on medical devices' labels,
from:

* the scanner's raw output: an optional symbology identifier (``]d2``, ``]C1``, ``]Q3``), then the element strings,
  a variable-length field ended by the group separator (ASCII 29, FNC1) — some scanners send it as ``<GS>`` or
  ``\\x1d`` typed out;
* the human-readable interpretation printed under the symbol: ``(01)03612345678903(17)251231(10)B987654``.

Everything refused says why in French. :attr:`Udi.hri` is the form written in the BIO-TROD document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from lgo.api import ValidationError, identifiers

GS = "\x1d"
#: Fixed-length application identifiers: AI → length of the data (GS1 General Specifications, 3.2).
_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6, "20": 2}
#: Variable-length identifiers and their maximum length (ended by a group separator unless last).
_VARIABLE = {
    "10": 20,
    "21": 20,
    "22": 20,
    "30": 8,
    "37": 8,
    "240": 30,
    "241": 30,
    "250": 30,
    "251": 30,
    "7003": 10,
    **{str(n): 90 for n in range(90, 100)},
}
#: GS1 AI encodable character set 82 (letters, digits and a few punctuation signs).
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
_SYMBOLOGY = re.compile(r"^\](d2|C1|Q3|e0)")
_HRI = re.compile(r"\((\d{2,4})\)([^()]*)")


@dataclass(frozen=True)
class Udi:
    """What the device's identifier says."""

    gtin: str
    expiry: date | None = None
    lot: str = ""
    serial: str = ""
    production: date | None = None

    @property
    def hri(self) -> str:
        """The human-readable UDI, in the order labels print it: ``(01)…(11)…(17)…(10)…(21)…``."""
        parts = [f"(01){self.gtin}"]
        if self.production:
            parts.append(f"(11){self.production:%y%m%d}")
        if self.expiry:
            parts.append(f"(17){self.expiry:%y%m%d}")
        if self.lot:
            parts.append(f"(10){self.lot}")
        if self.serial:
            parts.append(f"(21){self.serial}")
        return "".join(parts)


def _gs1_date(text: str, today: date) -> date:
    """YYMMDD with GS1's sliding century (section 7.12) and DD = 00 meaning the month's last day."""
    if not re.fullmatch(r"\d{6}", text):
        raise ValidationError(f"Date GS1 invalide : « {text} » (AAMMJJ attendu).")
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    difference = yy - today.year % 100
    century = today.year // 100 + (1 if difference <= -50 else -1 if difference >= 51 else 0)
    year = century * 100 + yy
    if not 1 <= month <= 12:
        raise ValidationError(f"Date GS1 invalide : « {text} » (mois {month:02d}).")
    if day == 0:
        return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValidationError(f"Date GS1 invalide : « {text} » (ce jour n'existe pas).") from exc


def _elements(text: str) -> list[tuple[str, str]]:
    """The (AI, data) pairs of a scanned or printed element string."""
    if text.startswith("("):
        found = _HRI.findall(text)
        if not found or "".join(f"({ai}){data}" for ai, data in found) != text:
            raise ValidationError("Code GS1 illisible : parenthèses mal placées.")
        return found
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position] == GS:
            position += 1
            continue
        ai = next(
            (
                text[position : position + n]
                for n in (2, 3, 4)
                if text[position : position + n] in _FIXED or text[position : position + n] in _VARIABLE
            ),
            None,
        )
        if ai is None:
            raise ValidationError(
                f"Code GS1 illisible : identifiant d'application « {text[position : position + 4]} » non reconnu."
            )
        position += len(ai)
        if ai in _FIXED:
            data = text[position : position + _FIXED[ai]]
            if len(data) != _FIXED[ai]:
                raise ValidationError(f"Code GS1 incomplet : le champ ({ai}) est trop court.")
            position += len(data)
        else:
            end = text.find(GS, position)
            end = len(text) if end < 0 else end
            data = text[position:end]
            position = end
        pairs.append((ai, data))
    return pairs


def _field(ai: str, data: str) -> str:
    limit = _FIXED.get(ai) or _VARIABLE[ai]
    if not data or len(data) > limit:
        raise ValidationError(f"Code GS1 invalide : le champ ({ai}) a une longueur impossible.")
    if not _CSET82.match(data):
        raise ValidationError(f"Code GS1 invalide : caractère interdit dans le champ ({ai}).")
    return data


def typed(gtin: str, *, expiry: date | None = None, lot: str = "", serial: str = "") -> Udi:
    """The UDI of a device whose GTIN, expiry, lot and serial were typed (the same checks as a scan)."""
    checked = identifiers.check_gtin(str(gtin).strip()).zfill(14)
    lot, serial = lot.strip(), serial.strip()
    return Udi(
        gtin=checked,
        expiry=expiry,
        lot=_field("10", lot) if lot else "",
        serial=_field("21", serial) if serial else "",
    )


def parse(scanned: str, *, today: date | None = None) -> Udi:
    """The UDI in a scanned (or typed) GS1 element string; a French :class:`ValidationError` otherwise."""
    if not isinstance(scanned, str):
        raise ValidationError("Code GS1 illisible : texte attendu.")
    text = scanned.strip().replace("<GS>", GS).replace("\\x1d", GS).replace("\\u001d", GS)
    text = _SYMBOLOGY.sub("", text)
    if not text:
        raise ValidationError("Code GS1 vide : scannez le DataMatrix de la boîte du test.")
    if len(text) > 200:
        raise ValidationError("Code GS1 trop long pour un identifiant de dispositif.")
    today = today or date.today()
    values: dict[str, str] = {}
    for ai, data in _elements(text):
        if ai in values:
            raise ValidationError(f"Code GS1 invalide : le champ ({ai}) apparaît deux fois.")
        values[ai] = _field(ai, data)
    if "01" not in values:
        raise ValidationError("Code GS1 sans GTIN (01) : ce n'est pas l'identifiant d'un dispositif.")
    gtin = identifiers.check_gtin(values["01"])
    if len(gtin) != 14:
        raise ValidationError("Code GS1 invalide : le GTIN (01) a 14 chiffres.")
    return Udi(
        gtin=gtin,
        expiry=_gs1_date(values["17"], today) if "17" in values else None,
        lot=values.get("10", ""),
        serial=values.get("21", ""),
        production=_gs1_date(values["11"], today) if "11" in values else None,
    )
