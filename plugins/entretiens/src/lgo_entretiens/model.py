"""The plugin's table ``entretiens_record``: one row per interview or bilan partagé de médication."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from lgo.api import NAMING_CONVENTION, UTCDateTime, str_enum, utcnow
from sqlalchemy import JSON, Date, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class EntretiensBase(DeclarativeBase):
    """The plugin's own metadata: the foreign keys to kernel tables are declared in the migration."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RecordKind(StrEnum):
    INTERVIEW = "entretien"
    BPM = "bpm"


class InterviewRecord(EntretiensBase):
    __tablename__ = "entretiens_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RecordKind] = mapped_column(str_enum(RecordKind, 16))
    #: Interview theme (AVK, AOD, ASTHME, GROSSESSE, ANTICANCEREUX) or the BPM step.
    theme: Mapped[str] = mapped_column(String(32))
    act_code: Mapped[str | None] = mapped_column(String(8), default=None)
    held_on: Mapped[date] = mapped_column(Date)
    analysis: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    #: BPM: the medication list taken from the dispensing history (label, cip13, last date, boxes).
    medications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The kernel health document once prepared (``health_document.id``).
    document_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The answers of the interview's form (:data:`lgo_entretiens.themes.QUESTIONS`), by question key.
    answers: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    #: What the pharmacist chose at validation: ``{"doctor": address, "to_patient": bool, "bill": bool}``.
    follow_up: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: The invoice of the act, once billed; the MSSanté message, once queued.
    invoice_id: Mapped[int | None] = mapped_column(Integer, default=None)
    message_id: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
