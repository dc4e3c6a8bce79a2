"""A fake identity plugin for the entretiens tests (the real ``ins`` plugin is wired in the end-to-end tests)."""

from __future__ import annotations

from lgo import hookimpl
from lgo.events import DocumentValidated, IdentityQualified
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest

MATRICULE = "279035121518989"


class FakeIdentity:
    MANIFEST = Manifest(name="fake_ins", plugin_api=">=1.1,<2")

    def __init__(self) -> None:
        self.qualified: set[int] = set()
        self.validated: list[DocumentValidated] = []

    @hookimpl
    def lgo_shareable_identity(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
        if patient_id not in self.qualified:
            return None
        return SharedIdentity(
            patient_id=patient_id, matricule=MATRICULE, oid=OID_TEST, birth_name="MARTIN-DEMO",
            first_names=("CAMILLE", "ANNE"), sex="F", birth_date="1985-03-14", birth_place_code="99100",
        )

    @hookimpl
    def lgo_on_document_validated(self, kernel: Kernel, event: DocumentValidated) -> None:
        self.validated.append(event)

    def qualify(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> None:
        self.qualified.add(patient_id)
        kernel.emit("lgo_on_identity_qualified", pharmacy_id,
                    event=IdentityQualified(pharmacy_id=pharmacy_id, operator_id=None, patient_id=patient_id))
