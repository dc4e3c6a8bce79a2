"""The GS1 DataMatrix printed on a medicine box (sérialisation, directive 2011/62/UE): GTIN, expiry, lot, serial.

A barcode scanner types the element string into a field: application identifiers (AI) followed by their data,
variable-length fields ended by the FNC1 separator, which scanners transmit as the ASCII group separator (GS,
``\\x1d``; some send it typed out, ``<GS>``). Some scanners prefix the symbology identifier (``]d2``); a person may
type the human-readable form with the AIs in parentheses (``(01)03400930000120(17)261231(10)LOT1``). All three are
read here.

The AIs of a French box: ``01`` GTIN-14 (a CIP13 is the GTIN ``0`` + CIP13, prefix ``34009``), ``17`` expiry
``YYMMDD`` (day ``00``: the last day of the month), ``10`` lot (up to 20 characters), ``21`` serial (up to 20),
optionally ``711`` (the French national reimbursement number, the CIP13 again) and ``7003`` (expiry with time).
Other AIs found on medicines' and medical devices' labels (a TROD's UDI: ``11`` production date…) are read and kept;
an unknown AI is refused with a French message, since guessing its length could put part of a lot number in the
serial. Dates follow GS1's sliding century (General Specifications 7.12): ``YY`` is within 49 years of today, 50
ahead. Every failure is a :class:`lgo.errors.ValidationError` in French.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from lgo.errors import ValidationError
from lgo.identifiers import check_gtin

GS = "\x1d"
#: Symbology identifiers a scanner may put in front: GS1 DataMatrix, GS1-128, GS1 QR.
SYMBOLOGY_PREFIXES = ("]d2", "]C1", "]Q3")

#: AI → (fixed length or None for variable, maximum length, French name).
AIS: dict[str, tuple[int | None, int, str]] = {
    "00": (18, 18, "SSCC"),
    "01": (14, 14, "GTIN"),
    "02": (14, 14, "GTIN contenu"),
    "10": (None, 20, "lot"),
    "11": (6, 6, "date de fabrication"),
    "12": (6, 6, "date d'échéance"),
    "13": (6, 6, "date d'emballage"),
    "15": (6, 6, "date limite d'utilisation optimale"),
    "16": (6, 6, "date limite de vente"),
    "17": (6, 6, "date de péremption"),
    "20": (2, 2, "variante"),
    "21": (None, 20, "numéro de série"),
    "22": (None, 20, "variante grand public"),
    "30": (None, 8, "quantité"),
    "37": (None, 8, "nombre d'unités contenues"),
    "240": (None, 30, "identification complémentaire"),
    "241": (None, 30, "référence client"),
    "250": (None, 30, "numéro de série secondaire"),
    "251": (None, 30, "référence de l'entité source"),
    "710": (None, 20, "numéro national (Allemagne)"),
    "711": (None, 20, "numéro national (France)"),
    "712": (None, 20, "numéro national (Espagne)"),
    "714": (None, 20, "numéro national (Portugal)"),
    "7003": (10, 10, "date et heure de péremption"),
    **{str(ai): (None, 90, "information interne") for ai in range(90, 100)},
}
#: How a scanner may type the group separator out instead of sending it.
_TYPED_SEPARATORS = ("<GS>", "\\x1d", "\\u001d")
_PARENTHESISED = re.compile(r"\((\d{2,4})\)")
#: Characters GS1 allows in alphanumeric fields (ISO 646 subset, "GS1 AI encodable character set 82").
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
#: What to show of a refused scan: enough to recognise it, never the whole payload.
_SHOWN = 40


@dataclass(frozen=True)
class BoxScan:
    """What the DataMatrix of a box says."""

    gtin: str
    expiry: date | None = None
    lot: str | None = None
    serial: str | None = None
    #: Every element read, by AI (including those above), as text.
    elements: dict[str, str] = field(default_factory=dict)
    production: date | None = None

    @property
    def hri(self) -> str:
        """The human-readable form, in the order labels print it: ``(01)…(11)…(17)…(10)…(21)…`` (a device's UDI)."""
        parts = [f"(01){self.gtin}"]
        parts += [f"(11){self.production:%y%m%d}"] if self.production else []
        parts += [f"(17){self.expiry:%y%m%d}"] if self.expiry else []
        parts += [f"(10){self.lot}"] if self.lot else []
        parts += [f"(21){self.serial}"] if self.serial else []
        return "".join(parts)

    @property
    def cip13(self) -> str | None:
        """The CIP13 of a French medicine box (GTIN-14 ``03400…``), else ``None``."""
        if len(self.gtin) == 14 and self.gtin.startswith("034009"):
            return self.gtin[1:]
        return None


def _shown(text: str) -> str:
    visible = text.replace(GS, "<GS>")
    return visible if len(visible) <= _SHOWN else visible[:_SHOWN] + "…"


def _date(value: str, what: str, today: date) -> date:
    if len(value) < 6 or not value[:6].isdigit():
        raise ValidationError(f"Code Datamatrix : {what} invalide « {value} » (AAMMJJ attendu).")
    yy, month, day = int(value[:2]), int(value[2:4]), int(value[4:6])
    ahead = yy - today.year % 100
    year = (today.year // 100 + (1 if ahead <= -50 else -1 if ahead >= 51 else 0)) * 100 + yy
    if not 1 <= month <= 12:
        raise ValidationError(f"Code Datamatrix : {what} invalide « {value} » (mois {month:02d}).")
    last = calendar.monthrange(year, month)[1]
    if day == 0:  # GS1: day 00 means the last day of the month
        day = last
    if day > last:
        raise ValidationError(f"Code Datamatrix : {what} invalide « {value} » (jour {day:02d}).")
    return date(year, month, day)


def _normalise(text: str) -> str:
    """Symbology prefix removed; the parenthesised human-readable form turned into an element string."""
    text = text.strip(" \t\r\n")
    for separator in _TYPED_SEPARATORS:
        text = text.replace(separator, GS)
    for prefix in SYMBOLOGY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.strip("\r\n")
    if text.startswith("("):
        parts = _PARENTHESISED.split(text)
        if parts[0] != "":
            raise ValidationError(f"Code Datamatrix illisible : « {_shown(text)} ».")
        pieces = []
        for ai, value in zip(parts[1::2], parts[2::2], strict=True):
            pieces.append(ai + value + (GS if AIS.get(ai, (0,))[0] is None else ""))
        text = "".join(pieces)
    return text.lstrip(GS)


def _ai_at(text: str, index: int) -> str:
    for size in (2, 3, 4):
        candidate = text[index : index + size]
        if candidate in AIS:
            return candidate
    raise ValidationError(
        f"Code Datamatrix : identifiant d'application inconnu « {text[index : index + 4]} » "
        f"dans « {_shown(text)} » (ce n'est pas le code d'une boîte de médicament ?)."
    )


def parse(scanned: object, *, today: date | None = None) -> BoxScan:
    """Read the element string of a box's DataMatrix; a French :class:`ValidationError` when it is not one.

    ``today`` places the dates' century (by default the computer's date)."""
    if not isinstance(scanned, str) or not scanned.strip():
        raise ValidationError("Code Datamatrix vide ou illisible : scannez de nouveau la boîte.")
    if len(scanned) > 200:
        raise ValidationError("Code Datamatrix trop long : ce n'est pas le code d'une boîte de médicament.")
    text = _normalise(scanned)
    if not text[:2].isdigit():
        raise ValidationError(
            f"Code Datamatrix illisible : « {_shown(scanned)} » (il commence par un identifiant GS1)."
        )
    elements: dict[str, str] = {}
    index = 0
    while index < len(text):
        ai = _ai_at(text, index)
        fixed, maximum, name = AIS[ai]
        index += len(ai)
        if fixed is not None:
            value = text[index : index + fixed]
            index += fixed
            if len(value) != fixed or not value.isdigit():
                raise ValidationError(f"Code Datamatrix : {name} incomplet ou invalide « {value} ».")
        else:
            end = text.find(GS, index)
            end = len(text) if end < 0 else end
            value = text[index:end]
            index = end + 1
            if not value or len(value) > maximum:
                raise ValidationError(
                    f"Code Datamatrix : {name} de {len(value)} caractère(s) (1 à {maximum}) dans « {_shown(scanned)} »"
                    " — le séparateur GS manque peut-être : réglez le lecteur pour le transmettre."
                )
            if not _CSET82.match(value):
                raise ValidationError(f"Code Datamatrix : caractère non permis dans le {name} « {_shown(value)} ».")
        if ai in elements:
            raise ValidationError(f"Code Datamatrix : {name} présent deux fois.")
        elements[ai] = value
        while index < len(text) and text[index] == GS:
            index += 1
    if "01" not in elements:
        raise ValidationError(f"Code Datamatrix sans GTIN (01) : « {_shown(scanned)} » n'identifie pas une boîte.")
    gtin = check_gtin(elements["01"])
    today = today or date.today()
    expiry = _date(elements["17"], "date de péremption", today) if "17" in elements else None
    if expiry is None and "7003" in elements:
        expiry = _date(elements["7003"], "date de péremption", today)
    production = _date(elements["11"], "date de fabrication", today) if "11" in elements else None
    return BoxScan(gtin, expiry, elements.get("10"), elements.get("21"), elements, production)


def typed(gtin: str, *, expiry: date | None = None, lot: str = "", serial: str = "") -> BoxScan:
    """What a person typed from a box or a device's label (GTIN, expiry, lot, serial), with the checks of a scan."""
    lot, serial = lot.strip(), serial.strip()
    for value, ai in ((lot, "10"), (serial, "21")):
        maximum, name = AIS[ai][1:]
        if len(value) > maximum:
            raise ValidationError(f"Le {name} a {len(value)} caractères (au plus {maximum}).")
        if not _CSET82.match(value):
            raise ValidationError(f"Caractère non permis dans le {name} « {_shown(value)} ».")
    return BoxScan(check_gtin(str(gtin).strip()).zfill(14), expiry, lot or None, serial or None)


def looks_like_gs1(text: str) -> bool:
    """Whether a typed or scanned text is meant as a GS1 element string (rather than a name or a CIP13): a
    symbology prefix, a GS, the parenthesised form, or ``01`` followed by a GTIN-14 and more."""
    text = text.strip("\r\n")
    return (
        text.startswith(SYMBOLOGY_PREFIXES)
        or GS in text
        or text.startswith("(01)")
        or (len(text) > 16 and text.startswith("01") and text[2:16].isdigit())
    )


def scanned_cip13(text: str) -> str | None:
    """The CIP13 of the medicine box whose DataMatrix was scanned into ``text``; ``None`` when ``text`` is not a GS1
    code (a typed CIP13, a name). A scanned box that is not a French medicine is refused in French."""
    text = text.strip()
    if not looks_like_gs1(text):
        return None
    found = parse(text).cip13
    if found is None:
        raise ValidationError("La boîte scannée n'est pas un médicament à CIP13 français.")
    return found


def element_string(gtin: str, *, expiry: date | None = None, lot: str | None = None, serial: str | None = None) -> str:
    """The element string a box's DataMatrix carries (for tests and the demo): 01, 17, 10 then 21, GS after each
    variable field that is not last."""
    parts = [f"01{gtin.zfill(14)}"]
    if expiry is not None:
        parts.append(f"17{expiry:%y%m%d}")
    variable = [f"10{lot}"] if lot else []
    variable += [f"21{serial}"] if serial else []
    return "".join(parts) + GS.join(variable)
