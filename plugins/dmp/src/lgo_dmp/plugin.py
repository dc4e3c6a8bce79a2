"""Entry point of the DMP plugin: hooks, outbox handlers, migrations and demo steps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, Manifest, MigrationSource, hookimpl

from lgo_dmp import service
from lgo_dmp.settings import DmpSettings

if TYPE_CHECKING:
    from lgo.api import Delivery, DocumentDeprecated, DocumentValidated, IdentityQualified, Kernel

MANIFEST = Manifest(
    name="dmp",
    plugin_api=">=1.2,<2",
    distribution="lgo-dmp",
    label_fr="DMP",
    description_fr="Alimentation automatique et consultation du Dossier médical partagé (XDS.b, VIHF).",
    optional=("ins",),
    capabilities=("dmp",),
    settings=DmpSettings,
    publisher=PROJECT_PUBLISHER,
)

#: The kernel this process runs: outbox handlers receive only the delivery.
_state: dict[str, Any] = {}


@hookimpl
def lgo_startup(kernel: Kernel) -> None:
    _state["kernel"] = kernel


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("dmp", Path(__file__).parent / "migrations")


def _send(delivery: Delivery) -> None:
    service.deliver(_state["kernel"], delivery)


def _deprecate(delivery: Delivery) -> None:
    service.deliver_deprecation(_state["kernel"], delivery)


@hookimpl
def lgo_register_outbox_handlers() -> dict[str, Any]:
    return {service.KIND_SEND: _send, service.KIND_DEPRECATE: _deprecate}


@hookimpl
def lgo_on_document_validated(kernel: Kernel, event: DocumentValidated) -> None:
    service.on_document_validated(kernel, event)


@hookimpl
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    service.on_identity_qualified(kernel, event)


@hookimpl
def lgo_on_document_deprecated(kernel: Kernel, event: DocumentDeprecated) -> None:
    service.on_document_deprecated(kernel, event)


@hookimpl
def lgo_register_cli_commands() -> list[Any]:
    from lgo_dmp.cli import dmp

    return [dmp]
