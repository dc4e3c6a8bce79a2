"""Entry point of the ``mssante`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, MigrationSource, hookimpl

from lgo_mssante.settings import MssanteSettings

if TYPE_CHECKING:
    from lgo.api import (
        Delivery,
        Kernel,
        PeriodicJob,
        ServiceStatus,
    )

MANIFEST = Manifest(
    name="mssante",
    plugin_api=">=2.8,<3",
    distribution="lgo-mssante",
    label_fr="Messagerie sécurisée MSSanté",
    description_fr="MSSanté : envoi des documents (XDM) aux professionnels et au patient, réception et "
    "intégration, accusés de réception ; boîte nominative Mailiz ou boîte organisationnelle.",
    capabilities=("mssante",),
    provider_capabilities=("mssante",),
    settings=MssanteSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    patient_file="lgo_mssante.file",
    cli="lgo_mssante.cli:mssante",
    web=("lgo_mssante.web:blueprint", "lgo_mssante.counter_web:blueprint"),
    portable_tables="lgo_mssante.portability:portable_tables",
    indicators="lgo_mssante.indicators:sources",
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("mssante", Path(__file__).parent / "migrations")


def _send(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_mssante.service import deliver_send

    deliver_send(kernel, delivery)


def _mdn(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_mssante.service import deliver_mdn

    deliver_mdn(kernel, delivery)


def _ko(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_mssante.service import deliver_ko

    deliver_ko(kernel, delivery)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {"mssante.send": _send, "mssante.mdn": _mdn, "mssante.ko": _ko}


def _fetch(kernel: Kernel, pharmacy_id: int) -> None:
    from lgo_mssante.service import receive

    receive(kernel, pharmacy_id)


@hookimpl
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    from lgo.api import PeriodicJob

    # Every two minutes: a reply or a receipt reaches the pharmacist quickly, and the operator's server is
    # polled far less often than an ordinary mail client does.
    return [PeriodicJob("relève des boîtes MSSanté", 120.0, _fetch)]


@hookimpl
def lgo_service_status(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus]:
    """The counter's status bar: MSSanté, from this plugin's outbox messages."""
    from lgo.api import outbox

    with kernel.transaction() as session:
        return [
            outbox.service_status(
                session, pharmacy_id, patient_id, service="mssante", label_fr="MSSanté", plugin="mssante"
            )
        ]
