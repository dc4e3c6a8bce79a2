"""Shared set-up of the DMP plugin's tests: a fake identity plugin, the test PKI and the sandbox DMP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lgo import documents
from lgo.demo_data import Seeded
from lgo.documents import cda
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.testing.fakes import MATRICULE, FakeIdentityPlugin
from lgo.worker import Worker

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
XDS_PATIENT = f"{MATRICULE}^^^&{OID_TEST}&ISO^NH"


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

    def draft(
        self,
        *,
        type_code: str = "78601-2",
        title: str = "Entretien pharmaceutique AVK",
        replaces: documents.HealthDocument | None = None,
        operator: str = "titulaire",
    ) -> int:
        """A draft level 1 document, its header built with the qualified identity when there is one."""
        with self.kernel.transaction() as session:
            document = documents.create_draft(
                session,
                pharmacy_id=self.pharmacy_id,
                patient_id=self.patient_id,
                author_operator_id=self.seeded.operators[operator],
                type_code=type_code,
                type_display="CR d'entretien pharmaceutique" if type_code == "78601-2" else "Bilan médicamenteux",
                title=title,
                source_plugin="test",
                replaces=replaces,
            )
            identity = self.identity.lgo_shareable_identity(
                self.kernel, self.pharmacy_id, self.patient_id
            ) or SharedIdentity(
                patient_id=self.patient_id,
                matricule="0000000000000",
                oid="1.2.250.1.999.9",
                birth_name="MARTIN-DEMO",
                first_names=("CAMILLE",),
                sex="F",
                birth_date="1985-03-14",
            )
            header = cda.header_for_document(session, document, identity)
            documents.set_content(document, cda.wrap_pdf(header, PDF))
            return document.id

    def validate(self, document_id: int, **choices: Any) -> None:
        documents.validate(self.kernel, self.pharmacy_id, document_id, self.seeded.operators["titulaire"], **choices)
