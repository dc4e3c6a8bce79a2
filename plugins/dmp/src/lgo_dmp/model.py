"""Per-document DMP status (table ``dmp_submission``)."""

from __future__ import annotations

from datetime import datetime

from lgo.api import NAMING_CONVENTION, LabelledEnum, UTCDateTime, str_enum, utcnow
from sqlalchemy import Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class DmpBase(DeclarativeBase):
    """The plugin's own metadata: the foreign keys to kernel tables live in the migration only."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SubmissionStatus(LabelledEnum):
    WAITING = "waiting", "en attente"
    QUEUED = "queued", "en file d'envoi"
    SENT = "sent", "envoyé au DMP"
    FAILED = "failed", "échec"
    #: The outbox gave up while a sending may have reached the DMP (its answer lost): not a failure, unknown.
    UNCONFIRMED = "unconfirmed", "non confirmé par le DMP"
    DEPRECATED = "deprecated", "supprimé du DMP"


class DmpSubmission(DmpBase):
    __tablename__ = "dmp_submission"
    __table_args__ = (UniqueConstraint("pharmacy_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    document_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    unique_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(str_enum(SubmissionStatus, 16))
    #: Why the document waits or failed, in French for the pharmacist.
    reason_fr: Mapped[str | None] = mapped_column(String(500), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: "registered" or "already" (the DMP held the same document: a lost answer retried); "unconfirmed" while a
    #: sending may have reached the DMP without its answer (the next attempt asks the DMP before sending).
    result: Mapped[str | None] = mapped_column(String(16), default=None)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def status_fr(self) -> str:
        text = self.status.label_fr
        return f"{text} : {self.reason_fr}" if self.reason_fr else text


class DmpConsultation(DmpBase):
    """When this pharmacy last consulted the patient's DMP list (the DMPi variable ``dateAppelDMP``): the documents
    brought since are shown as new at the next consultation."""

    __tablename__ = "dmp_consultation"
    __table_args__ = (UniqueConstraint("pharmacy_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_id: Mapped[int] = mapped_column(Integer)
    last_consulted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: What « new » is measured from during the current visit (the consultation before it); None: never consulted.
    reference_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_operator_id: Mapped[int | None] = mapped_column(Integer, default=None)
