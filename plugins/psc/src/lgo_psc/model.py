"""The plugin's tables: ``psc_binding`` (PSC ``sub`` bound to an operator) and ``psc_session`` (tokens kept on the
server, encrypted with :mod:`lgo.secrets`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from lgo.api import NAMING_CONVENTION, UTCDateTime, str_enum, utcnow
from sqlalchemy import Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PscBase(DeclarativeBase):
    """The plugin's own metadata: the foreign keys to kernel tables live in the migration only."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PscBinding(PscBase):
    __tablename__ = "psc_binding"
    __table_args__ = (UniqueConstraint("pharmacy_id", "operator_id"), UniqueConstraint("pharmacy_id", "sub"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(Integer)
    sub: Mapped[str] = mapped_column(String(255))
    rpps: Mapped[str] = mapped_column(String(11))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionStatus(StrEnum):
    ACTIVE = "active"
    KEPT = "kept"
    ENDED = "ended"


class PscSession(PscBase):
    __tablename__ = "psc_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(Integer, index=True)
    #: Random handle the browser's signed cookie carries; the tokens never leave the server.
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    sub: Mapped[str] = mapped_column(String(255))
    #: :class:`lgo_psc.oidc.TokenSet` as JSON, encrypted (``enc:v1:…``).
    tokens: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[float] = mapped_column()
    status: Mapped[SessionStatus] = mapped_column(str_enum(SessionStatus, 16), default=SessionStatus.ACTIVE)
    method: Mapped[str] = mapped_column(String(16), default="code")
    refreshes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
