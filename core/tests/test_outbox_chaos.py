"""The outbox under faults: a receiver failing 30 % of calls behind a link that drops connections and answers, two
workers draining at once. Every message arrives, exactly once in effect (the receiver recognises repeats by their
idempotency key), none is lost or left behind — and the check is proven to catch a loss and a duplicate."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from lgo.demo_data import Seeded
from lgo.domain.outbox import OutboxMessage, OutboxStatus, counts, enqueue
from lgo.kernel import Kernel
from lgo.testing.chaos import FlakyProxy, delivery_problems
from lgo.worker import Worker
from sqlalchemy import update

MESSAGES = 40

#: Each fault is sure to happen early, whatever the random draws that follow.
SCRIPT = ("pass", "drop_answer", "drop_connection", "pass", "drop_answer")


@dataclass
class Receiver:
    """An HTTP receiver that fails a share of calls (503) and acts once per idempotency key, unless told not to."""

    failure_rate: float
    idempotent: bool = True
    url: str = ""
    port: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)
    random: random.Random = field(default_factory=lambda: random.Random(25))
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(failure_rate=0.3)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            with state.lock:
                state.calls[key] += 1
                failing = state.random.random() < state.failure_rate
                if not failing and (not state.idempotent or key not in state.effects):
                    state.effects[key] += 1
            self.send_response(503 if failing else 200)
            self.send_header("Connection", "close")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    state.url = f"http://127.0.0.1:{state.port}/notify"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _enqueue_all(kernel: Kernel, seeded: Seeded, url: str) -> None:
    with kernel.transaction() as session:
        for i in range(MESSAGES):
            enqueue(
                session,
                seeded.pharmacy_id,
                plugin="kernel",
                kind="http.post",
                idempotency_key=f"facture-{i}",
                payload={"url": url, "body": {"facture": i}, "timeout": 10},
                max_attempts=25,  # 30 % failures and 20 % drops: 8 attempts would leave a dead letter now and then
            )


def _drain_with_two_workers(kernel: Kernel, seconds: float = 120) -> None:
    workers = [Worker(kernel, name=f"w{i}", batch=4, base_backoff_seconds=0.0) for i in range(2)]
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def work(worker: Worker) -> None:
        try:
            while time.monotonic() < deadline:
                if worker.run_once():
                    continue
                if not _pending(kernel):
                    return
                time.sleep(0.05)  # the other worker holds what is left
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    assert not errors, errors


def _pending(kernel: Kernel) -> bool:
    with kernel.reading() as session:
        return session.query(OutboxMessage).filter(OutboxMessage.status != OutboxStatus.DELIVERED).count() > 0


def test_two_workers_deliver_everything_exactly_once_through_failures_and_dropped_connections_and_answers(
    lgo_kernel: Kernel, lgo_seeded: Seeded, receiver: Receiver
) -> None:
    with FlakyProxy(
        ("127.0.0.1", receiver.port), drop_connections=0.1, drop_answers=0.1, seed=7, script=SCRIPT
    ) as proxy:
        _enqueue_all(lgo_kernel, lgo_seeded, proxy.url_for(receiver.url))
        _drain_with_two_workers(lgo_kernel)

    assert delivery_problems(lgo_kernel.engine, receiver.effects) == []
    with lgo_kernel.reading() as session:
        assert counts(session, lgo_seeded.pharmacy_id) == {
            **dict.fromkeys(OutboxStatus, 0),
            OutboxStatus.DELIVERED: MESSAGES,
        }
    # The faults did happen: some calls failed, connections and answers were dropped, and the receiver saw repeats
    # of messages it had already acted on (answers lost after the effect), which it recognised.
    assert proxy.counts["dropped_connections"] > 0 and proxy.counts["dropped_answers"] > 0, proxy.counts
    repeats = [key for key, calls in receiver.calls.items() if calls > 1]
    assert repeats and sum(receiver.effects.values()) == MESSAGES


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)  # the check reads the outbox the same way on both
def test_the_check_catches_a_duplicate_and_a_loss(lgo_kernel: Kernel, lgo_seeded: Seeded, receiver: Receiver) -> None:
    """Broken on purpose: a receiver that does not recognise repeats acts twice on a message whose answer was lost,
    and a message marked delivered without having been sent is lost."""
    receiver.idempotent = False
    with FlakyProxy(("127.0.0.1", receiver.port), drop_answers=0.3, seed=3) as proxy:
        _enqueue_all(lgo_kernel, lgo_seeded, proxy.url_for(receiver.url))
        with lgo_kernel.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.idempotency_key == f"facture-{MESSAGES - 1}")
                .values(status=OutboxStatus.DELIVERED)
            )
        _drain_with_two_workers(lgo_kernel)

    problems = delivery_problems(lgo_kernel.engine, receiver.effects)
    assert any("duplicated" in p for p in problems), problems
    assert f"facture-{MESSAGES - 1}: delivered but never received (lost)" in problems
