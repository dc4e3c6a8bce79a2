"""The plugin's tables: mailboxes (``mssante_account``), who may use the organisational one
(``mssante_habilitation``), every message sent or received (``mssante_message``) and the documents received for a
patient (``mssante_received_document``). Foreign keys to kernel tables live in the migration only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from lgo.api import NAMING_CONVENTION, LabelledEnum, UTCDateTime, str_enum, utcnow
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class MssBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AccountKind(StrEnum):
    PERSONAL = "personnelle"
    ORGANISATIONAL = "organisationnelle"


class Habilitation(StrEnum):
    """The habilitations of an organisational mailbox (Annuaire Santé / opérateurs MSSanté)."""

    ADMINISTRATEUR = "Administrateur"
    GESTIONNAIRE = "Gestionnaire"
    UTILISATEUR = "Utilisateur"


class Direction(StrEnum):
    OUT = "sortant"
    IN = "entrant"


class MessageStatus(LabelledEnum):
    QUEUED = "en_file", "en file d'envoi"
    SENT = "envoye", "envoyé"
    ACKNOWLEDGED = "accuse", "accusé de réception reçu"
    REJECTED = "refuse", "refusé par le destinataire"
    INTEGRATED = "integre", "intégré au dossier du patient"
    RECEIVED = "recu", "reçu"
    QUARANTINED = "quarantaine", "en quarantaine"


class MssAccount(MssBase):
    __tablename__ = "mssante_account"
    __table_args__ = (UniqueConstraint("pharmacy_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, 20))
    address: Mapped[str] = mapped_column(String(254))
    #: The owner of a personal (nominative) mailbox; None for the organisational one.
    operator_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    login: Mapped[str] = mapped_column(String(254))
    password_encrypted: Mapped[str] = mapped_column(Text)
    #: Per-operator server settings (None = the pharmacy's).
    smtp_host: Mapped[str | None] = mapped_column(String(254), default=None)
    smtp_port: Mapped[int | None] = mapped_column(Integer, default=None)
    imap_host: Mapped[str | None] = mapped_column(String(254), default=None)
    imap_port: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MssHabilitation(MssBase):
    __tablename__ = "mssante_habilitation"
    __table_args__ = (UniqueConstraint("account_id", "operator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("mssante_account.id"))
    operator_id: Mapped[int] = mapped_column(Integer)
    habilitation: Mapped[Habilitation] = mapped_column(str_enum(Habilitation, 20))


class MssMessage(MssBase):
    __tablename__ = "mssante_message"
    __table_args__ = (UniqueConstraint("pharmacy_id", "direction", "message_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("mssante_account.id"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 10))
    #: RFC 5322 Message-ID, fixed when the message is queued so that retries keep it.
    message_id: Mapped[str] = mapped_column(String(254))
    peer: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str] = mapped_column(String(500))
    patient_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    operator_id: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus, 16))
    #: Error code of the CI-SIS table (900-906) when a received message cannot be integrated.
    error_code: Mapped[str | None] = mapped_column(String(8), default=None)
    reason_fr: Mapped[str | None] = mapped_column(String(1000), default=None)
    #: The whole received message, encrypted, kept for a human when it is quarantined.
    raw_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A received message a person marked « traité » at the counter (when, by whom).
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    handled_by: Mapped[int | None] = mapped_column(Integer, default=None)
    #: The text an operator wrote for an outgoing message.
    body: Mapped[str | None] = mapped_column(Text, default=None)
    #: The received message this one answers or forwards (``mssante_message.id``).
    in_reply_to: Mapped[int | None] = mapped_column(Integer, default=None)
    forward_of: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def status_fr(self) -> str:
        text = self.status.label_fr
        if self.error_code:
            text += f" (erreur {self.error_code})"
        return f"{text} : {self.reason_fr}" if self.reason_fr else text


class MssReceivedDocument(MssBase):
    __tablename__ = "mssante_received_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mssante_message.id"))
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    unique_id: Mapped[str] = mapped_column(String(128))
    type_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who attached the document to the patient by hand (from the quarantine); None: integrated automatically.
    attached_by: Mapped[int | None] = mapped_column(Integer, default=None)
