"""Entry point of the ``entretiens`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, HabilitationDefinition, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import ActDefinition, CounterShortcut, Kernel, PatientFileSection, PatientFileView

MANIFEST = Manifest(
    name="entretiens",
    plugin_api=">=2.7,<3",
    distribution="lgo-entretiens",
    label_fr="Entretiens pharmaceutiques",
    description_fr="Entretiens pharmaceutiques et bilans partagés de médication : compte rendu PDF en CDA R2 "
    "niveau 1, alimentation du DMP.",
    optional=("ins", "dmp", "mssante"),
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


@hookimpl
def lgo_register_habilitations() -> list[HabilitationDefinition]:
    return [
        HabilitationDefinition(
            "entretiens.conduct",
            "Conduire les entretiens et bilans",
            "Saisir, valider et facturer les entretiens pharmaceutiques et les bilans partagés de médication "
            "(pharmacien identifié par son RPPS).",
            default_roles=("titulaire", "pharmacien_adjoint"),
        )
    ]


@hookimpl
def lgo_register_counter_shortcuts() -> list[CounterShortcut]:
    from lgo_entretiens import file

    return file.shortcuts()


@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from lgo_entretiens.web import blueprint

    return [blueprint]


@hookimpl
def lgo_patient_file_sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    from lgo_entretiens import file

    return file.sections(kernel, view)


@hookimpl
def lgo_portable_tables() -> list[Any]:
    from lgo_entretiens.portability import portable_tables

    return portable_tables()
