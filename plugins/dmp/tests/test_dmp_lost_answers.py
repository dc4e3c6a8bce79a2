"""After a lost answer (the DMP registered the document, its answer never came back), a retry settles in one call
— asking the DMP first, sending only if it does not hold the document — and a document the DMP holds is never
shown as failed (issue 16)."""

from __future__ import annotations

import pytest
from dmp_helpers import DmpWorld
from lgo.documents import HealthDocument
from lgo_dmp import service
from lgo_dmp.model import DmpSubmission, SubmissionStatus
from lgo_dmp.soap import ACTION_ITI18, ACTION_ITI41
from sqlalchemy import select


def _submission(world: DmpWorld, document_id: int) -> DmpSubmission:
    with world.kernel.transaction() as session:
        row = session.scalar(select(DmpSubmission).where(DmpSubmission.document_id == document_id))
        assert row is not None
        session.expunge(row)
        return row


def _unique_id(world: DmpWorld, document_id: int) -> str:
    with world.kernel.transaction() as session:
        document = session.get(HealthDocument, document_id)
        assert document is not None
        return document.unique_id


def _validated(world: DmpWorld, title: str = "Entretien") -> int:
    document_id = world.draft(title=title)
    world.validate(document_id)
    return document_id


def test_a_retry_after_a_lost_answer_settles_in_one_call(dmp_world: DmpWorld) -> None:
    world, sandbox = dmp_world, dmp_world.sandbox
    world.identity.qualified.add(world.patient_id)
    document_id = _validated(world)
    sandbox.lose_answers = 1
    worker = world.worker()
    assert worker.run_once() == 1
    assert sandbox.registrations == {_unique_id(world, document_id): 1}  # registered, but the answer was lost
    assert _submission(world, document_id).status == SubmissionStatus.QUEUED
    before = len(sandbox.requests)
    assert worker.run_once() == 1
    assert sandbox.requests[before:] == [ACTION_ITI18]  # one question, no second sending
    settled = _submission(world, document_id)
    assert (settled.status, settled.result) == (SubmissionStatus.SENT, "already")


def test_a_retry_after_a_refused_connection_sends_at_once(dmp_world: DmpWorld) -> None:
    """503: the DMP says it did not take the request; nothing to ask, the retry sends (one call too)."""
    world, sandbox = dmp_world, dmp_world.sandbox
    world.identity.qualified.add(world.patient_id)
    document_id = _validated(world)
    sandbox.down = True  # 503: the request was never taken
    worker = world.worker()
    assert worker.run_once() == 1
    sandbox.down = False
    before = len(sandbox.requests)
    assert worker.run_once() == 1
    assert sandbox.requests[before:] == [ACTION_ITI41]
    assert _submission(world, document_id).status == SubmissionStatus.SENT


def test_when_no_answer_comes_back_the_document_is_not_confirmed_and_sending_it_again_settles_it(
    dmp_world: DmpWorld,
) -> None:
    world, sandbox = dmp_world, dmp_world.sandbox
    world.identity.qualified.add(world.patient_id)
    document_id = _validated(world)
    sandbox.lose_answers = 1_000  # every answer is lost, from the first sending on
    world.worker().drain()
    given_up = _submission(world, document_id)
    assert sandbox.registrations == {_unique_id(world, document_id): 1}
    assert given_up.status == SubmissionStatus.UNCONFIRMED  # the DMP holds it: never "échec"
    assert "n'a pas confirmé l'envoi après 8 essais" in (given_up.reason_fr or "")
    assert "non confirmé par le DMP" in service.status_lines(world.kernel, world.pharmacy_id)[0]
    sandbox.lose_answers = 0
    service.resend(world.kernel, world.pharmacy_id, document_id, world.seeded.operators["titulaire"])
    before = len(sandbox.requests)
    world.worker().drain()
    assert sandbox.requests[before:] == [ACTION_ITI18]
    assert _submission(world, document_id).status == SubmissionStatus.SENT
    assert sandbox.registrations == {_unique_id(world, document_id): 1}


@pytest.mark.parametrize("lgo_backend", ["sqlite"])  # the DMP's behaviour is the point, not the database's
def test_a_document_the_dmp_holds_is_never_shown_as_failed(dmp_world: DmpWorld) -> None:
    world, sandbox = dmp_world, dmp_world.sandbox
    world.identity.qualified.add(world.patient_id)
    documents = [_validated(world, f"Entretien n° {n}") for n in range(4)]
    sandbox.failure_rate = 0.7  # half of the failures after the DMP carried the request out
    world.worker().drain()
    statuses = {}
    for document_id in documents:
        submission = _submission(world, document_id)
        held = sandbox.registrations.get(_unique_id(world, document_id), 0)
        assert held <= 1  # never twice
        assert submission.status in (SubmissionStatus.SENT, SubmissionStatus.UNCONFIRMED, SubmissionStatus.FAILED)
        if held:
            assert submission.status != SubmissionStatus.FAILED, submission.reason_fr
        if submission.status == SubmissionStatus.SENT:
            assert held
        statuses[document_id] = submission.status
    assert SubmissionStatus.SENT in statuses.values()
