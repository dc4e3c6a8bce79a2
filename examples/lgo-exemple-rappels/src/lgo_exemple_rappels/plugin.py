"""The example plugin: after a billing with a vaccine, remember to offer a reminder."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import ActionRequired, CounterWindow, LazyHooks, Manifest, MigrationSource, hookimpl
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, BillingEnded, Kernel
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
    plugin_api=">=2.8,<3",
    distribution="lgo-exemple-rappels",
    label_fr="Rappels (exemple)",
    description_fr="Exemple de module tiers : rappels de vaccination.",
    settings=RappelsSettings,
)

LAZY_HOOKS = LazyHooks(
    portable_tables="lgo_exemple_rappels.portability:portable_tables",
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("rappels", Path(__file__).parent / "migrations")


@hookimpl
def lgo_on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    if event.patient_id is None:
        return
    from sqlalchemy import insert

    from lgo_exemple_rappels.model import reminders

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


# --- the vendor's window at the counter (API 2.1) ---------------------------------------------------------

TEMPLATES = Path(__file__).parent / "counter_templates"
PROPOSE = "rappels.proposer"


@hookimpl
def lgo_register_counter_windows() -> list[CounterWindow]:
    return [CounterWindow(PROPOSE, "proposer.html", TEMPLATES, keys_fr="O : oui ; N : non ; Échap : plus tard")]


@hookimpl
def lgo_on_billing_end(kernel: Kernel, event: BillingEnded) -> ActionRequired | None:
    vaccines = [line.label for line in event.lines if line.is_vaccine]
    if event.patient_id is None or not vaccines:
        return None
    settings = kernel.plugin_settings(event.pharmacy_id, "rappels")
    assert isinstance(settings, RappelsSettings)
    due = event.validated_at + timedelta(days=settings.delai_jours)
    return ActionRequired(
        PROPOSE,
        "rappels",
        "Proposer un rappel de vaccination ?",
        "Un rappel a été noté pour ce patient : demandez-lui s'il souhaite être prévenu.",
        patient_id=event.patient_id,
        data={"due": due.isoformat(), "due_fr": f"{due:%d/%m/%Y}", "vaccines": vaccines},
    )


@hookimpl
def lgo_on_action_answered(kernel: Kernel, event: ActionAnswered) -> None:
    if event.kind != PROPOSE or event.patient_id is None or event.choice != "non":
        return
    from sqlalchemy import delete

    from lgo_exemple_rappels.model import reminders

    with kernel.transaction() as session:  # the patient declines: the reminder noted at the billing goes
        session.execute(
            delete(reminders).where(
                reminders.c.pharmacy_id == event.pharmacy_id,
                reminders.c.patient_id == event.patient_id,
                reminders.c.due_at == datetime.fromisoformat(str(event.data["due"])),
            )
        )
