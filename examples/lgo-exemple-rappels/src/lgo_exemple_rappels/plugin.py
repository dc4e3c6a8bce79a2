"""The example plugin: after a billing with a vaccine, remember to offer a reminder."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import Manifest, MigrationSource, hookimpl
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert

if TYPE_CHECKING:
    from lgo.api import BillingEnded, Kernel
    from sqlalchemy.orm import Session


class RappelsSettings(BaseModel):
    delai_jours: int = Field(
        30,
        ge=1,
        le=3650,
        title="Délai avant le rappel (jours)",
        description="Nombre de jours après la vaccination au bout desquels le rappel est proposé.",
    )


MANIFEST = Manifest(
    name="rappels",
    plugin_api=">=2.0,<3",
    distribution="lgo-exemple-rappels",
    label_fr="Rappels (exemple)",
    description_fr="Exemple de module tiers : rappels de vaccination.",
    settings=RappelsSettings,
)

reminders = Table(
    "rappels_reminder",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("pharmacy_id", Integer, nullable=False),
    Column("patient_id", Integer, nullable=False),
    Column("label", String(200), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("rappels", Path(__file__).parent / "migrations")


@hookimpl
def lgo_on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    if event.patient_id is None:
        return
    settings = kernel.plugin_settings(event.pharmacy_id, "rappels", session=session)
    assert isinstance(settings, RappelsSettings)
    due: datetime = event.validated_at + timedelta(days=settings.delai_jours)
    for line in event.lines:
        if line.is_vaccine:
            session.execute(
                insert(reminders).values(
                    pharmacy_id=event.pharmacy_id,
                    patient_id=event.patient_id,
                    label=f"Rappel : {line.label}",
                    due_at=due,
                )
            )
