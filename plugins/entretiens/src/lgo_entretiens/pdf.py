"""The printable compte rendu (PDF) of an interview or a bilan partagé de médication, with reportlab."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from lgo.api import printed
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle


@dataclass(frozen=True)
class ReportContent:
    title: str
    pharmacy: str
    pharmacist: str
    patient: str
    held_on: date
    theme: str
    analysis: str
    recommendations: str
    #: BPM: rows (médicament, CIP13, dernière délivrance, boîtes).
    medications: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: The answers of the interview's form: (question, answer).
    answers: list[tuple[str, str]] = field(default_factory=list)


def _paragraphs(text: str, style: object) -> list[Paragraph]:
    # User text is escaped: reportlab paragraphs interpret a small markup language.
    return [Paragraph(escape(line) or "&nbsp;", style) for line in text.splitlines() or [""]]


def render(content: ReportContent) -> bytes:
    header = printed.SheetHeader(
        title=content.title,
        pharmacy=content.pharmacy,
        patient=content.patient,
        pharmacist=content.pharmacist,
        subject=content.theme,
        lines=(("Date", f"{content.held_on:%d/%m/%Y}"), ("Objet", content.theme)),
    )
    return printed.patient_sheet(header, lambda styles: _body(content, styles))


def _body(content: ReportContent, styles: Any) -> list[object]:
    story: list[object] = []
    if content.medications:
        story.append(Paragraph("Traitements délivrés (historique de l'officine)", styles["Heading2"]))
        small = styles["BodyText"].clone("cell", fontSize=8.5, leading=10)
        rows = [
            ["Médicament", "CIP13", "Dernière délivrance", "Boîtes"],
            *(
                [Paragraph(escape(label), small), cip13, last, boxes]
                for label, cip13, last, boxes in content.medications
            ),
        ]
        story += [printed.grid_table(rows, (80, 32, 36, 18), font_size=8.5), Spacer(1, 6 * mm)]
    if content.answers:
        story.append(Paragraph("Points abordés", styles["Heading2"]))
        rows = [
            [Paragraph(escape(question), styles["Normal"]), Paragraph(escape(answer) or "—", styles["Normal"])]
            for question, answer in content.answers
        ]
        table = Table(rows, colWidths=[70 * mm, 96 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 6 * mm)]
    story.append(Paragraph("Analyse du pharmacien", styles["Heading2"]))
    story += _paragraphs(content.analysis, styles["Normal"])
    story.append(Paragraph("Recommandations", styles["Heading2"]))
    story += _paragraphs(content.recommendations, styles["Normal"])
    return story
