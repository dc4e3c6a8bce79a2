"""Per-pharmacy plugin activation, settings, provider selection and recorded plugin failures.

Installed ≠ loaded ≠ enabled: installation is the Python environment, loading is discovery, enabling is a
row here. Disabling a plugin flips a flag and never touches its data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lgo.db import Base, UTCDateTime, utcnow


class PluginActivation(Base):
    __tablename__ = "plugin_activation"

    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), default=None)


class PluginSettings(Base):
    __tablename__ = "plugin_settings"

    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The settings as JSON; secret fields are stored encrypted (see ``lgo.secrets``).
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProviderSelection(Base):
    """Exactly one provider per capability and pharmacy: the primary key says so."""

    __tablename__ = "provider_selection"

    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), primary_key=True)
    capability: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PluginFailure(Base):
    """An exception raised by a plugin's hook implementation, kept for the administrator."""

    __tablename__ = "plugin_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int | None] = mapped_column(ForeignKey("pharmacy.id"), default=None, index=True)
    plugin: Mapped[str] = mapped_column(String(64), index=True)
    hook: Mapped[str] = mapped_column(String(64))
    error_type: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
