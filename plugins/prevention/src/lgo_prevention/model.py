"""The plugin's table ``prevention_bilan``: one Mon bilan prévention, its interview and its plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from lgo.api import NAMING_CONVENTION, LabelledEnum, PatientRecord, str_enum
from sqlalchemy import JSON, Date, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PreventionBase(DeclarativeBase):
    """The plugin's own metadata: the foreign keys to kernel tables are declared in the migration."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BilanStatus(LabelledEnum):
    OPEN = "open", "entretien en cours"
    BILLED = "billed", "facturé, plan à valider"
    WAITING_IDENTITY = "waiting_identity", "plan validé, en attente de la qualification de l'identité"
    VALIDATED = "validated", "plan validé"
    CANCELLED = "cancelled", "annulé"


class Bilan(PatientRecord, PreventionBase):
    __tablename__ = "prevention_bilan"

    band: Mapped[str] = mapped_column(String(8))
    held_on: Mapped[date] = mapped_column(Date)
    status: Mapped[BilanStatus] = mapped_column(str_enum(BilanStatus, 20), default=BilanStatus.OPEN)
    #: Theme code → what was said (the interview).
    notes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: The plan: [{"theme", "objective", "actions"}], written with the patient.
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    additional_act: Mapped[str | None] = mapped_column(String(8), default=None)
    invoice_id: Mapped[int | None] = mapped_column(Integer, default=None)
    document_id: Mapped[int | None] = mapped_column(Integer, default=None)
    physician_name: Mapped[str | None] = mapped_column(String(200), default=None)
    physician_mssante: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Where the plan stands with the médecin traitant (MSSanté), in French.
    physician_status_fr: Mapped[str] = mapped_column(String(300), default="")
    mssante_message_id: Mapped[int | None] = mapped_column(Integer, default=None)
