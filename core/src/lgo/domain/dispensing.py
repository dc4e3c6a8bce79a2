"""Prescriptions and the ordonnancier.

Every product dispensed against a prescription is written to the ordonnancier under a gap-free number when
the billing ends. An entry is immutable: a correction is a new entry that points at the one it corrects.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base, Immutable, UTCDateTime, str_enum, utcnow
from lgo.domain.sequences import next_number
from lgo.errors import NotFound, ValidationError
from lgo.identifiers import check_rpps

ORDONNANCIER = "ordonnancier"


class PrescriptionSource(StrEnum):
    PAPER = "papier"
    ELECTRONIC = "ordonnance_numerique"
    #: No physician's prescription: the pharmacist dispenses under a national protocol (e.g. an antibiotic after a
    #: positive TROD) and is recorded as the prescriber, as the billing rules ask.
    PROTOCOL = "protocole"


class Prescription(Base):
    __tablename__ = "prescription"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    prescriber_rpps: Mapped[str | None] = mapped_column(String(11), default=None)
    prescriber_name: Mapped[str] = mapped_column(String(200))
    prescribed_on: Mapped[date]
    source: Mapped[PrescriptionSource] = mapped_column(
        str_enum(PrescriptionSource, 24), default=PrescriptionSource.PAPER
    )
    #: Identifier at the issuing service (e.g. the ordonnance numérique's number).
    external_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Which dispensing of a renewable prescription this is (0: the first).
    renewal_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Dispensation(Immutable, Base):
    """One line of the ordonnancier."""

    __tablename__ = "dispensation"
    __table_args__ = (UniqueConstraint("pharmacy_id", "number"),)
    __immutable_label__ = "enregistrement de l'ordonnancier"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescription.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_lot.id"), default=None)
    quantity: Mapped[int] = mapped_column(Integer)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), default=None, index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("dispensation.id"), default=None)
    correction_reason: Mapped[str] = mapped_column(String(300), default="")


def create_prescription(
    session: Session,
    pharmacy_id: int,
    patient_id: int,
    *,
    prescriber_name: str,
    prescribed_on: date,
    prescriber_rpps: str | None = None,
    source: PrescriptionSource = PrescriptionSource.PAPER,
    external_id: str | None = None,
    renewal_number: int = 0,
) -> Prescription:
    if not prescriber_name.strip():
        raise ValidationError("Le nom du prescripteur est obligatoire.")
    if prescribed_on > date.today():
        raise ValidationError("La date de prescription ne peut pas être dans le futur.")
    if not 0 <= renewal_number <= 12:
        raise ValidationError("Le numéro de renouvellement doit être entre 0 et 12.")
    prescription = Prescription(
        pharmacy_id=pharmacy_id,
        patient_id=patient_id,
        prescriber_name=prescriber_name.strip(),
        prescriber_rpps=check_rpps(prescriber_rpps) if prescriber_rpps else None,
        prescribed_on=prescribed_on,
        source=source,
        external_id=external_id,
        renewal_number=renewal_number,
    )
    session.add(prescription)
    session.flush()
    return prescription


def record_dispensation(
    session: Session,
    *,
    pharmacy_id: int,
    prescription_id: int,
    patient_id: int,
    product_id: int,
    lot_id: int | None,
    quantity: int,
    operator_id: int,
    invoice_id: int | None,
    corrects: Dispensation | None = None,
    correction_reason: str = "",
    number: int | None = None,
) -> Dispensation:
    """Write an ordonnancier line under the next number, flushed. A billing passes its own ``number``, taken with
    the others of the billing (:func:`lgo.domain.sequences.next_numbers` in this transaction), and flushes all its
    rows at once."""
    entry = Dispensation(
        pharmacy_id=pharmacy_id,
        number=next_number(session, pharmacy_id, ORDONNANCIER) if number is None else number,
        prescription_id=prescription_id,
        patient_id=patient_id,
        product_id=product_id,
        lot_id=lot_id,
        quantity=quantity,
        operator_id=operator_id,
        invoice_id=invoice_id,
        corrects_id=corrects.id if corrects else None,
        correction_reason=correction_reason,
    )
    session.add(entry)
    if number is None:
        session.flush()
    return entry


def correct_dispensation(
    session: Session,
    original_id: int,
    *,
    quantity: int,
    reason: str,
    operator_id: int,
    lot_id: int | None = None,
) -> Dispensation:
    """Write a correcting entry (new number) for an ordonnancier line; the original stays as it was."""
    original = session.get(Dispensation, original_id)
    if original is None:
        raise NotFound(f"Aucune ligne d'ordonnancier n° {original_id}.")
    if not reason.strip():
        raise ValidationError("Une correction de l'ordonnancier doit être motivée.")
    return record_dispensation(
        session,
        pharmacy_id=original.pharmacy_id,
        prescription_id=original.prescription_id,
        patient_id=original.patient_id,
        product_id=original.product_id,
        lot_id=lot_id if lot_id is not None else original.lot_id,
        quantity=quantity,
        operator_id=operator_id,
        invoice_id=original.invoice_id,
        corrects=original,
        correction_reason=reason.strip(),
    )


def ordonnancier(session: Session, pharmacy_id: int) -> list[Dispensation]:
    return list(
        session.scalars(
            select(Dispensation).where(Dispensation.pharmacy_id == pharmacy_id).order_by(Dispensation.number)
        )
    )
