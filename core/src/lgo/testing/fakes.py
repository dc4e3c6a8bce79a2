"""Test doubles for plugins' own tests: an identity plugin that vouches for the patients you name, and records the
document and identity events it sees (a small hook-call recorder).

.. code-block:: python

    from lgo.testing.fakes import FakeIdentityPlugin

    identity = FakeIdentityPlugin()              # named "fake_ins"; FakeIdentityPlugin("ins") stands in for ins
    kernel = lgo_make_kernel(my_plugin, identity)
    identity.qualify(kernel, pharmacy_id, patient_id)   # announces lgo_on_identity_qualified too
"""

from __future__ import annotations

from typing import Any

from lgo import hookimpl
from lgo.actions import ActionRequired
from lgo.demo_data import camille_identity
from lgo.events import ActionAnswered, DocumentDeprecated, DocumentValidated, IdentityQualified, PatientTraitsChanged
from lgo.identity import SharedIdentity
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest

#: The fictional qualified identity the fake hands out (valid key, test OID).
MATRICULE = "279035121518989"


class FakeIdentityPlugin:
    def __init__(self, name: str = "fake_ins") -> None:
        self.MANIFEST = Manifest(name=name, plugin_api=">=2.6,<3", label_fr="Identité (doublure de test)")
        self.qualified: set[int] = set()
        self.events: list[Any] = []

    def identity(self, patient_id: int) -> SharedIdentity:
        return camille_identity(patient_id, MATRICULE)

    @hookimpl
    def lgo_shareable_identity(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
        return self.identity(patient_id) if patient_id in self.qualified else None

    @hookimpl
    def lgo_identity_qualification(
        self, kernel: Kernel, pharmacy_id: int, patient_id: int, waiting_fr: str
    ) -> list[ActionRequired]:
        name = self.MANIFEST.name
        return [
            ActionRequired(
                kind=f"{name}.qualify",
                plugin=name,
                title_fr="Qualifier l'identité du patient",
                message_fr=f"Identité à qualifier. {waiting_fr}",
                patient_id=patient_id,
            )
        ]

    @hookimpl
    def lgo_on_action_answered(self, kernel: Kernel, event: ActionAnswered) -> None:
        self.events.append(event)

    @hookimpl
    def lgo_on_patient_traits_changed(self, kernel: Kernel, event: PatientTraitsChanged) -> None:
        self.events.append(event)
        if event.strict_traits:
            self.qualified.discard(event.patient_id)

    @hookimpl
    def lgo_on_document_validated(self, kernel: Kernel, event: DocumentValidated) -> None:
        self.events.append(event)

    @hookimpl
    def lgo_on_document_deprecated(self, kernel: Kernel, event: DocumentDeprecated) -> None:
        self.events.append(event)

    def qualify(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> None:
        self.qualified.add(patient_id)
        kernel.hooks.on_identity_qualified(
            IdentityQualified(pharmacy_id=pharmacy_id, operator_id=None, patient_id=patient_id)
        )
