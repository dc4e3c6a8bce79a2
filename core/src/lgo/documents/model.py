"""The health document entity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lgo.db import Base, UTCDateTime, str_enum, utcnow
from lgo.enums import LabelledEnum


class DocumentStatus(LabelledEnum):
    DRAFT = "draft", "brouillon"
    VALIDATED = "validated", "validé"
    REPLACED = "replaced", "remplacé"
    DEPRECATED = "deprecated", "supprimé"


class HealthDocument(Base):
    __tablename__ = "health_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    author_operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    #: The document's unique id (an OID, ``root.extension`` form): the CDA ``id`` and the XDS ``uniqueId``.
    unique_id: Mapped[str] = mapped_column(String(128), unique=True)
    #: Shared by every version of one document (CDA ``setId``); a replacement keeps it and bumps ``version``.
    set_id: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: LOINC type code of the document (e.g. 87273-9 note de vaccination) and its display name.
    type_code: Mapped[str] = mapped_column(String(32), index=True)
    type_display: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[DocumentStatus] = mapped_column(str_enum(DocumentStatus, 16), default=DocumentStatus.DRAFT)
    #: HL7 confidentiality code (N, R, V).
    confidentiality: Mapped[str] = mapped_column(String(1), default="N")
    #: Visibility choices, sent as DMP metadata only (never in the CDA).
    hidden_from_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_from_legal_representatives: Mapped[bool] = mapped_column(Boolean, default=False)
    masked_from_professionals: Mapped[bool] = mapped_column(Boolean, default=False)
    mime_type: Mapped[str] = mapped_column(String(64), default="text/xml")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    #: The plugin that produced the document and its own reference (e.g. "vaccination", "note:12").
    source_plugin: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), default=None)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("health_document.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    validated_by: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), default=None)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    status_reason: Mapped[str | None] = mapped_column(String(300), default=None)
