"""Entry point of the Pro Santé Connect plugin: migrations, web sign-in pages and demo step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo import hookimpl
from lgo.migrations import MigrationSource
from lgo.plugins.manifest import Manifest

from lgo_psc.settings import PscSettings

if TYPE_CHECKING:
    from lgo.demo import DemoStep

MANIFEST = Manifest(
    name="psc",
    plugin_api=">=1.1,<2",
    distribution="lgo-psc",
    label_fr="Pro Santé Connect",
    description_fr="Connexion des opérateurs avec Pro Santé Connect (e-CPS, carte CPS), y compris au poste de "
    "comptoir (validation sur l'application e-CPS).",
    settings=PscSettings,
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("psc", Path(__file__).parent / "migrations")


@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from lgo_psc.web import blueprint

    return [blueprint()]


@hookimpl
def lgo_demo_steps() -> list[DemoStep]:
    from lgo_psc.demo import steps

    return steps()
