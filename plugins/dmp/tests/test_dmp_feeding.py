"""Feeding and consulting the sandbox DMP over real HTTPS with client certificates."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from dmp_helpers import XDS_PATIENT, DmpWorld
from lgo import documents
from lgo.documents import DocumentStatus, HealthDocument
from lgo.domain import certificates
from lgo.domain.outbox import OutboxMessage, OutboxStatus
from lgo.domain.pharmacy import Pharmacy
from lgo.errors import PermissionDenied
from lgo.local_time import datetime_fr
from lgo_dmp import api, service
from lgo_dmp.model import DmpSubmission, SubmissionStatus
from lgo_dmp.settings import DmpSettings
from lgo_sandbox.pki import TestAuthority
from lxml import etree
from sqlalchemy import select

HL7 = {"h": "urn:hl7-org:v3"}


def _submission(world: DmpWorld, document_id: int) -> DmpSubmission:
    with world.kernel.transaction() as session:
        row = session.scalar(select(DmpSubmission).where(DmpSubmission.document_id == document_id))
        assert row is not None
        session.expunge(row)
        return row


def test_feeding_replacement_listing_retrieval_and_deprecation(dmp_world: DmpWorld) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    first = world.draft()
    world.validate(first, masked_from_professionals=True)
    assert _submission(world, first).status == SubmissionStatus.QUEUED
    assert world.worker().drain() == 1
    sent = _submission(world, first)
    assert sent.status == SubmissionStatus.SENT and sent.result == "registered"
    with world.kernel.transaction() as session:
        original = session.get(HealthDocument, first)
        assert original is not None
        unique_id, content = original.unique_id, original.content
    assert world.sandbox.registrations == {unique_id: 1}
    assert world.sandbox.entries[unique_id].masking == ["MASQUE_PS"]

    titulaire = world.seeded.operators["titulaire"]
    entries = service.list_documents(world.kernel, world.pharmacy_id, titulaire, world.patient_id)
    assert [(e.unique_id, e.type_code, e.status_fr, e.author) for e in entries] == [
        (unique_id, "78601-2", "actif", "Claire DURAND-DÉMO")
    ]
    retrieved = service.open_document(world.kernel, world.pharmacy_id, titulaire, world.patient_id, entries[0])
    assert retrieved == content
    html = service.render_document(retrieved)
    assert "Entretien pharmaceutique AVK" in html and "Télécharger le document PDF" in html

    with world.kernel.transaction() as session:
        previous = session.get(HealthDocument, first)
        assert previous is not None
        session.expunge(previous)
    second = world.draft(title="Entretien pharmaceutique AVK (corrigé)", replaces=previous)
    world.validate(second)
    world.worker().drain()
    assert _submission(world, second).status == SubmissionStatus.SENT
    statuses = {
        e.unique_id: e.status_fr
        for e in service.list_documents(world.kernel, world.pharmacy_id, titulaire, world.patient_id)
    }
    assert statuses[unique_id] == "obsolète" and list(statuses.values()).count("actif") == 1

    documents.deprecate(world.kernel, world.pharmacy_id, second, titulaire, "Entretien saisi pour le mauvais patient")
    world.worker().drain()
    assert _submission(world, second).status == SubmissionStatus.DEPRECATED
    assert all(
        e.status_fr == "obsolète"
        for e in service.list_documents(world.kernel, world.pharmacy_id, titulaire, world.patient_id)
    )
    with world.kernel.transaction() as session:
        actions = [a.action for a in service.access_history(session, world.pharmacy_id, world.patient_id)]
    assert {"dmp.sent", "dmp.consult.list", "dmp.consult.document", "dmp.deprecated"} <= set(actions)


def test_a_document_waits_for_the_qualified_identity_then_is_sent_with_the_ins(dmp_world: DmpWorld) -> None:
    world = dmp_world
    document_id = world.draft()
    world.validate(document_id)
    waiting = _submission(world, document_id)
    assert waiting.status == SubmissionStatus.WAITING
    assert waiting.status_fr == "en attente : identité non qualifiée"
    (line,) = service.status_lines(world.kernel, world.pharmacy_id, world.patient_id)
    assert "« Entretien pharmaceutique AVK »" in line and "en attente : identité non qualifiée" in line
    with world.kernel.transaction() as session:
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.plugin == "dmp")) is None
    world.identity.qualify(world.kernel, world.pharmacy_id, world.patient_id)
    assert _submission(world, document_id).status == SubmissionStatus.QUEUED
    world.worker().drain()
    sent = _submission(world, document_id)
    assert sent.status == SubmissionStatus.SENT and sent.sent_at is not None
    (line,) = service.status_lines(world.kernel, world.pharmacy_id, world.patient_id)
    assert f", le {datetime_fr(sent.sent_at)}" in line  # the time in Paris, not UTC
    (stored,) = world.sandbox.documents()
    patient = etree.fromstring(stored.content).find("h:recordTarget/h:patientRole/h:id", HL7)
    assert patient is not None and patient.get("extension") == "279035121518989"
    assert stored.patient_id == XDS_PATIENT


def test_a_flaky_dmp_still_gets_every_document_exactly_once(dmp_world: DmpWorld) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    ids = []
    for number in range(6):
        document_id = world.draft(title=f"Entretien n° {number + 1}")
        world.validate(document_id)
        ids.append(document_id)
    world.sandbox.failure_rate = 0.3
    worker = world.worker()
    for _ in range(50):
        if not worker.drain():
            break
    with world.kernel.transaction() as session:
        messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dmp.send")))
        unique_ids = {d.unique_id for d in session.scalars(select(HealthDocument).where(HealthDocument.id.in_(ids)))}
    assert all(m.status == OutboxStatus.DELIVERED for m in messages), [m.last_error for m in messages]
    assert all(_submission(world, i).status == SubmissionStatus.SENT for i in ids)
    assert world.sandbox.registrations == {uid: 1 for uid in unique_ids}
    assert sum(m.attempts for m in messages) > len(messages), "the sandbox should have failed some requests"


def test_operator_chooses_title_and_visibility_then_confirms(dmp_world: DmpWorld) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    document_id = world.draft(type_code="56445-0", title="Bilan")
    choices = service.send_choices(world.kernel, world.pharmacy_id, document_id)
    assert (choices.visible_to_patient, choices.visible_to_professionals) == (True, True)
    from dataclasses import replace

    confirmation = service.validate_and_send(
        world.kernel,
        world.pharmacy_id,
        document_id,
        world.seeded.operators["titulaire"],
        replace(choices, title="Bilan médicamenteux du 24/11", visible_to_patient=False),
    )
    assert confirmation.startswith("« Bilan médicamenteux du 24/11 » validé et mis en file d'envoi")
    assert "le patient" not in confirmation and "les professionnels de santé" in confirmation
    world.worker().drain()
    (stored,) = world.sandbox.documents()
    assert stored.masking == ["INVISIBLE_PATIENT"]
    titulaire = world.seeded.operators["titulaire"]
    (entry,) = service.list_documents(world.kernel, world.pharmacy_id, titulaire, world.patient_id)
    assert entry.title == "Bilan médicamenteux du 24/11"
    with service.make_client(world.kernel, world.pharmacy_id, titulaire) as client:
        client.update_masking(XDS_PATIENT, entry, ())
    assert stored.masking == []


def test_a_refused_document_is_visible_and_can_be_sent_again(dmp_world: DmpWorld, dmp_authority: TestAuthority) -> None:
    """A certificate of another structure is refused by the DMP; the administrator uploads the right one and the
    document is sent again."""
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    with world.kernel.transaction() as session:
        right = certificates.get(session, world.pharmacy_id)
        assert right is not None
        session.delete(right)
    dmp_authority.organisation("AUTRE PHARMACIE", finess="999000011").store_for(world.kernel, world.pharmacy_id)
    document_id = world.draft()
    world.validate(document_id)
    world.worker().drain()
    failed = _submission(world, document_id)
    assert failed.status == SubmissionStatus.FAILED and failed.reason_fr
    assert "Identifiant_Structure" in failed.reason_fr
    finess = _finess(world)
    dmp_authority.organisation("PHARMACIE DES TILLEULS", finess=finess).store_for(world.kernel, world.pharmacy_id)
    service.resend(world.kernel, world.pharmacy_id, document_id, world.seeded.operators["titulaire"])
    world.worker().drain()
    assert _submission(world, document_id).status == SubmissionStatus.SENT


def _finess(world: DmpWorld) -> str:
    with world.kernel.transaction() as session:
        pharmacy = session.get(Pharmacy, world.pharmacy_id)
        assert pharmacy is not None
        return pharmacy.finess


def test_a_document_given_up_by_the_outbox_is_shown_failed_and_can_be_sent_again(
    dmp_world: DmpWorld, dmp_authority: TestAuthority
) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    with world.kernel.transaction() as session:  # no certificate: every attempt fails until the outbox gives up
        stored = certificates.get(session, world.pharmacy_id)
        assert stored is not None
        session.delete(stored)
    document_id = world.draft()
    world.validate(document_id)
    world.worker().drain()  # no back-off: every attempt fails at once, until the outbox gives up
    given_up = _submission(world, document_id)
    assert given_up.status == SubmissionStatus.FAILED and "abandon après 8 essais" in (given_up.reason_fr or "")
    dmp_authority.organisation("PHARMACIE DES TILLEULS", finess=_finess(world)).store_for(
        world.kernel, world.pharmacy_id
    )
    service.resend(world.kernel, world.pharmacy_id, document_id, world.seeded.operators["titulaire"])
    world.worker().drain()
    assert _submission(world, document_id).status == SubmissionStatus.SENT


def test_the_certificate_stored_by_the_administrator_is_used_without_a_clear_key_on_disk(
    dmp_world: DmpWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The « Certificat » page is enough for the DMP: no file path, and no clear key left in a temporary folder."""
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    assert set(world.kernel.plugin_settings(world.pharmacy_id, "dmp").model_dump()) == set(DmpSettings.model_fields)
    assert not {"certificate_path", "key_path"} & set(DmpSettings.model_fields)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    document_id = world.draft()
    world.validate(document_id)
    assert world.worker().drain() == 1
    assert _submission(world, document_id).status == SubmissionStatus.SENT
    assert list(scratch.iterdir()) == []


def test_consultation_needs_the_habilitation_and_is_traced(dmp_world: DmpWorld) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    with pytest.raises(PermissionDenied, match="pas habilité"):
        service.list_documents(
            world.kernel, world.pharmacy_id, world.seeded.operators["preparatrice"], world.patient_id
        )
    with world.kernel.transaction() as session:
        history = service.access_history(session, world.pharmacy_id, world.patient_id)
    assert history[0].action == "dmp.consult.refused"
    assert "habilitation manquante" in history[0].message_fr
    assert history[0].operator_id == world.seeded.operators["preparatrice"]


def test_types_not_fed_automatically_are_left_alone(dmp_world: DmpWorld) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    world.kernel.save_plugin_settings(
        world.pharmacy_id,
        "dmp",
        {
            **world.kernel.plugin_settings(world.pharmacy_id, "dmp").model_dump(),
            "auto_feed_types": ["87273-9"],
        },
    )
    document_id = world.draft()
    world.validate(document_id)
    assert service.submissions_for_patient(world.kernel, world.pharmacy_id, world.patient_id) == []
    with world.kernel.transaction() as session:
        assert session.get(HealthDocument, document_id).status is DocumentStatus.VALIDATED
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.plugin == "dmp")).all()


def test_documents_of_given_types_for_a_habilitated_operator_are_traced(dmp_world: DmpWorld) -> None:
    from lgo.testing.cda import shared_dir

    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared absent : exemple officiel de note de vaccination indisponible.")
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    adjoint = world.seeded.operators["adjoint"]
    example = (shared / "conformance/cda/testcontenucda-3.0/ExemplesCDA/VAC-NOTE_2023.01.xml").read_bytes()
    with service.make_client(world.kernel, world.pharmacy_id, adjoint) as client:
        assert client.provide_and_register(example) == "registered"
    (found,) = api.documents_of_types(
        world.kernel, world.pharmacy_id, adjoint, world.patient_id, ("87273-9",), "carnet de vaccination"
    )
    assert found[0].type_code == "87273-9" and b"4456672" in found[1]
    assert api.documents_of_types(world.kernel, world.pharmacy_id, adjoint, world.patient_id, ("11488-4",), "CR") == []
    with world.kernel.transaction() as session:
        actions = [a.action for a in service.access_history(session, world.pharmacy_id, world.patient_id)]
    assert actions[0] == "dmp.consult.selection" and "dmp.consult.document" in actions


def test_the_cli_commands_are_french() -> None:
    from click.testing import CliRunner
    from lgo_dmp.cli import dmp

    result = CliRunner().invoke(dmp, ["--help"])
    assert result.exit_code == 0
    assert "suivi" in result.output and "consulter" in result.output and "relancer" in result.output
