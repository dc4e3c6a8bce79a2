"""Entry point of the ``depistage`` plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, deferred, hookimpl

if TYPE_CHECKING:
    from lgo.api import PeriodicJob

MANIFEST = Manifest(
    name="depistage",
    plugin_api=">=2.9,<3",
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

LAZY_HOOKS = LazyHooks(
    counter="lgo_depistage.window",
    cli="lgo_depistage.cli:depistage",
    web="lgo_depistage.web:blueprint",
    portable_tables="lgo_depistage.portability:portable_tables",
    migrations="migrations",
    acts="lgo_depistage.codes:ACTS",
    hooks={"lgo_on_identity_qualified": "lgo_depistage.attestations:on_identity_qualified"},
)


@hookimpl
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    from lgo.api import PeriodicJob

    # The DMP's sendings are retried by the outbox for hours: a check every two minutes is soon enough.
    return [
        PeriodicJob(
            "attestations de TROD : DMP ou médecin traitant", 120.0, deferred("lgo_depistage.sharing:follow_up")
        )
    ]
