"""The outbox: at-least-once delivery with idempotency keys, back-off, dead letters and operator retry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lgo import hookimpl
from lgo.db import utcnow
from lgo.demo_data import Seeded
from lgo.domain.audit import AuditEntry
from lgo.domain.outbox import OutboxMessage, OutboxStatus, backoff, enqueue, retry_dead
from lgo.errors import ValidationError
from lgo.kernel import Kernel
from lgo.worker import Worker
from sqlalchemy import select


@dataclass
class Receiver:
    """An idempotent HTTP receiver: applies each idempotency key's effect once, whatever the repeats."""

    url: str = ""
    fail_first: int = 0
    status_when_failing: int = 503
    hang_first: bool = False
    requests: list[str] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            with lock:
                state.requests.append(key)
                first = len(state.requests) == 1
                if state.fail_first > 0:
                    state.fail_first -= 1
                    self.send_response(state.status_when_failing)
                    self.end_headers()
                    return
                if key not in {e["key"] for e in state.effects}:
                    state.effects.append({"key": key, "body": body})
            if first and state.hang_first:  # the effect is applied, the answer never leaves
                state.arrived.set()
                state.release.wait(30)
                return
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def _enqueue(kernel: Kernel, seeded: Seeded, url: str, key: str = "facture-1", max_attempts: int = 8) -> int:
    with kernel.transaction() as session:
        return enqueue(
            session,
            seeded.pharmacy_id,
            plugin="kernel",
            kind="http.post",
            idempotency_key=key,
            payload={"url": url, "body": {"facture": 1}, "timeout": 60},
            max_attempts=max_attempts,
        ).id


def _message(kernel: Kernel, message_id: int) -> OutboxMessage:
    with kernel.transaction() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def _worker_process(database_url: str, home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LGO_DATABASE_URL": database_url, "LGO_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "lgo.cli", "worker", "--lease", "1", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_worker_killed_mid_delivery_delivers_exactly_once_to_an_idempotent_receiver(
    lgo_kernel: Kernel, lgo_seeded: Seeded, lgo_database_url: str, lgo_home: Path, receiver: Receiver
) -> None:
    receiver.hang_first = True
    message_id = _enqueue(lgo_kernel, lgo_seeded, receiver.url)

    first = _worker_process(lgo_database_url, lgo_home)
    try:
        assert receiver.arrived.wait(60), first.stderr.read().decode() if first.poll() is not None else "no request"
        first.send_signal(signal.SIGKILL)  # killed after sending, before recording the result
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    receiver.release.set()
    assert _message(lgo_kernel, message_id).status is OutboxStatus.IN_FLIGHT

    with lgo_kernel.transaction() as session:  # time passes: the dead worker's lease is over (no waiting)
        leased = session.get(OutboxMessage, message_id)
        assert leased is not None and leased.lease_until is not None
        leased.lease_until = utcnow() - timedelta(seconds=1)
    second = _worker_process(lgo_database_url, lgo_home, "--once")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err.decode()
    assert "1 message(s) traité(s)" in out.decode()

    message = _message(lgo_kernel, message_id)
    assert message.status is OutboxStatus.DELIVERED
    assert message.attempts == 2
    assert receiver.requests == ["facture-1", "facture-1"]  # at least once...
    assert len(receiver.effects) == 1  # ...and exactly once for an idempotent receiver


def test_a_failing_receiver_is_retried_then_dead_lettered_then_retried_by_an_operator(
    lgo_kernel: Kernel, lgo_seeded: Seeded, receiver: Receiver
) -> None:
    receiver.fail_first = 3
    message_id = _enqueue(lgo_kernel, lgo_seeded, receiver.url, max_attempts=3)
    worker = Worker(lgo_kernel, base_backoff_seconds=0)
    worker.drain()

    message = _message(lgo_kernel, message_id)
    assert message.status is OutboxStatus.DEAD
    assert message.attempts == 3 and len(receiver.requests) == 3
    assert message.last_error is not None and "HTTP 503" in message.last_error
    with lgo_kernel.transaction() as session:
        dead = session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.dead"))
        assert dead is not None and "échec définitif après 3 tentative(s)" in dead.message_fr
        with pytest.raises(ValidationError, match="n'est pas en échec définitif"):
            retry_dead(session, lgo_seeded.pharmacy_id, _enqueue_in(session, lgo_seeded, receiver.url))

    with lgo_kernel.transaction() as session:
        retry_dead(session, lgo_seeded.pharmacy_id, message_id)
    worker.drain()
    assert _message(lgo_kernel, message_id).status is OutboxStatus.DELIVERED
    assert len(receiver.effects) >= 1


def _enqueue_in(session: Any, seeded: Seeded, url: str) -> int:
    return enqueue(session, seeded.pharmacy_id, plugin="kernel", kind="http.post", payload={"url": url}).id


def test_failures_back_off_exponentially(lgo_kernel: Kernel, lgo_seeded: Seeded, receiver: Receiver) -> None:
    receiver.fail_first = 10
    message_id = _enqueue(lgo_kernel, lgo_seeded, receiver.url)
    worker = Worker(lgo_kernel, base_backoff_seconds=60)
    before = utcnow()
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # not due yet: waiting for its back-off
    message = _message(lgo_kernel, message_id)
    assert message.status is OutboxStatus.PENDING
    assert timedelta(seconds=59) <= message.next_attempt_at - before <= timedelta(seconds=70)
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(20, 60).total_seconds() == 3600  # capped at one hour


def test_a_rejection_is_a_dead_letter_at_once(lgo_kernel: Kernel, lgo_seeded: Seeded, receiver: Receiver) -> None:
    receiver.fail_first, receiver.status_when_failing = 1, 422
    message_id = _enqueue(lgo_kernel, lgo_seeded, receiver.url)
    Worker(lgo_kernel, base_backoff_seconds=0).drain()
    message = _message(lgo_kernel, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 1)
    # The pharmacist reads French; the technical error stays for the log and support.
    assert message.last_error_fr == "Le service a refusé ce message (détail dans le journal technique)."
    assert message.last_error is not None and "HTTP 422" in message.last_error


def test_a_message_without_handler_is_kept_and_explained(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    with lgo_kernel.transaction() as session:
        message_id = enqueue(
            session, lgo_seeded.pharmacy_id, plugin="dmp", kind="dmp.feed", payload={}, max_attempts=2
        ).id
    Worker(lgo_kernel, base_backoff_seconds=0).drain()
    message = _message(lgo_kernel, message_id)
    assert message.status is OutboxStatus.DEAD
    assert message.last_error is not None and "no handler for outbox kind 'dmp.feed'" in message.last_error
    assert (
        message.last_error_fr
        == "Le module « dmp » n'est pas installé ou n'a pas démarré : ce message attend qu'il le soit."
    )


def test_an_unreachable_service_is_told_in_french_and_a_handler_s_own_words_are_kept(
    lgo_kernel: Kernel, lgo_seeded: Seeded
) -> None:
    from lgo.errors import ValidationError
    from lgo.worker import PermanentFailure

    def refusing(kernel: Any, delivery: Any) -> None:
        raise PermanentFailure("document 7 not found", message_fr="Le document n° 7 n'existe plus.")

    def french(kernel: Any, delivery: Any) -> None:
        raise ValidationError("L'adresse du service n'est pas renseignée.", detail="endpoint not configured")

    lgo_kernel.outbox_handlers.update({"test.refusing": refusing, "test.french": french})
    unreachable = _enqueue(lgo_kernel, lgo_seeded, "http://127.0.0.1:9/")
    with lgo_kernel.transaction() as session:
        told = [
            enqueue(session, lgo_seeded.pharmacy_id, plugin="test", kind=kind, payload={}).id
            for kind in ("test.refusing", "test.french")
        ]
    Worker(lgo_kernel, base_backoff_seconds=3600).run_once()
    texts = {
        i: (_message(lgo_kernel, i).last_error_fr, _message(lgo_kernel, i).last_error) for i in (unreachable, *told)
    }
    assert texts[unreachable][0] == "Le service ne répond pas ou la connexion sécurisée a échoué."
    assert "ConnectError" in (texts[unreachable][1] or "")
    assert texts[told[0]] == ("Le document n° 7 n'existe plus.", "PermanentFailure: document 7 not found")
    assert texts[told[1]][0] == "L'adresse du service n'est pas renseignée."


def test_enqueuing_twice_with_one_key_gives_one_message(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    first = _enqueue(lgo_kernel, lgo_seeded, "http://127.0.0.1:9/", key="same")
    second = _enqueue(lgo_kernel, lgo_seeded, "http://127.0.0.1:9/", key="same")
    assert first == second


def test_several_workers_share_the_outbox_without_sending_twice(
    lgo_kernel: Kernel, lgo_seeded: Seeded, receiver: Receiver
) -> None:
    ids = [_enqueue(lgo_kernel, lgo_seeded, receiver.url, key=f"msg-{i}") for i in range(30)]
    workers = [Worker(lgo_kernel, name=f"w{i}", batch=3) for i in range(3)]
    errors: list[BaseException] = []

    def work(worker: Worker) -> None:
        try:
            while worker.run_once():
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(receiver.requests) == sorted(f"msg-{i}" for i in range(30))  # each sent once, none twice
    assert {_message(lgo_kernel, i).status for i in ids} == {OutboxStatus.DELIVERED}


class Periodic:
    """A plugin with two periodic jobs: one that counts its runs per pharmacy, one that always fails."""

    def __init__(self) -> None:
        from lgo.plugins.manifest import Manifest

        self.MANIFEST = Manifest(name="periodic", plugin_api=">=2.0,<3")
        self.runs: list[int] = []

    def _count(self, kernel: Kernel, pharmacy_id: int) -> None:
        self.runs.append(pharmacy_id)

    @staticmethod
    def _fail(kernel: Kernel, pharmacy_id: int) -> None:
        raise RuntimeError("serveur injoignable")

    @hookimpl
    def lgo_register_periodic_jobs(self) -> list[Any]:
        from lgo.worker import PeriodicJob

        return [PeriodicJob("compter", 60.0, self._count), PeriodicJob("échouer", 60.0, self._fail)]


def test_periodic_jobs_run_when_due_only_where_the_plugin_is_active(
    lgo_make_kernel: Any, lgo_seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = Periodic()
    kernel = lgo_make_kernel(plugin)
    assert [(job.plugin, job.name) for job in kernel.periodic_jobs] == [
        ("periodic", "compter"),
        ("periodic", "échouer"),
    ]
    worker = Worker(kernel)
    assert worker.run_periodic(now=0.0) == 0 and plugin.runs == []  # not active in the pharmacy yet
    kernel.enable(lgo_seeded.pharmacy_id, "periodic")
    assert worker.run_periodic(now=100.0) == 2  # the failing job is logged, the worker goes on
    assert plugin.runs == [lgo_seeded.pharmacy_id]
    assert "serveur injoignable" in caplog.text
    assert worker.run_periodic(now=130.0) == 0  # not due yet
    assert worker.run_periodic(now=161.0) == 2 and len(plugin.runs) == 2
    assert worker.run_periodic(now=162.0, force=True) == 2 and len(plugin.runs) == 3


def test_a_worker_restricted_to_plugins_leaves_the_other_messages(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    seen: list[str] = []
    lgo_kernel.outbox_handlers["alpha.send"] = lambda _kernel, delivery: seen.append(delivery.kind)
    lgo_kernel.outbox_handlers["beta.send"] = lambda _kernel, delivery: seen.append(delivery.kind)
    with lgo_kernel.transaction() as session:
        enqueue(session, lgo_seeded.pharmacy_id, plugin="alpha", kind="alpha.send", payload={})
        enqueue(session, lgo_seeded.pharmacy_id, plugin="beta", kind="beta.send", payload={})
    assert Worker(lgo_kernel, plugins=("alpha",)).drain() == 1 and seen == ["alpha.send"]
    assert Worker(lgo_kernel).drain() == 1 and seen == ["alpha.send", "beta.send"]
