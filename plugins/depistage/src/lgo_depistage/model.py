"""The plugin's table ``depistage_test``: one TROD, from the questionnaire to its documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from lgo.api import NAMING_CONVENTION, LabelledEnum, PatientRecord, UTCDateTime, str_enum
from sqlalchemy import JSON, Boolean, Date, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class DepistageBase(DeclarativeBase):
    """The plugin's own metadata: the foreign keys to kernel tables are declared in the migration."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TrodStatus(LabelledEnum):
    #: Questionnaire, device and result being recorded.
    OPEN = "open", "en cours"
    #: Billed (acts, antibiotic): the attestation waits for the pharmacist's validation.
    BILLED = "billed", "facturé, attestation à valider"
    #: Validated by the pharmacist; the identity is not qualified yet, the documents wait.
    WAITING_IDENTITY = "waiting_identity", "validé, en attente de la qualification de l'identité"
    VALIDATED = "validated", "attestation validée"
    CANCELLED = "cancelled", "annulé"


class Fallback(LabelledEnum):
    """Where the attestation stands with the médecin traitant (MSSanté fallback when the DMP cannot be fed)."""

    NONE = "none", "—"
    #: Validated: followed until the DMP has it, or the outbox gave up.
    WATCHING = "watching", "suivi de l'envoi au DMP"
    SENT = "sent", "envoyée au médecin traitant par MSSanté"
    NO_ADDRESS = "no_address", "DMP non alimenté et adresse MSSanté du médecin traitant inconnue"
    UNAVAILABLE = "unavailable", "DMP non alimenté et messagerie MSSanté non disponible"
    #: The DMP has the documents: no fallback needed.
    NOT_NEEDED = "not_needed", "dans le DMP"


class DepistageTest(PatientRecord, DepistageBase):
    """One TROD; ``operator_id`` is the pharmacist who performs it (RPPS), author of the attestation."""

    __tablename__ = "depistage_test"

    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[TrodStatus] = mapped_column(str_enum(TrodStatus, 20), default=TrodStatus.OPEN)
    #: Ordonnance conditionnelle « si TROD positif »: prescriber and date.
    prescriber_name: Mapped[str | None] = mapped_column(String(200), default=None)
    prescriber_rpps: Mapped[str | None] = mapped_column(String(11), default=None)
    prescribed_on: Mapped[date | None] = mapped_column(Date, default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    eligible: Mapped[bool | None] = mapped_column(Boolean, default=None)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The device: its UDI (GS1 human-readable form) when scanned, else what was typed.
    device_udi: Mapped[str | None] = mapped_column(String(200), default=None)
    device_gtin: Mapped[str | None] = mapped_column(String(14), default=None)
    device_lot: Mapped[str | None] = mapped_column(String(40), default=None)
    device_expiry: Mapped[date | None] = mapped_column(Date, default=None)
    device_serial: Mapped[str | None] = mapped_column(String(40), default=None)
    device_maker: Mapped[str | None] = mapped_column(String(100), default=None)
    device_reference: Mapped[str | None] = mapped_column(String(60), default=None)
    tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: Observation LOINC code → result SNOMED CT code.
    results: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    positive: Mapped[bool | None] = mapped_column(Boolean, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    antibiotic: Mapped[str | None] = mapped_column(String(32), default=None)
    dose_mg: Mapped[int | None] = mapped_column(Integer, default=None)
    intakes_per_day: Mapped[int | None] = mapped_column(Integer, default=None)
    days: Mapped[int | None] = mapped_column(Integer, default=None)
    product_id: Mapped[int | None] = mapped_column(Integer, default=None)
    boxes: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Written on the attestation when no antibiotic is dispensed under the protocol.
    orientation_fr: Mapped[str] = mapped_column(Text, default="")
    invoice_id: Mapped[int | None] = mapped_column(Integer, default=None)
    prescription_id: Mapped[int | None] = mapped_column(Integer, default=None)
    lot_number: Mapped[str | None] = mapped_column(String(40), default=None)
    attestation_document_id: Mapped[int | None] = mapped_column(Integer, default=None)
    dispensation_document_id: Mapped[int | None] = mapped_column(Integer, default=None)
    physician_name: Mapped[str | None] = mapped_column(String(200), default=None)
    physician_rpps: Mapped[str | None] = mapped_column(String(11), default=None)
    physician_mssante: Mapped[str | None] = mapped_column(String(200), default=None)
    fallback: Mapped[Fallback] = mapped_column(str_enum(Fallback, 16), default=Fallback.NONE)
    fallback_message_id: Mapped[int | None] = mapped_column(Integer, default=None)
