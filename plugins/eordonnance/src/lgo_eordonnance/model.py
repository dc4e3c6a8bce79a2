"""Table ``eordonnance_execution``: one dispensing of an ordonnance numérique, line by line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lgo.api import NAMING_CONVENTION, UTCDateTime, utcnow
from sqlalchemy import JSON, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class EOrdonnanceBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Execution(EOrdonnanceBase):
    __tablename__ = "eordonnance_execution"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(String(15), index=True)
    #: 0 for the first dispensing, n for the n-th renewal.
    renewal_number: Mapped[int] = mapped_column(Integer, default=0)
    prescription: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: One entry per prescribed line: what was decided (kind, product, quantity, reason, information).
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: draft → billed → dispensing_sent → complement_queued → complement_sent
    status: Mapped[str] = mapped_column(String(24), default="draft")
    prescription_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    invoice_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    remote_execution_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
