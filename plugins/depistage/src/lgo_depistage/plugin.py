"""Entry point of the ``depistage`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import (
        ActDefinition,
        IdentityQualified,
        Kernel,
        PeriodicJob,
    )

MANIFEST = Manifest(
    name="depistage",
    plugin_api=">=2.8,<3",
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
