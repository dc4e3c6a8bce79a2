"""Entry point of the ``ins`` plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lgo import hookimpl
from lgo.migrations import MigrationSource
from lgo.plugins.manifest import Manifest

from lgo_ins import api

if TYPE_CHECKING:
    from lgo.demo import DemoStep
    from lgo.events import PatientTraitsChanged
    from lgo.identity import SharedIdentity
    from lgo.kernel import Kernel

MANIFEST = Manifest(
    name="ins", plugin_api=">=1.1,<2", distribution="lgo-ins", label_fr="INS",
    description_fr="Identité nationale de santé : matricule INS, statuts du RNIV, seule une identité qualifiée est "
                   "partagée.",
    capabilities=("ins",),
)


@hookimpl
def lgo_register_migrations() -> MigrationSource:
    return MigrationSource("ins", Path(__file__).parent / "migrations")


@hookimpl
def lgo_shareable_identity(kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
    return api.shareable(kernel, pharmacy_id, patient_id)


@hookimpl
def lgo_on_patient_traits_changed(kernel: Kernel, event: PatientTraitsChanged) -> None:
    if event.strict_traits:
        api.demote(kernel, event.pharmacy_id, event.patient_id, event.strict_traits)


@hookimpl
def lgo_demo_steps() -> list[DemoStep]:
    from lgo_ins.demo import steps

    return steps()
