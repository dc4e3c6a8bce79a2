"""Entry point of the ``entretiens`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import PROJECT_PUBLISHER, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import ActDefinition

MANIFEST = Manifest(
    name="entretiens",
    plugin_api=">=2.6,<3",
    distribution="lgo-entretiens",
    label_fr="Entretiens pharmaceutiques",
    description_fr="Entretiens pharmaceutiques et bilans partagés de médication : compte rendu PDF en CDA R2 "
    "niveau 1, alimentation du DMP.",
    optional=("ins", "dmp"),
    capabilities=("entretiens",),
    publisher=PROJECT_PUBLISHER,
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("entretiens", Path(__file__).parent / "migrations")


@hookimpl
def lgo_register_acts() -> list[ActDefinition]:
    from lgo_entretiens.themes import ACTS

    return list(ACTS)
