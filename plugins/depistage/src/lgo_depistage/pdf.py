"""The patient's attestation of the TROD as a PDF to print or send (reportlab): the pharmacy, the pharmacist, the
patient, the test and its device, the result, then the antibiotic with its posology and duration, or the
orientation to a physician and its reasons."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


@dataclass(frozen=True)
class AttestationContent:
    title: str
    pharmacy: str
    pharmacist: str
    patient: str
    tested_at: datetime
    test: str
    device: str
    #: (what was looked for, result)
    results: list[tuple[str, str]]
    antibiotic: str = ""
    orientation: str = ""
    reasons: list[str] = field(default_factory=list)
    physician: str = ""


def render(content: AttestationContent) -> bytes:
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
        subject=content.test,
        creator="LGO libre",
    )
    normal = styles["Normal"]
    story: list[object] = [
        Paragraph(escape(content.title), styles["Title"]),
        Paragraph(escape(content.pharmacy), normal),
        Spacer(1, 4 * mm),
        Paragraph(f"<b>Patient :</b> {escape(content.patient)}", normal),
        Paragraph(f"<b>Pharmacien :</b> {escape(content.pharmacist)}", normal),
        Paragraph(f"<b>Date et heure du test :</b> {content.tested_at:%d/%m/%Y à %H:%M}", normal),
        Paragraph(f"<b>Test :</b> {escape(content.test)}", normal),
        Paragraph(f"<b>Dispositif :</b> {escape(content.device)}", normal),
        Spacer(1, 5 * mm),
    ]
    table = Table([["Recherche", "Résultat"], *map(list, content.results)], colWidths=[110 * mm, 60 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]
    if content.antibiotic:
        story += [
            Paragraph("Traitement délivré sans ordonnance (protocole)", styles["Heading2"]),
            Paragraph(escape(content.antibiotic), normal),
        ]
    if content.orientation:
        story += [Paragraph("Orientation", styles["Heading2"]), Paragraph(escape(content.orientation), normal)]
        story += [Paragraph(f"• {escape(reason)}", normal) for reason in content.reasons]
    if content.physician:
        story += [Spacer(1, 4 * mm), Paragraph(f"<b>Médecin traitant :</b> {escape(content.physician)}", normal)]
    story += [
        Spacer(1, 8 * mm),
        Paragraph(
            "Ce test rapide d'orientation diagnostique ne remplace pas un diagnostic médical. Consultez un médecin "
            "si les symptômes persistent ou s'aggravent.",
            styles["Italic"],
        ),
    ]
    document.build(story)
    return buffer.getvalue()
