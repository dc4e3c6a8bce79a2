"""Entry point of the ``eordonnance`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, MigrationSource, hookimpl

from lgo_eordonnance.settings import EOrdonnanceSettings

if TYPE_CHECKING:
    from lgo.api import (
        BillingEnded,
        Delivery,
        Kernel,
        ServiceStatus,
    )
    from sqlalchemy.orm import Session

MANIFEST = Manifest(
    name="eordonnance",
    plugin_api=">=2.8,<3",
    distribution="lgo-eordonnance",
    label_fr="Ordonnance numérique",
    description_fr="Ordonnance numérique : QR code, récupération, exécution ligne à ligne, transmission.",
    optional=("ins",),
    capabilities=("eordonnance",),
    provider_capabilities=("eordonnance",),
    settings=EOrdonnanceSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_eordonnance.window",
    portable_tables="lgo_eordonnance.portability:portable_tables",
    indicators="lgo_eordonnance.indicators:sources",
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("eordonnance", Path(__file__).parent / "migrations")


def _dispensing(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_eordonnance.service import deliver_dispensing

    deliver_dispensing(kernel, delivery)


def _billing(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_eordonnance.service import deliver_billing

    deliver_billing(kernel, delivery)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {"eordonnance.dispensing": _dispensing, "eordonnance.billing": _billing}


@hookimpl
def lgo_on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    from lgo_eordonnance.service import on_billing_commit

    on_billing_commit(session, event)


@hookimpl
def lgo_service_status(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus]:
    """The counter's status bar: Ordonnance numérique, from this plugin's outbox messages."""
    from lgo.api import outbox

    with kernel.transaction() as session:
        return [
            outbox.service_status(
                session,
                pharmacy_id,
                patient_id,
                service="eordonnance",
                label_fr="Ordonnance numérique",
                plugin="eordonnance",
            )
        ]
