"""Entry point of the ``entretiens`` plugin."""

from __future__ import annotations

from lgo.api import PROJECT_PUBLISHER, HabilitationDefinition, LazyHooks, Manifest, hookimpl

MANIFEST = Manifest(
    name="entretiens",
    plugin_api=">=2.9,<3",
    distribution="lgo-entretiens",
    label_fr="Entretiens pharmaceutiques",
    description_fr="Entretiens pharmaceutiques et bilans partagés de médication : compte rendu PDF en CDA R2 "
    "niveau 1, alimentation du DMP.",
    optional=("ins", "dmp", "mssante"),
    capabilities=("entretiens",),
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    patient_file="lgo_entretiens.file",
    web="lgo_entretiens.web:blueprint",
    portable_tables="lgo_entretiens.portability:portable_tables",
    migrations="migrations",
    acts="lgo_entretiens.themes:ACTS",
)


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
