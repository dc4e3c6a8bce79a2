"""Entry point of the ``prevention`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import (
        ActDefinition,
        IdentityQualified,
        Kernel,
    )

MANIFEST = Manifest(
    name="prevention",
    plugin_api=">=2.8,<3",
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

LAZY_HOOKS = LazyHooks(
    counter="lgo_prevention.window",
    cli="lgo_prevention.cli:prevention",
    web="lgo_prevention.web:blueprint",
    portable_tables="lgo_prevention.portability:portable_tables",
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
