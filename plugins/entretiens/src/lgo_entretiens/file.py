"""The interviews and bilans section of the patient's file at the counter: each record with its state (draft,
validated), its act billed, and the key to start a new one — offered only to a pharmacist holding the habilitation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import (
    CounterShortcut,
    DocumentStatus,
    FileLink,
    FileRow,
    HealthDocument,
    Invoice,
    Operator,
    PatientFileSection,
)
from sqlalchemy import select

from lgo_entretiens.drafts import label_of
from lgo_entretiens.model import InterviewRecord

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

HABILITATION = "entretiens.conduct"
NEW_KEY = "Alt+E"


def shortcuts() -> list[CounterShortcut]:
    return [
        CounterShortcut(
            NEW_KEY, "Entretien / bilan", endpoint="entretiens.new", needs_patient=True, habilitation=HABILITATION
        )
    ]


def sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    with kernel.transaction() as session:
        operator = session.get(Operator, view.operator_id)
        may = operator is not None and bool(operator.rpps) and operator.has(HABILITATION)
        rows = session.execute(
            select(InterviewRecord, HealthDocument.status, Invoice.number)
            .outerjoin(HealthDocument, HealthDocument.id == InterviewRecord.document_id)
            .outerjoin(Invoice, Invoice.id == InterviewRecord.invoice_id)
            .where(InterviewRecord.pharmacy_id == view.pharmacy_id, InterviewRecord.patient_id == view.patient_id)
            .order_by(InterviewRecord.held_on.desc(), InterviewRecord.id.desc())
        ).all()
        shown = tuple(
            FileRow(
                (
                    record.held_on.strftime("%d/%m/%Y"),
                    label_of(record),
                    "validé" if status not in (None, DocumentStatus.DRAFT) else "brouillon",
                    f"{record.act_code} — facture n° {number}" if number else (record.act_code or "—"),
                ),
                link=FileLink("Ouvrir", "entretiens.edit", (("record_id", record.id),)) if may else None,
            )
            for record, status, number in rows
        )
    links = (
        (FileLink("Nouvel entretien ou bilan", "entretiens.new", (("patient_id", view.patient_id),), key=NEW_KEY),)
        if may
        else ()
    )
    return [
        PatientFileSection(
            "entretiens",
            "Entretiens pharmaceutiques et bilans partagés de médication",
            columns_fr=("Date", "Type", "État", "Acte"),
            rows=shown,
            empty_fr="Aucun entretien ni bilan pour ce patient.",
            links=links,
            order=60,
        )
    ]
