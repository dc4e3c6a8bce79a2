"""Entry point of the ``eordonnance`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, Manifest, MigrationSource, hookimpl

from lgo_eordonnance.settings import EOrdonnanceSettings

if TYPE_CHECKING:
    from lgo.api import BillingEnded, Delivery, Kernel
    from sqlalchemy.orm import Session

MANIFEST = Manifest(
    name="eordonnance",
    plugin_api=">=2.0,<3",
    distribution="lgo-eordonnance",
    label_fr="Ordonnance numérique",
    description_fr="Ordonnance numérique : QR code, récupération, exécution ligne à ligne, transmission.",
    optional=("ins",),
    capabilities=("eordonnance",),
    provider_capabilities=("eordonnance",),
    settings=EOrdonnanceSettings,
    publisher=PROJECT_PUBLISHER,
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
