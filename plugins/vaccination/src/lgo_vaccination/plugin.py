"""Entry point of the ``vaccination`` plugin.

Every command line (``lgo --help`` too) imports this module to read the manifest: the plugin's own modules, and
with them the XML, HTTP and database libraries, are imported inside the hooks that use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import PROJECT_PUBLISHER, LazyHooks, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import (
        ActDefinition,
        ActionRequired,
        BillingEnded,
        IdentityQualified,
        Kernel,
    )
    from sqlalchemy.orm import Session

MANIFEST = Manifest(
    name="vaccination",
    plugin_api=">=2.8,<3",
    distribution="lgo-vaccination",
    label_fr="Vaccination",
    description_fr="Note de vaccination (CI-SIS VAC-NOTE 2023.01) préparée à la facturation d'un acte VGP, INJ ou "
    "RVA, validée par le pharmacien puis transmise au DMP.",
    requires=("ins",),
    optional=("dmp",),
    capabilities=("vaccination",),
    publisher=PROJECT_PUBLISHER,
)

LAZY_HOOKS = LazyHooks(
    counter="lgo_vaccination.window",
    patient_file="lgo_vaccination.file",
    web="lgo_vaccination.file:blueprint",
    portable_tables="lgo_vaccination.portability:portable_tables",
    indicators="lgo_vaccination.indicators:sources",
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("vaccination", Path(__file__).parent / "migrations")


@hookimpl
def lgo_register_acts() -> list[ActDefinition]:
    from lgo_vaccination.codes import ACTS

    return list(ACTS)


@hookimpl
def lgo_on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    from lgo_vaccination import service

    service.write_notes(kernel, session, event)


@hookimpl
def lgo_on_billing_end(kernel: Kernel, event: BillingEnded) -> list[ActionRequired]:
    from lgo_vaccination import service

    return service.actions_after_billing(kernel, event)


@hookimpl
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    from lgo_vaccination import service

    service.on_identity_qualified(kernel, event)
