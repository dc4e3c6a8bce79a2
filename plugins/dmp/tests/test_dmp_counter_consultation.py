"""The DMP as the counter consults it, against the sandbox over mutual TLS: the documents new since this pharmacy's
last consultation (FindSubmissionSets + GetAssociations, DMPi rule), the pharmacy's own documents never new, the
highlights kept during one visit, archived / masked / obsolete documents on request, a document written by the
patient flagged, local times, a hostile CDA rendered without active content, and every access traced with the
operator's name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dmp_helpers import XDS_PATIENT, DmpWorld
from lgo.api import rendering, utcnow
from lgo.documents import HealthDocument
from lgo.domain.audit import AuditEntry
from lgo.errors import PermissionDenied
from lgo_dmp import consultation
from lgo_dmp.client import ARCHIVED
from lgo_dmp.model import DmpConsultation
from lgo_sandbox.dmp import another_pharmacy
from lgo_sandbox.pki import TestAuthority
from sqlalchemy import select


def _previous_visit_was_yesterday(world: DmpWorld) -> None:
    with world.kernel.transaction() as session:
        row = session.scalar(select(DmpConsultation).where(DmpConsultation.patient_id == world.patient_id))
        assert row is not None
        row.last_consulted_at = utcnow() - timedelta(days=1)


def _sent_earlier(world: DmpWorld, unique_id: str, days: int) -> None:
    """The sandbox received this document ``days`` ago (its submission set's time)."""
    entry = world.sandbox.entries[unique_id]
    for found in world.sandbox.submission_sets.values():
        if entry.entry_uuid in found.members:
            found.submission_time = (utcnow() - timedelta(days=days)).strftime("%Y%m%d%H%M%S")


def test_new_documents_since_the_last_consultation_are_marked(
    dmp_world: DmpWorld, dmp_authority: TestAuthority, dmp_sandbox: tuple[object, object]
) -> None:
    world = dmp_world
    server, _sandbox = dmp_sandbox
    endpoint = server.url  # type: ignore[attr-defined]
    world.identity.qualified.add(world.patient_id)
    identity = world.identity.identity(world.patient_id)
    titulaire = world.seeded.operators["titulaire"]
    own = world.draft(title="Entretien AVK de l'officine")
    world.validate(own)
    assert world.worker().drain() == 1
    with world.kernel.transaction() as session:
        own_unique_id = session.get(HealthDocument, own).unique_id  # type: ignore[union-attr]
    older = another_pharmacy.deposit(
        dmp_authority, endpoint, identity, another_pharmacy.narrative_note(identity, title="Note ancienne")
    )

    first = consultation.consult(world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters())
    assert first.since is None and "première consultation" in first.summary_fr
    assert {e.unique_id for e in first.entries if first.is_new(e)} == {older.unique_id}  # ours is never new

    _previous_visit_was_yesterday(world)
    _sent_earlier(world, older.unique_id, days=2)
    newer = another_pharmacy.deposit(
        dmp_authority,
        endpoint,
        identity,
        another_pharmacy.narrative_note(identity, title="Note <b>récente</b>", hostile=True),
    )
    written = world.sandbox.add_patient_document(XDS_PATIENT, "Mes allergies", "Allergie à la pénicilline.")

    second = consultation.consult(world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters())
    assert second.since is not None and second.since < utcnow() - timedelta(hours=23)
    new = {e.unique_id for e in second.entries if second.is_new(e)}
    assert new == {newer.unique_id, written}
    by_patient = next(e for e in second.entries if e.unique_id == written)
    assert by_patient.by_patient and by_patient.author == "le patient"
    assert not next(e for e in second.entries if e.unique_id == own_unique_id).by_patient
    assert all(len(e.time_fr) == 16 and e.time_fr[2] == "/" for e in second.entries)  # Paris time, JJ/MM/AAAA HH:MM
    assert "2 nouveau(x)" in second.summary_fr

    # the same visit: changing a filter keeps what is new
    world.sandbox.archive(older.unique_id)
    default = consultation.consult(world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters())
    assert older.unique_id not in {e.unique_id for e in default.entries}
    with_archived = consultation.consult(
        world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters(archived=True)
    )
    archived = next(e for e in with_archived.entries if e.unique_id == older.unique_id)
    assert archived.status == ARCHIVED and archived.status_fr == "archivé"
    assert {e.unique_id for e in with_archived.entries if with_archived.is_new(e)} == {newer.unique_id, written}

    # a document masked from the professionals (ours: its structure still sees it) only on request; obsolete too
    world.sandbox.entries[own_unique_id].masking = ["MASQUE_PS"]
    hidden = consultation.consult(world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters())
    assert own_unique_id not in {e.unique_id for e in hidden.entries}
    shown = consultation.consult(
        world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters(masked=True)
    )
    assert next(e for e in shown.entries if e.unique_id == own_unique_id).masked
    world.sandbox.entries[written].status = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    obsolete = consultation.consult(
        world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters(obsolete=True)
    )
    assert next(e for e in obsolete.entries if e.unique_id == written).status_fr == "obsolète"

    # the hostile note opens as text only
    entry, content = consultation.open_by_unique_id(
        world.kernel, world.pharmacy_id, titulaire, world.patient_id, newer.unique_id
    )
    html = rendering.render_html(content, pdf_url="/pdf")
    assert "<script" not in html and "onclick" not in html and "javascript:" not in html and "<b>" not in html
    assert "window.__pwned=2" in html and "&lt;img src=x" in html and "Note &lt;b&gt;récente&lt;/b&gt;" in html
    assert entry.title == "Note <b>récente</b>"

    # every consultation is in the audit log with the operator's name
    with world.kernel.transaction() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("dmp.consult.%")).order_by(AuditEntry.id)
        ).all()
    lists = [e for e in entries if e.action == "dmp.consult.list"]
    assert len(lists) == 7 and all("par Claire Durand-Démo" in e.message_fr for e in lists)
    assert all(e.operator_id == titulaire for e in entries)
    assert any(e.action == "dmp.consult.document" and "Note <b>récente</b>" in e.message_fr for e in entries)


def test_a_preparer_without_the_habilitation_is_refused_and_traced(dmp_world: DmpWorld) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    preparer = world.seeded.operators["preparatrice"]
    with pytest.raises(PermissionDenied, match="pas habilité"):
        consultation.consult(world.kernel, world.pharmacy_id, preparer, world.patient_id, consultation.Filters())
    with world.kernel.transaction() as session:
        refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "dmp.consult.refused")).one()
        assert refused.operator_id == preparer and "Inès Roux-Démo" in refused.message_fr
        assert session.scalars(select(DmpConsultation)).all() == []  # a refusal is no consultation


def test_the_file_lists_each_access_once_with_its_outcome_and_who(dmp_world: DmpWorld) -> None:
    """The DMP section of the patient's file: every access (traced before the call, then its outcome) is one row
    with the operator's name — a consultation, a refusal flagged."""
    from lgo.api import PatientFileView
    from lgo_dmp import file

    world = dmp_world
    world.identity.qualified.add(world.patient_id)
    titulaire, preparer = world.seeded.operators["titulaire"], world.seeded.operators["preparatrice"]
    consultation.consult(world.kernel, world.pharmacy_id, titulaire, world.patient_id, consultation.Filters())
    with pytest.raises(PermissionDenied):
        consultation.consult(world.kernel, world.pharmacy_id, preparer, world.patient_id, consultation.Filters())
    view = PatientFileView(world.pharmacy_id, titulaire, world.patient_id, utcnow() - timedelta(days=365))
    (section,) = file.sections(world.kernel, view)
    assert [row.cells[2] for row in section.rows] == ["Inès Roux-Démo", "Claire Durand-Démo"]
    refused, consulted = section.rows
    assert refused.highlight_fr == "refus" and "refusé" in refused.cells[1]
    assert consulted.highlight_fr == "" and "Consultation de la liste des documents" in consulted.cells[1]
    assert section.fragment is not None and section.links  # the titulaire may consult: the list comes as a fragment
