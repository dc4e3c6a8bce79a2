"""The patient's printed sheet of ``lgo.api.printed`` (plugins print it with reportlab): the same opening for every
act, texts from outside escaped rather than read as markup, the plugin's body after it, a grid table over pages."""

from __future__ import annotations

import io
from typing import Any

from lgo.api import printed
from pypdf import PdfReader
from reportlab.platypus import Paragraph


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_sheet_opens_with_the_pharmacy_the_patient_the_pharmacist_and_the_act_then_the_plugin_s_body() -> None:
    header = printed.SheetHeader(
        title="Attestation <essai>",
        pharmacy="Pharmacie du Port & fils — FINESS 330000001",
        patient="<b>DUPONT</b> Jeanne",
        pharmacist="Claire Durand (RPPS 99999000010)",
        subject="TROD angine",
        lines=(("Test", "TROD angine"), ("Date", "02/12/2026")),
    )
    rows = [["Recherche", "Résultat"], *(([f"ligne {n}", "négatif"]) for n in range(90))]

    def body(styles: Any) -> list[Any]:
        return [Paragraph("Le corps du module", styles["Heading2"]), printed.grid_table(rows, (110, 60))]

    pdf = printed.patient_sheet(header, body)
    text = _text(pdf)
    order = ["Attestation <essai>", "Pharmacie du Port & fils", "Patient : <b>DUPONT</b> Jeanne", "Pharmacien : Claire"]
    order += ["Test : TROD angine", "Date : 02/12/2026", "Le corps du module", "ligne 0", "ligne 89"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1 and "Recherche" in (reader.pages[1].extract_text() or "")  # header row repeated
    assert reader.metadata is not None
    assert (reader.metadata.title, reader.metadata.author, reader.metadata.subject, reader.metadata.creator) == (
        "Attestation <essai>",
        "Claire Durand (RPPS 99999000010)",
        "TROD angine",
        printed.CREATOR,
    )
