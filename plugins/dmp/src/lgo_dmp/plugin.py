"""Entry point of the DMP plugin: hooks, outbox handlers, migrations, demo steps, the counter's screens and the
section of the patient's file.

Every command line (``lgo --help`` too) imports this module to read the manifest: the plugin's own modules, and
with them the XML, HTTP and database libraries, are imported inside the hooks that use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, HabilitationDefinition, LazyHooks, Manifest, MigrationSource, hookimpl

from lgo_dmp.settings import DmpSettings

if TYPE_CHECKING:
    from lgo.api import (
        Delivery,
        DocumentDeprecated,
        DocumentValidated,
        IdentityQualified,
        Kernel,
        ServiceStatus,
    )

MANIFEST = Manifest(
    name="dmp",
    plugin_api=">=2.8,<3",
    distribution="lgo-dmp",
    label_fr="DMP",
    description_fr="Alimentation automatique et consultation du Dossier médical partagé (XDS.b, VIHF).",
    optional=("ins",),
    capabilities=("dmp",),
    settings=DmpSettings,
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    patient_file="lgo_dmp.file",
    cli="lgo_dmp.cli:dmp",
    web="lgo_dmp.web:blueprint",
    portable_tables="lgo_dmp.portability:portable_tables",
    indicators="lgo_dmp.indicators:sources",
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("dmp", Path(__file__).parent / "migrations")


def _send(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_dmp import service

    service.deliver(kernel, delivery)


def _deprecate(kernel: Kernel, delivery: Delivery) -> None:
    from lgo_dmp import service

    service.deliver_deprecation(kernel, delivery)


@hookimpl
def lgo_register_habilitations() -> list[HabilitationDefinition]:
    from lgo_dmp import service

    return [
        HabilitationDefinition(
            service.HABILITATION_CONSULT,
            "Consulter le DMP",
            "Lire la liste et le contenu des documents du DMP d'un patient (chaque accès est tracé).",
            default_roles=("titulaire", "pharmacien_adjoint"),
        ),
        HabilitationDefinition(
            service.HABILITATION_FEED,
            "Alimenter le DMP",
            "Envoyer au DMP les documents validés de l'officine.",
            default_roles=("titulaire", "pharmacien_adjoint", "preparateur"),
        ),
    ]


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    from lgo_dmp import service

    return {service.KIND_SEND: _send, service.KIND_DEPRECATE: _deprecate}


@hookimpl
def lgo_on_document_validated(kernel: Kernel, event: DocumentValidated) -> None:
    from lgo_dmp import service

    service.on_document_validated(kernel, event)


@hookimpl
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    from lgo_dmp import service

    service.on_identity_qualified(kernel, event)


@hookimpl
def lgo_on_document_deprecated(kernel: Kernel, event: DocumentDeprecated) -> None:
    from lgo_dmp import service

    service.on_document_deprecated(kernel, event)


@hookimpl
def lgo_service_status(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus]:
    """The counter's status bar: DMP, from this plugin's outbox messages."""
    from lgo.api import outbox

    with kernel.transaction() as session:
        return [outbox.service_status(session, pharmacy_id, patient_id, service="dmp", label_fr="DMP", plugin="dmp")]
