"""The printable compte rendu (PDF) of an interview or a bilan partagé de médication, with reportlab."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


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
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=content.title,
        author=content.pharmacist,
        subject=content.theme,
        creator="LGO libre",
    )
    story: list[object] = [
        Paragraph(escape(content.title), styles["Title"]),
        Paragraph(escape(content.pharmacy), styles["Normal"]),
        Spacer(1, 4 * mm),
        Paragraph(f"<b>Patient :</b> {escape(content.patient)}", styles["Normal"]),
        Paragraph(f"<b>Pharmacien :</b> {escape(content.pharmacist)}", styles["Normal"]),
        Paragraph(f"<b>Date :</b> {content.held_on:%d/%m/%Y}", styles["Normal"]),
        Paragraph(f"<b>Objet :</b> {escape(content.theme)}", styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
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
        table = Table(rows, colWidths=[80 * mm, 32 * mm, 36 * mm, 18 * mm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ]
            )
        )
        story += [table, Spacer(1, 6 * mm)]
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
    document.build(story)
    return buffer.getvalue()
