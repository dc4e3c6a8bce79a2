"""Entry point of the ``vaccination`` plugin.

Every command line (``lgo --help`` too) imports this module to read the manifest: the plugin's own modules, and
with them the XML, HTTP and database libraries, are imported inside the hooks that use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import PROJECT_PUBLISHER, Manifest, MigrationSource, hookimpl

if TYPE_CHECKING:
    from lgo.api import (
        ActDefinition,
        ActionAnswered,
        ActionRequired,
        BillingEnded,
        CounterWindow,
        IdentityQualified,
        Kernel,
        PatientFileSection,
        PatientFileView,
    )
    from sqlalchemy.orm import Session

MANIFEST = Manifest(
    name="vaccination",
    plugin_api=">=2.7,<3",
    distribution="lgo-vaccination",
    label_fr="Vaccination",
    description_fr="Note de vaccination (CI-SIS VAC-NOTE 2023.01) préparée à la facturation d'un acte VGP, INJ ou "
    "RVA, validée par le pharmacien puis transmise au DMP.",
    requires=("ins",),
    optional=("dmp",),
    capabilities=("vaccination",),
    publisher=PROJECT_PUBLISHER,
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


@hookimpl
def lgo_register_counter_windows() -> list[CounterWindow]:
    from lgo_vaccination import window

    return window.windows()


@hookimpl
def lgo_on_action_answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    from lgo_vaccination import window

    return window.answered(kernel, event)


@hookimpl
def lgo_patient_file_sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    from lgo_vaccination import file

    return file.sections(kernel, view)


@hookimpl
def lgo_register_web_blueprints() -> list[Any]:
    from lgo_vaccination.file import blueprint

    return [blueprint]


@hookimpl
def lgo_portable_tables() -> list[Any]:
    from lgo_vaccination.portability import portable_tables

    return portable_tables()


@hookimpl
def lgo_register_indicators() -> list[Any]:
    from lgo_vaccination.indicators import sources

    return sources()
