"""Entry point of the Pro Santé Connect plugin: migrations, web sign-in pages and demo step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lgo.api import PROJECT_PUBLISHER, Manifest, MigrationSource, hookimpl

from lgo_psc.settings import PscSettings

MANIFEST = Manifest(
    name="psc",
    plugin_api=">=1.1,<2",
    distribution="lgo-psc",
    label_fr="Pro Santé Connect",
    description_fr="Connexion des opérateurs avec Pro Santé Connect (e-CPS, carte CPS), y compris au poste de "
    "comptoir (validation sur l'application e-CPS).",
    settings=PscSettings,
    publisher=PROJECT_PUBLISHER,
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("psc", Path(__file__).parent / "migrations")


@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from lgo_psc.web import blueprint

    return [blueprint()]
