"""Tables of the ``dp`` plugin (their migration holds the foreign keys to the kernel's tables).

* ``dp_patient`` — what this pharmacy knows of a patient's DP and consent: created, refused (with its date and the
  end of its ten-year validity), closed; no row means "never asked".
* ``dp_line`` — every product line dispensed to an identified patient, and where its feeding stands (queued, sent,
  waiting for a qualified identity or for the DP's creation, not fed and why). One row per line, whatever the retries.
* ``dp_bulletin`` — the recalls (DP-Rappels) and health alerts (DP-Alertes) received, and who acknowledged them when.
* ``dp_sync`` — per pharmacy, the cursor of the last bulletins fetched.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from lgo.api import NAMING_CONVENTION, LabelledEnum, UTCDateTime, str_enum, utcnow
from sqlalchemy import JSON, Boolean, Date, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: A refusal of the DP is valid this many years (then the creation may be proposed again).
REFUSAL_YEARS = 10


class DpBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LineStatus(LabelledEnum):
    QUEUED = "queued", "en file d'envoi"
    SENT = "sent", "transmise au DP"
    WAITING_IDENTITY = "waiting_identity", "en attente : identité non qualifiée"
    WAITING_FILE = "waiting_file", "en attente : le patient n'a pas de DP"
    NOT_FED = "not_fed", "non transmise"
    FAILED = "failed", "échec de l'envoi"


class PatientFile(DpBase):
    __tablename__ = "dp_patient"
    __table_args__ = (UniqueConstraint("pharmacy_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer)
    #: A :class:`lgo_dp.transport.FileState` value (``absent``, ``actif``, ``refus``, ``ferme``).
    state: Mapped[str] = mapped_column(String(16))
    created_on: Mapped[date | None] = mapped_column(Date, default=None)
    refused_on: Mapped[date | None] = mapped_column(Date, default=None)
    refusal_valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    updated_by: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class FedLine(DpBase):
    __tablename__ = "dp_line"
    __table_args__ = (UniqueConstraint("pharmacy_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    #: This pharmacy's stable identifier of the line in the DP (``<FINESS>-<ordonnancier number>``...).
    reference: Mapped[str] = mapped_column(String(80))
    invoice_id: Mapped[int | None] = mapped_column(Integer, default=None)
    dispensation_id: Mapped[int | None] = mapped_column(Integer, default=None)
    product_id: Mapped[int] = mapped_column(Integer)
    lot_id: Mapped[int | None] = mapped_column(Integer, default=None)
    cip13: Mapped[str] = mapped_column(String(13))
    label: Mapped[str] = mapped_column(String(200))
    lot_number: Mapped[str | None] = mapped_column(String(40), default=None)
    quantity: Mapped[int] = mapped_column(Integer)
    dispensed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The reference of the line this one corrects.
    replaces: Mapped[str | None] = mapped_column(String(80), default=None)
    status: Mapped[LineStatus] = mapped_column(str_enum(LineStatus, 24))
    reason_fr: Mapped[str] = mapped_column(String(300), default="")
    masked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How many times the line was queued (each queuing has its own idempotency key).
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def status_fr(self) -> str:
        label = self.status.label_fr
        return f"{label} ({self.reason_fr})" if self.reason_fr else label


class DpBulletin(DpBase):
    __tablename__ = "dp_bulletin"
    __table_args__ = (UniqueConstraint("pharmacy_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    remote_id: Mapped[str] = mapped_column(String(64))
    #: ``rappel`` or ``alerte`` (:class:`lgo_dp.transport.BulletinKind`).
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: ``[{"cip13": …, "label": …, "lots": [...]}, ...]``
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer, default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)


class DpSync(DpBase):
    __tablename__ = "dp_sync"

    pharmacy_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_cursor: Mapped[str | None] = mapped_column(String(64), default=None)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error_fr: Mapped[str] = mapped_column(String(500), default="")
