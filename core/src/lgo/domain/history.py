"""A patient's history as the kernel keeps it: the dispensings of the ordonnancier (what the Dossier Pharmaceutique
shows a pharmacist, here from this pharmacy's own register) and the health documents produced here.

Read-only queries, one round trip each, for the patient's file at the counter and for plugins (the bilan partagé
de médication pre-fills its medication list from :func:`dispensing_history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from lgo.documents.model import DocumentStatus, HealthDocument
from lgo.domain.dispensing import Dispensation, Prescription
from lgo.domain.pharmacy import Operator
from lgo.domain.products import Product
from lgo.domain.stock import Lot


@dataclass(frozen=True)
class DispensedLine:
    """One ordonnancier line of the patient."""

    number: int
    at: datetime
    product_label: str
    cip13: str
    quantity: int
    prescriber: str
    prescribed_on: str
    lot_number: str
    operator: str
    #: The number of the line this one corrects, if it is a correction.
    corrects_number: int | None = None
    correction_reason: str = ""


def dispensing_history(session: Session, pharmacy_id: int, patient_id: int, since: datetime) -> list[DispensedLine]:
    """The patient's ordonnancier lines validated since ``since`` (an aware datetime), newest first."""
    corrected = aliased(Dispensation)
    rows = session.execute(
        select(
            Dispensation.number,
            Dispensation.validated_at,
            Product.label,
            Product.cip13,
            Dispensation.quantity,
            Prescription.prescriber_name,
            Prescription.prescribed_on,
            Lot.lot_number,
            Operator.first_name,
            Operator.last_name,
            corrected.number,
            Dispensation.correction_reason,
        )
        .join(Product, Product.id == Dispensation.product_id)
        .join(Prescription, Prescription.id == Dispensation.prescription_id)
        .join(Operator, Operator.id == Dispensation.operator_id)
        .outerjoin(Lot, Lot.id == Dispensation.lot_id)
        .outerjoin(corrected, corrected.id == Dispensation.corrects_id)
        .where(
            Dispensation.pharmacy_id == pharmacy_id,
            Dispensation.patient_id == patient_id,
            Dispensation.validated_at >= since,
        )
        .order_by(Dispensation.validated_at.desc(), Dispensation.number.desc())
    ).all()
    return [
        DispensedLine(
            number=row[0],
            at=row[1],
            product_label=row[2],
            cip13=row[3],
            quantity=row[4],
            prescriber=row[5],
            prescribed_on=row[6].strftime("%d/%m/%Y"),
            lot_number=row[7] or "",
            operator=f"{row[8]} {row[9]}",
            corrects_number=row[10],
            correction_reason=row[11] or "",
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ProducedDocument:
    """A health document written by this pharmacy for the patient (note de vaccination, CR d'entretien, BPM…)."""

    id: int
    title: str
    type_display: str
    status: DocumentStatus
    created_at: datetime
    validated_at: datetime | None
    source_plugin: str

    @property
    def status_fr(self) -> str:
        return self.status.label_fr


def produced_documents(session: Session, pharmacy_id: int, patient_id: int) -> list[ProducedDocument]:
    """The patient's documents produced here, newest first (drafts included, marked as such)."""
    rows = session.execute(
        select(
            HealthDocument.id,
            HealthDocument.title,
            HealthDocument.type_display,
            HealthDocument.status,
            HealthDocument.created_at,
            HealthDocument.validated_at,
            HealthDocument.source_plugin,
        )
        .where(HealthDocument.pharmacy_id == pharmacy_id, HealthDocument.patient_id == patient_id)
        .order_by(HealthDocument.created_at.desc(), HealthDocument.id.desc())
    ).all()
    return [ProducedDocument(*row) for row in rows]
