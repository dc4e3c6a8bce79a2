"""A stand-in for the ``ins`` plugin in the vaccination tests (the real one is wired in the end-to-end tests)."""

from __future__ import annotations

from typing import Any

from lgo import hookimpl
from lgo.events import DocumentDeprecated, DocumentValidated, IdentityQualified
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest


class FakeIns:
    MANIFEST = Manifest(name="ins", plugin_api=">=1.1,<2")

    def __init__(self) -> None:
        self.qualified: set[int] = set()
        self.events: list[Any] = []

    @hookimpl
    def lgo_shareable_identity(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
        if patient_id not in self.qualified:
            return None
        return SharedIdentity(
            patient_id=patient_id, matricule="279035121518989", oid=OID_TEST, birth_name="MARTIN-DEMO",
            first_names=("CAMILLE", "ANNE"), sex="F", birth_date="1985-03-14", birth_place_code="99100",
        )

    @hookimpl
    def lgo_on_document_validated(self, kernel: Kernel, event: DocumentValidated) -> None:
        self.events.append(event)

    @hookimpl
    def lgo_on_document_deprecated(self, kernel: Kernel, event: DocumentDeprecated) -> None:
        self.events.append(event)

    def qualify(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> None:
        self.qualified.add(patient_id)
        kernel.emit("lgo_on_identity_qualified", pharmacy_id,
                    event=IdentityQualified(pharmacy_id=pharmacy_id, operator_id=None, patient_id=patient_id))
