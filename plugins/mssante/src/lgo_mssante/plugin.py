"""Entry point of the ``mssante`` plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, deferred, hookimpl

from lgo_mssante.settings import MssanteSettings

if TYPE_CHECKING:
    from lgo.api import PeriodicJob

MANIFEST = Manifest(
    name="mssante",
    plugin_api=">=2.9,<3",
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
    migrations="migrations",
    outbox_status="MSSanté",
)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {
        "mssante.send": deferred("lgo_mssante.service:deliver_send"),
        "mssante.mdn": deferred("lgo_mssante.service:deliver_mdn"),
        "mssante.ko": deferred("lgo_mssante.service:deliver_ko"),
    }


@hookimpl
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    from lgo.api import PeriodicJob

    # Every two minutes: a reply or a receipt reaches the pharmacist quickly, and the operator's server is
    # polled far less often than an ordinary mail client does.
    return [PeriodicJob("relève des boîtes MSSanté", 120.0, deferred("lgo_mssante.service:receive"))]
