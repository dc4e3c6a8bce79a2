"""Entry point of the ``depistage`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import (
        ActDefinition,
        ActionAnswered,
        ActionRequired,
        CounterCommand,
        CounterPanel,
        CounterShortcut,
        CounterView,
        CounterWindow,
        IdentityQualified,
        Kernel,
        PeriodicJob,
    )

MANIFEST = Manifest(
    name="depistage",
    plugin_api=">=2.7,<3",
    wave=2,
    publisher=PROJECT_PUBLISHER,
    distribution="lgo-depistage",
    label_fr="Dépistage (TROD)",
    description_fr="TROD angine, cystite, grippe et COVID-19 : questionnaire d'éligibilité, dispositif (UDI), "
    "résultat, antibiotique du protocole délivré sans ordonnance, attestation BIO-TROD et dispensation eDISP-MED "
    "au DMP, repli MSSanté vers le médecin traitant, attestation PDF du patient.",
    optional=("ins", "dmp", "mssante"),
    capabilities=("depistage",),
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("depistage", Path(__file__).parent / "migrations")


@hookimpl
def lgo_register_acts() -> list[ActDefinition]:
    from lgo_depistage.codes import ACTS

    return list(ACTS)


@hookimpl
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    from lgo_depistage import attestations

    attestations.on_identity_qualified(kernel, event)


def _follow_up(kernel: Kernel, pharmacy_id: int) -> None:
    from lgo_depistage import sharing

    sharing.follow_up(kernel, pharmacy_id)


@hookimpl
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    from lgo.api import PeriodicJob

    # The DMP's sendings are retried by the outbox for hours: a check every two minutes is soon enough.
    return [PeriodicJob("attestations de TROD : DMP ou médecin traitant", 120.0, _follow_up)]


@hookimpl
def lgo_register_cli_commands() -> list[Any]:
    from lgo_depistage.cli import depistage

    return [depistage]


@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from lgo_depistage.web import blueprint

    return [blueprint()]


@hookimpl
def lgo_register_counter_windows() -> list[CounterWindow]:
    from lgo_depistage import window

    return window.windows()


@hookimpl
def lgo_register_counter_shortcuts() -> list[CounterShortcut]:
    from lgo_depistage import window

    return window.shortcuts()


@hookimpl
def lgo_on_counter_command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    from lgo_depistage import window

    return window.command(kernel, event)


@hookimpl
def lgo_on_action_answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    from lgo_depistage import window

    return window.answered(kernel, event)


@hookimpl
def lgo_counter_panels(kernel: Kernel, view: CounterView) -> list[CounterPanel]:
    from lgo_depistage import window

    return window.panels(kernel, view)


@hookimpl
def lgo_portable_tables() -> list[Any]:
    from lgo_depistage.portability import portable_tables

    return portable_tables()
