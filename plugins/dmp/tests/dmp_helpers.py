"""Shared set-up of the DMP plugin's tests: a fake identity plugin, the test PKI and the sandbox DMP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lgo import documents, hookimpl
from lgo.demo_data import Seeded
from lgo.documents import cda
from lgo.events import IdentityQualified
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from lgo.worker import Worker

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
MATRICULE = "279035121518989"
XDS_PATIENT = f"{MATRICULE}^^^&{OID_TEST}&ISO^NH"


class FakeIdentityPlugin:
    """Vouches for the patients in ``qualified`` (the real ``ins`` plugin is wired at integration)."""

    MANIFEST = Manifest(name="fake_ins", plugin_api=">=1.1,<2")

    def __init__(self) -> None:
        self.qualified: set[int] = set()

    @hookimpl
    def lgo_shareable_identity(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
        if patient_id not in self.qualified:
            return None
        return SharedIdentity(
            patient_id=patient_id, matricule=MATRICULE, oid=OID_TEST, birth_name="MARTIN-DEMO",
            first_names=("CAMILLE", "ANNE"), sex="F", birth_date="1985-03-14", birth_place_code="99100",
        )

    def qualify(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> None:
        self.qualified.add(patient_id)
        kernel.emit("lgo_on_identity_qualified", pharmacy_id,
                    event=IdentityQualified(pharmacy_id=pharmacy_id, operator_id=None, patient_id=patient_id))


@dataclass
class DmpWorld:
    kernel: Kernel
    seeded: Seeded
    identity: FakeIdentityPlugin
    sandbox: Any

    @property
    def pharmacy_id(self) -> int:
        return self.seeded.pharmacy_id

    @property
    def patient_id(self) -> int:
        return self.seeded.patients["camille"]

    def worker(self) -> Worker:
        return Worker(self.kernel, base_backoff_seconds=0.0, pharmacy_id=self.pharmacy_id)

    def draft(self, *, type_code: str = "78601-2", title: str = "Entretien pharmaceutique AVK",
              replaces: documents.HealthDocument | None = None, operator: str = "titulaire") -> int:
        """A draft level 1 document, its header built with the qualified identity when there is one."""
        with self.kernel.transaction() as session:
            document = documents.create_draft(
                session, pharmacy_id=self.pharmacy_id, patient_id=self.patient_id,
                author_operator_id=self.seeded.operators[operator], type_code=type_code,
                type_display="CR d'entretien pharmaceutique" if type_code == "78601-2" else "Bilan médicamenteux",
                title=title, source_plugin="test", replaces=replaces,
            )
            identity = self.identity.lgo_shareable_identity(self.kernel, self.pharmacy_id, self.patient_id) or \
                SharedIdentity(patient_id=self.patient_id, matricule="0000000000000", oid="1.2.250.1.999.9",
                               birth_name="MARTIN-DEMO", first_names=("CAMILLE",), sex="F", birth_date="1985-03-14")
            header = cda.header_for_document(session, document, identity)
            documents.set_content(document, cda.wrap_pdf(header, PDF))
            return document.id

    def validate(self, document_id: int, **choices: Any) -> None:
        documents.validate(self.kernel, self.pharmacy_id, document_id, self.seeded.operators["titulaire"], **choices)
