"""Pieces every archive of an export shares: the README (ASCII, CRLF, as PDLGC asks), the rows of a table as JSON
lines, the names of the files, the description of the software and of the pharmacy."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lgo.portability import values
from lgo.portability.tables import Catalogue, PortableTable

PRODUCT = "LGO libre"
PUBLISHER = "Projet LGO libre"
PUBLISHER_CONTACT = "https://lgo-libre.fr/portabilite"


def software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lgo-core")
    except PackageNotFoundError:
        return "inconnue"


def ascii_text(text: str) -> str:
    """French text in 7-bit ASCII (PDLGC: README.TXT is ASCII with CRLF): accents dropped, ligatures spelt out."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").replace("’", "'")
    text = text.replace("«", '"').replace("»", '"').replace("\u202f", " ").replace("\xa0", " ").replace("—", "-")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if ord(c) < 128 and not unicodedata.combining(c))


def readme(title: str, sections: Sequence[tuple[str, Sequence[str]]]) -> bytes:
    lines = [ascii_text(title), "=" * len(ascii_text(title)), ""]
    for heading, body in sections:
        lines += [ascii_text(heading), "-" * len(ascii_text(heading))]
        lines += [ascii_text(line) for line in body]
        lines.append("")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def vendor_section(finess: str, pharmacy_name: str) -> tuple[str, list[str]]:
    return (
        "Fournisseur sortant",
        [
            f"    . Officine exportee : {pharmacy_name} (FINESS {finess}, IdNatStruct 1{finess})",
            f"    . Editeur du logiciel : {PUBLISHER}",
            f"    . Contact de portabilite : {PUBLISHER_CONTACT}",
            "",
            "Application du fournisseur sortant :",
            f"    . Nom : {PRODUCT}",
            f"    . Version : {software_version()}",
        ],
    )


@dataclass
class TableFiles:
    """The file of each table in the archives (``DONNEES/T004.JSL`` in a patient's, 8.3 names) and what it is."""

    catalogue: Catalogue
    numbers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.numbers = {name: number for number, name in enumerate(self.catalogue.order, start=1)}

    def patient_file(self, table: str) -> str:
        return f"DONNEES/T{self.numbers[table]:03d}.JSL"

    def transverse_file(self, table: str) -> str:
        return f"TRANSVERSE/TABLES/{table}.jsonl"


BinaryNamer = Callable[[str, str, Mapping[str, Any]], str]


def row_json(
    table: PortableTable,
    row: Mapping[str, Any],
    binary_file: BinaryNamer,
) -> bytes:
    """One row as a JSON line, exported columns in table order: transforms applied, binary values replaced by the
    name of the file ``binary_file(table, column, row)`` chose (and wrote)."""
    out: dict[str, Any] = {}
    for column in table.exported_columns():
        value = row[column]
        transform = table.transforms.get(column)
        if transform is not None:
            value = transform.export(value)
        if value is not None and values.is_binary(table.table.c[column].type):
            out[column] = {"fichier": binary_file(table.name, column, row)}
        else:
            out[column] = values.encode(value)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def csv_line(cells: Iterable[object]) -> bytes:
    """A line of the project's CSV files: semicolon-separated, quoted when needed, UTF-8, CRLF."""
    out = []
    for cell in cells:
        text = "" if cell is None else str(cell)
        if any(c in text for c in ';"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return (";".join(out) + "\r\n").encode("utf-8")


def stamp(moment: datetime) -> str:
    """``20260301T093000`` in Paris time: the archive's name and its date everywhere."""
    from lgo.local_time import in_paris

    return in_paris(moment).strftime("%Y%m%dT%H%M%S")
