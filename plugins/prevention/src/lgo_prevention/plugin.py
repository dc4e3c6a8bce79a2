"""Entry point of the ``prevention`` plugin."""

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
    )

MANIFEST = Manifest(
    name="prevention",
    plugin_api=">=2.7,<3",
    wave=2,
    publisher=PROJECT_PUBLISHER,
    distribution="lgo-prevention",
    label_fr="Mon bilan prévention",
    description_fr="Mon bilan prévention (18–25, 45–50, 60–65, 70–75 ans) : entretien par thèmes, plan personnalisé "
    "de prévention (CDA niveau 1, PDF) au DMP et au médecin traitant par MSSanté, acte RDP une fois par tranche "
    "d'âge et un autre acte le même jour.",
    optional=("ins", "dmp", "mssante", "vaccination"),
    capabilities=("prevention",),
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("prevention", Path(__file__).parent / "migrations")


@hookimpl
def lgo_register_acts() -> list[ActDefinition]:
    from lgo_prevention.bands import ACTS

    return list(ACTS)


@hookimpl
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    from lgo_prevention import plan

    plan.on_identity_qualified(kernel, event)


@hookimpl
def lgo_register_cli_commands() -> list[Any]:
    from lgo_prevention.cli import prevention

    return [prevention]


@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from lgo_prevention.web import blueprint

    return [blueprint()]


@hookimpl
def lgo_register_counter_windows() -> list[CounterWindow]:
    from lgo_prevention import window

    return window.windows()


@hookimpl
def lgo_register_counter_shortcuts() -> list[CounterShortcut]:
    from lgo_prevention import window

    return window.shortcuts()


@hookimpl
def lgo_on_counter_command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    from lgo_prevention import window

    return window.command(kernel, event)


@hookimpl
def lgo_on_action_answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    from lgo_prevention import window

    return window.answered(kernel, event)


@hookimpl
def lgo_counter_panels(kernel: Kernel, view: CounterView) -> list[CounterPanel]:
    from lgo_prevention import window

    return window.panels(kernel, view)


@hookimpl
def lgo_portable_tables() -> list[Any]:
    from lgo_prevention.portability import portable_tables

    return portable_tables()
