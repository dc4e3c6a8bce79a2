"""Feeding the DMP through the outbox under faults: the sandbox DMP fails 30 % of calls (half of them after
registering the document: the answer is lost), the link drops connections and answers, and two workers drain the
outbox on PostgreSQL at once. Every document ends in the DMP exactly once and is shown sent; the check that says so is
shown catching a document registered twice and one never registered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import lgo_dmp.plugin
import pytest
from lgo import documents
from lgo.demo_data import Seeded
from lgo.documents import cda
from lgo.domain.outbox import OutboxMessage, OutboxStatus
from lgo.domain.pharmacy import Pharmacy
from lgo.kernel import Kernel
from lgo.testing.chaos import FlakyProxy, delivery_problems
from lgo.testing.fakes import FakeIdentityPlugin
from lgo.testing.invariants import check
from lgo.worker import Worker
from lgo_dmp import service
from lgo_dmp.model import SubmissionStatus
from lgo_sandbox.dmp import DmpSandbox
from lgo_sandbox.pki import TestAuthority, server_context
from lgo_sandbox.tls import BackgroundServer
from sqlalchemy import update

DOCUMENTS = 12
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

#: Each fault is sure to happen early, whatever the random draws that follow.
SCRIPT = ("pass", "drop_answer", "drop_connection", "pass", "drop_answer")


@pytest.fixture
def flaky_dmp(tmp_path: Path) -> Iterator[tuple[DmpSandbox, BackgroundServer, TestAuthority]]:
    authority = TestAuthority(tmp_path / "pki")
    sandbox = DmpSandbox(authority.ca_path, failure_rate=0.3, seed=25)
    server = BackgroundServer(sandbox, ssl_context=server_context(authority.server("dmp"))).start()
    yield sandbox, server, authority
    server.stop()


def _documents(kernel: Kernel, seeded: Seeded, identity: FakeIdentityPlugin) -> list[int]:
    pharmacy, patient, titulaire = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
    made = []
    for i in range(DOCUMENTS):
        with kernel.transaction() as session:
            draft = documents.create_draft(
                session,
                pharmacy_id=pharmacy,
                patient_id=patient,
                author_operator_id=titulaire,
                type_code="78601-2",
                type_display="CR d'entretien pharmaceutique",
                title=f"Entretien pharmaceutique n° {i + 1}",
                source_plugin="test",
            )
            header = cda.header_for_document(session, draft, identity.identity(patient))
            documents.set_content(draft, cda.wrap_pdf(header, PDF))
            made.append(draft.id)
        documents.validate(kernel, pharmacy, draft.id, titulaire)
    return made


def _drain_with_two_workers(kernel: Kernel, seconds: float = 240) -> None:
    workers = [Worker(kernel, name=f"dmp-{i}", batch=2, base_backoff_seconds=0.0) for i in range(2)]
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def pending() -> bool:
        with kernel.reading() as session:
            return session.query(OutboxMessage).filter(OutboxMessage.status != OutboxStatus.DELIVERED).count() > 0

    def work(worker: Worker) -> None:
        try:
            while time.monotonic() < deadline:
                if not worker.run_once():
                    if not pending():
                        return
                    time.sleep(0.05)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    assert not errors, errors


@pytest.mark.parametrize("lgo_backend", ["postgresql"], indirect=True)  # two workers share the queue: SKIP LOCKED
def test_every_document_reaches_the_flaky_dmp_exactly_once_with_two_workers(
    lgo_make_kernel: Callable[..., Kernel],
    lgo_seeded: Seeded,
    flaky_dmp: tuple[DmpSandbox, BackgroundServer, TestAuthority],
) -> None:
    sandbox, server, authority = flaky_dmp
    identity = FakeIdentityPlugin()
    kernel = lgo_make_kernel(lgo_dmp.plugin, identity)
    pharmacy = lgo_seeded.pharmacy_id
    for name in ("fake_ins", "dmp"):
        kernel.enable(pharmacy, name)
    identity.qualify(kernel, pharmacy, lgo_seeded.patients["camille"])
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
    authority.organisation("PHARMACIE DES TILLEULS", finess=finess).store_for(kernel, pharmacy)

    with FlakyProxy(
        ("127.0.0.1", server.port), drop_connections=0.1, drop_answers=0.1, seed=11, script=SCRIPT
    ) as proxy:
        kernel.save_plugin_settings(
            pharmacy,
            "dmp",
            {
                "endpoint": proxy.url_for(server.url),
            },
        )
        sent = _documents(kernel, lgo_seeded, identity)
        with kernel.transaction() as session:  # 30 % + drops: 8 attempts would leave a dead letter now and then
            session.execute(update(OutboxMessage).values(max_attempts=30))
        _drain_with_two_workers(kernel)

    effects = {f"dmp:send:{uid}": count for uid, count in sandbox.registrations.items()}
    assert delivery_problems(kernel.engine, effects, pharmacy_id=pharmacy) == []
    statuses = {
        s.document_id: s.status
        for s in service.submissions_for_patient(kernel, pharmacy, lgo_seeded.patients["camille"])
    }
    assert statuses == dict.fromkeys(sent, SubmissionStatus.SENT)
    assert [str(v) for v in check(kernel.engine, pharmacy)] == []
    # The faults did happen, and some documents were registered before their answer was lost (sent again, then
    # recognised by the DMP as already held).
    assert proxy.counts["dropped_connections"] > 0 and proxy.counts["dropped_answers"] > 0, proxy.counts
    with kernel.reading() as session:
        attempts = [m.attempts for m in session.query(OutboxMessage).filter(OutboxMessage.plugin == "dmp")]
    assert max(attempts) > 1

    # The check is proven on purpose: a DMP that kept a document twice, and one that lost a document.
    first, second = (f"dmp:send:{uid}" for uid in list(sandbox.registrations)[:2])
    broken = {**effects, first: 2}
    del broken[second]
    problems = delivery_problems(kernel.engine, broken, pharmacy_id=pharmacy)
    assert problems == sorted(
        [f"{first}: received 2 times (duplicated)", f"{second}: delivered but never received (lost)"]
    )
