"""Tables ``ins_identity`` (one per patient) and ``ins_history`` (former matricules, INSHISTO)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from lgo.api import NAMING_CONVENTION, UTCDateTime, utcnow
from sqlalchemy import JSON, Boolean, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class InsBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Status(StrEnum):
    PROVISOIRE = "provisoire"
    RECUPEREE = "récupérée"
    VALIDEE = "validée"
    QUALIFIEE = "qualifiée"


def status_of(insi_checked: bool, document_checked: bool) -> Status:
    """The RNIV table: INSi criterion × high-trust identity document criterion."""
    return {
        (False, False): Status.PROVISOIRE,
        (True, False): Status.RECUPEREE,
        (False, True): Status.VALIDEE,
        (True, True): Status.QUALIFIEE,
    }[(insi_checked, document_checked)]


class InsIdentity(InsBase):
    __tablename__ = "ins_identity"
    __table_args__ = (UniqueConstraint("pharmacy_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer)
    matricule: Mapped[str | None] = mapped_column(String(15), default=None)
    oid: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The INS traits as INSi returned them (birth_name, first_names, sex, birth_date, birth_place_code).
    traits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    insi_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    document_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    document_kind: Mapped[str | None] = mapped_column(String(40), default=None)
    doubtful: Mapped[bool] = mapped_column(Boolean, default=False)
    fictitious: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "Aucune pièce présentée": how many more dispensings will ask again.
    prompts_left: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Last recorded answer about the document (refus, pièce différente...), for the pharmacist.
    document_note: Mapped[str | None] = mapped_column(String(200), default=None)
    #: An INSi answer obtained in the background (retry), waiting for the pharmacist's confirmation.
    pending_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: Cannot have an INS (anonymat réglementaire, not registered in France).
    no_ins_reason: Mapped[str | None] = mapped_column(String(120), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def status(self) -> Status:
        return status_of(self.insi_checked, self.document_checked)


class InsHistory(InsBase):
    __tablename__ = "ins_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    matricule: Mapped[str] = mapped_column(String(15))
    oid: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
