"""The patient's attestation of the TROD as a PDF to print or send (reportlab): the pharmacy, the pharmacist, the
patient, the test and its device, the result, then the antibiotic with its posology and duration, or the
orientation to a physician and its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from lgo.api import printed
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer


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
    header = printed.SheetHeader(
        title=content.title,
        pharmacy=content.pharmacy,
        patient=content.patient,
        pharmacist=content.pharmacist,
        subject=content.test,
        lines=(
            ("Date et heure du test", f"{content.tested_at:%d/%m/%Y à %H:%M}"),
            ("Test", content.test),
            ("Dispositif", content.device),
        ),
    )
    return printed.patient_sheet(header, lambda styles: _body(content, styles))


def _body(content: AttestationContent, styles: Any) -> list[object]:
    normal = styles["Normal"]
    table = printed.grid_table([["Recherche", "Résultat"], *content.results], (110, 60))
    story: list[object] = [table, Spacer(1, 6 * mm)]
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
    return story
