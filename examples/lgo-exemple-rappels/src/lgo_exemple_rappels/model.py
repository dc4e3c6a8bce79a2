"""The plugin's table, in a module of its own: the entry module stays cheap to import (``lgo --help`` reads it for the
manifest), SQLAlchemy is loaded when a billing needs the table."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

reminders = Table(
    "rappels_reminder",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("pharmacy_id", Integer, nullable=False),
    Column("patient_id", Integer, nullable=False),
    Column("label", String(200), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
)
