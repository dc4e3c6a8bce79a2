"""Append-only audit log: who did what, when, on which patient. Plugins write to it through
:func:`record` (or ``Kernel.audit``), or :func:`record_about` for an entry about one of their records; rows are
never updated or deleted (a database trigger refuses it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base, Immutable, UTCDateTime, utcnow

#: The longest French message of an entry; a longer one is cut (and kept whole in ``details``).
MESSAGE_LENGTH = 500


class AuditEntry(Immutable, Base):
    __tablename__ = "audit_entry"
    # A pharmacy's journal, newest first, read without touching the other pharmacies' entries (decision 1401).
    __table_args__ = (Index("ix_audit_entry_pharmacy_id_id", "pharmacy_id", "id"),)
    __immutable_label__ = "enregistrement du journal d'audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: "kernel" or the name of the plugin that wrote the entry.
    actor: Mapped[str] = mapped_column(String(64), default="kernel")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), default=None)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), default=None, index=True)
    #: Dotted, stable name (e.g. "billing.validated", "dmp.consulted") for filters and reports.
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: What a pharmacist reads in the journal, in French.
    message_fr: Mapped[str] = mapped_column(String(MESSAGE_LENGTH), default="")
    object_type: Mapped[str | None] = mapped_column(String(64), default=None)
    object_id: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session,
    pharmacy_id: int,
    action: str,
    message_fr: str = "",
    *,
    actor: str = "kernel",
    operator_id: int | None = None,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    if len(message_fr) > MESSAGE_LENGTH:  # the whole text stays in the details, the column holds what fits
        details = {**(details or {}), "message_fr": message_fr}
        message_fr = message_fr[: MESSAGE_LENGTH - 1] + "…"
    entry = AuditEntry(
        pharmacy_id=pharmacy_id,
        action=action,
        message_fr=message_fr,
        actor=actor,
        operator_id=operator_id,
        patient_id=patient_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
    )
    session.add(entry)
    return entry


class Recorded(Protocol):
    """A row of a table about one patient of one pharmacy (a TROD, a bilan, a note de vaccination...)."""

    __tablename__: Any
    id: int
    pharmacy_id: int
    patient_id: int


def record_about(
    session: Session,
    row: Recorded,
    action: str,
    message_fr: str,
    *,
    actor: str,
    operator_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """An entry about ``row``: its pharmacy and patient, its table and id as the object."""
    return record(
        session,
        row.pharmacy_id,
        action,
        message_fr,
        actor=actor,
        operator_id=operator_id,
        patient_id=row.patient_id,
        object_type=str(row.__tablename__),
        object_id=row.id,
        details=details,
    )


def recent(session: Session, pharmacy_id: int, limit: int = 50, patient_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.pharmacy_id == pharmacy_id)
    if patient_id is not None:
        query = query.where(AuditEntry.patient_id == patient_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
