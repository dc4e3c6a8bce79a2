"""The sheet a plugin prints for the patient (A4 PDF): an attestation, a plan, a compte rendu.

Every sheet opens the same way — title, pharmacy, patient, pharmacist, the act's own lines (date, test, band…) — and
the plugin writes the rest with reportlab's flowables. reportlab is imported when a sheet is printed: the kernel does
not depend on it, a plugin that prints does (``reportlab>=4`` in its dependencies). Every text is escaped here:
reportlab paragraphs read a small markup language, and names come from outside.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

#: The producer named in every printed sheet's properties.
CREATOR = "LGO libre"


@dataclass(frozen=True)
class SheetHeader:
    """What opens a sheet; ``subject`` goes to the PDF's properties, ``lines`` (label, value) follow the pharmacist."""

    title: str
    pharmacy: str
    patient: str
    pharmacist: str
    subject: str
    lines: tuple[tuple[str, str], ...] = ()


def patient_sheet(header: SheetHeader, body: Callable[[Any], list[Any]]) -> bytes:
    """The PDF: the header, then ``body(styles)`` — the flowables the plugin builds from reportlab's sample style
    sheet (``styles["Normal"]``, ``styles["Heading2"]``…)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    normal = styles["Normal"]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=header.title,
        author=header.pharmacist,
        subject=header.subject,
        creator=CREATOR,
    )
    fields = (("Patient", header.patient), ("Pharmacien", header.pharmacist), *header.lines)
    story: list[Any] = [
        Paragraph(escape(header.title), styles["Title"]),
        Paragraph(escape(header.pharmacy), normal),
        Spacer(1, 4 * mm),
        *(Paragraph(f"<b>{escape(label)} :</b> {escape(value)}", normal) for label, value in fields),
        Spacer(1, 5 * mm),
    ]
    document.build(story + body(styles))
    return buffer.getvalue()


def grid_table(rows: Sequence[Sequence[Any]], widths_mm: Sequence[float], *, font_size: float | None = None) -> Any:
    """A table with a grid and a shaded first row (bold when its cells are plain text), repeated on each page."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ]
    if font_size is not None:
        style.append(("FONTSIZE", (0, 0), (-1, -1), font_size))
    table = Table([list(row) for row in rows], colWidths=[width * mm for width in widths_mm], repeatRows=1)
    table.setStyle(TableStyle(style))
    return table
