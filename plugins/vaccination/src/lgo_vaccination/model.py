"""The plugin's table ``vaccination_note``: the facts of one vaccination, before and after its document."""

from __future__ import annotations

from datetime import date, datetime

from lgo.api import NAMING_CONVENTION, LabelledEnum, UTCDateTime, str_enum, utcnow
from sqlalchemy import Date, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class VaccinationBase(DeclarativeBase):
    """The plugin's own metadata: the foreign keys to kernel tables are declared in the migration."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class NoteStatus(LabelledEnum):
    #: Prepared from the billing, to be checked and completed by the pharmacist.
    TO_CHECK = "to_check", "à vérifier"
    #: Checked and validated by the pharmacist, but the identity is not qualified yet: the document waits.
    WAITING_IDENTITY = "waiting_identity", "en attente de la qualification de l'identité"
    VALIDATED = "validated", "validée"
    REPLACED = "replaced", "remplacée par une correction"
    CANCELLED = "cancelled", "annulée"


class VaccinationNote(VaccinationBase):
    __tablename__ = "vaccination_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    #: The vaccinator (a pharmacist with an RPPS number).
    operator_id: Mapped[int] = mapped_column(Integer)
    invoice_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    vaccine_label: Mapped[str] = mapped_column(String(200))
    cip13: Mapped[str] = mapped_column(String(13))
    cis: Mapped[str | None] = mapped_column(String(8), default=None)
    atc: Mapped[str | None] = mapped_column(String(7), default=None)
    disease_fr: Mapped[str] = mapped_column(String(120))
    lot_number: Mapped[str] = mapped_column(String(40))
    lot_expiry: Mapped[date | None] = mapped_column(Date, default=None)
    act_code: Mapped[str | None] = mapped_column(String(8), default=None)
    act_type: Mapped[str] = mapped_column(String(16))
    route_code: Mapped[str] = mapped_column(String(20))
    site_code: Mapped[str] = mapped_column(String(20))
    administered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[NoteStatus] = mapped_column(str_enum(NoteStatus, 20), default=NoteStatus.TO_CHECK)
    #: Visibility chosen at validation (applied to the document, sent as DMP metadata only).
    hidden_from_patient: Mapped[bool] = mapped_column(default=False)
    masked_from_professionals: Mapped[bool] = mapped_column(default=False)
    document_id: Mapped[int | None] = mapped_column(Integer, default=None)
    replaces_note_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("vaccination_note.id"), default=None)
    validated_by: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
