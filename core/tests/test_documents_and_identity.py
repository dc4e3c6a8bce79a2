"""Health documents' life cycle and the shareable-identity query answered by an identity plugin."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from lgo import documents
from lgo.demo_data import Seeded
from lgo.documents import DocumentStatus, HealthDocument
from lgo.domain.audit import AuditEntry
from lgo.errors import ValidationError
from lgo.events import DocumentDeprecated, DocumentValidated, PatientTraitsChanged
from lgo.identity import OID_TEST, IdentityNotShareable, SharedIdentity
from lgo.kernel import Kernel
from lgo.testing.fakes import FakeIdentityPlugin
from sqlalchemy import select


@pytest.fixture
def setup(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> tuple[Kernel, Seeded, FakeIdentityPlugin]:
    plugin = FakeIdentityPlugin()
    kernel = lgo_make_kernel(plugin)
    kernel.enable(lgo_seeded.pharmacy_id, "fake_ins")
    return kernel, lgo_seeded, plugin


def test_only_a_vouched_identity_is_shareable_and_a_strict_trait_change_demotes_it(setup: Any) -> None:
    kernel, seeded, plugin = setup
    patient = seeded.patients["camille"]
    with pytest.raises(IdentityNotShareable) as refused:
        kernel.shareable_identity(seeded.pharmacy_id, patient)
    assert "pas qualifiée" in refused.value.message_fr
    plugin.qualified.add(patient)
    identity = kernel.shareable_identity(seeded.pharmacy_id, patient)
    assert identity.xds_patient_id == f"279035121518989^^^&{OID_TEST}&ISO^NH"
    partial = SharedIdentity(patient, "279035121518989", OID_TEST, "TESTDEMO", ("ANNE",), "F", "1979-03-00")
    assert partial.birth_date_value is None

    kernel.update_patient_traits(
        seeded.pharmacy_id, patient, operator_id=seeded.operators["adjoint"], used_name="NOUVEAUNOM"
    )
    assert kernel.is_identity_shareable(seeded.pharmacy_id, patient)  # a used name is not a strict trait
    kernel.update_patient_traits(seeded.pharmacy_id, patient, birth_name="AUTRENOM")
    assert not kernel.is_identity_shareable(seeded.pharmacy_id, patient)
    changes = [e for e in plugin.events if isinstance(e, PatientTraitsChanged)]
    assert [c.strict_traits for c in changes] == [(), ("birth_name",)]


def test_an_identity_without_its_birth_place_is_never_shared_whatever_the_plugin_says(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    class Incomplete(FakeIdentityPlugin):
        def identity(self, patient_id: int) -> SharedIdentity:
            return dataclasses.replace(super().identity(patient_id), birth_place_code=None)

    plugin = Incomplete()
    kernel = lgo_make_kernel(plugin)
    kernel.enable(lgo_seeded.pharmacy_id, "fake_ins")
    plugin.qualified.add(lgo_seeded.patients["camille"])
    with pytest.raises(IdentityNotShareable, match=r"incomplets \(lieu de naissance\)"):
        kernel.shareable_identity(lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"])


def test_without_an_identity_plugin_nothing_is_shareable(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    assert not lgo_kernel.is_identity_shareable(lgo_seeded.pharmacy_id, lgo_seeded.patients["camille"])


def test_document_life_cycle_validation_replacement_and_deprecation(setup: Any) -> None:
    kernel, seeded, plugin = setup
    pharmacy, patient, author = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    with kernel.transaction() as session:
        draft = documents.create_draft(
            session,
            pharmacy_id=pharmacy,
            patient_id=patient,
            author_operator_id=author,
            type_code="87273-9",
            type_display="Note de vaccination",
            title="Note de vaccination",
            source_plugin="vaccination",
        )
        first_id, set_id = draft.id, draft.set_id
        assert draft.unique_id.startswith("2.25.") and draft.unique_id != set_id
    with pytest.raises(ValidationError, match="vide"):
        documents.validate(kernel, pharmacy, first_id, author)
    with kernel.transaction() as session:
        documents.set_content(session.get(HealthDocument, first_id), b"<ClinicalDocument/>")  # type: ignore[arg-type]
    documents.validate(kernel, pharmacy, first_id, author, hidden_from_patient=True)
    with kernel.transaction() as session, pytest.raises(ValidationError, match="remplacement"):
        documents.set_content(session.get(HealthDocument, first_id), b"changed")  # type: ignore[arg-type]

    with kernel.transaction() as session:
        first = session.get(HealthDocument, first_id)
        assert first is not None and first.hidden_from_patient
        second = documents.create_draft(
            session,
            pharmacy_id=pharmacy,
            patient_id=patient,
            author_operator_id=author,
            type_code="87273-9",
            type_display="Note de vaccination",
            title="Note de vaccination (corrigée)",
            source_plugin="vaccination",
            content=b"<ClinicalDocument v='2'/>",
            replaces=first,
        )
        second_id = second.id
        assert (second.set_id, second.version) == (set_id, 2)
    documents.validate(kernel, pharmacy, second_id, author)
    documents.deprecate(kernel, pharmacy, second_id, author, "Acte annulé")

    with kernel.transaction() as session:
        listed = documents.documents_for_patient(session, pharmacy, patient)
        assert [(d.version, d.status) for d in listed] == [(1, DocumentStatus.REPLACED), (2, DocumentStatus.DEPRECATED)]
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.patient_id == patient)))
        assert {"document.validated", "document.deprecated"} <= actions
    validated = [e for e in plugin.events if isinstance(e, DocumentValidated)]
    assert [e.replaces_document_id for e in validated] == [None, first_id]
    assert [e.document_id for e in plugin.events if isinstance(e, DocumentDeprecated)] == [second_id]
