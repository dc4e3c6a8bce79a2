"""``lgo worker``: delivers the outbox.

A message is claimed in a short transaction (with a lease), delivered outside any transaction, then its
result is recorded in another short transaction. A worker killed mid-delivery leaves the message in flight;
once the lease expires another worker sends it again with the same idempotency key (at least once, and
exactly once for an idempotent receiver).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from lgo.db import unit_of_work, utcnow
from lgo.domain import audit
from lgo.domain.outbox import OutboxMessage, OutboxStatus, backoff, claim

if TYPE_CHECKING:
    from lgo.kernel import Kernel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    message_id: int
    pharmacy_id: int
    plugin: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempt: int
    #: After a retryable failure of attempt ``max_attempts`` the message is dead: a handler may record it as failed.
    max_attempts: int = 8

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (the receiver rejected the message): dead letter now.

    ``str()`` is the technical reason (English, for the log); ``message_fr`` what the pharmacist reads on the
    operations page (what happened, in their words)."""

    def __init__(self, message: str, *, message_fr: str | None = None) -> None:
        super().__init__(message)
        self.message_fr = message_fr


class NoHandler(RuntimeError):
    """No loaded plugin delivers this kind of message (retried: the plugin may be installed or fixed meanwhile)."""

    def __init__(self, message: str, *, message_fr: str) -> None:
        super().__init__(message)
        self.message_fr = message_fr


def people_message(error: BaseException) -> str:
    """The failure of a delivery as the pharmacist reads it, in French; the technical error stays in the log and
    in ``last_error``. A kernel error or a handler's ``message_fr`` says it best; otherwise a plain sentence for
    the kind of failure."""
    from lgo.errors import LgoError

    if isinstance(error, LgoError):
        return error.message_fr
    told = getattr(error, "message_fr", None)
    if isinstance(told, str) and told:
        return told
    if isinstance(error, PermanentFailure):
        return "Le service a refusé ce message (détail dans le journal technique)."
    if isinstance(error, OSError | TimeoutError) or type(error).__module__.startswith(("httpx", "ssl", "smtplib")):
        return "Le service ne répond pas ou la connexion sécurisée a échoué."
    return "L'envoi a échoué (détail dans le journal technique)."


#: ``handler(kernel, delivery)``: the worker's kernel (settings, sessions, hooks) and the message to deliver.
OutboxHandler = Callable[["Kernel", Delivery], None]


def http_post(kernel: Kernel, delivery: Delivery) -> None:
    """Kernel handler ``http.post``: POST ``payload["body"]`` as JSON to ``payload["url"]`` with an
    ``Idempotency-Key`` header. 2xx delivers; 4xx (except 408 and 429) is permanent; the rest is retried."""
    response = _http_client().post(
        delivery.payload["url"],
        json=delivery.payload.get("body"),
        timeout=delivery.payload.get("timeout", 30),
        headers={"Idempotency-Key": delivery.idempotency_key},
    )
    if response.is_success:
        return
    message = f"HTTP {response.status_code} from {delivery.payload['url']}: {response.text[:200]}"
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        raise PermanentFailure(message)
    raise RuntimeError(message)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _http_client() -> Any:
    """One HTTP client for the process: its TLS context and its connections serve every delivery (building a client
    for each message cost a worker more than the POST itself)."""
    with _clients_lock:
        if "http" not in _clients:
            import httpx

            _clients["http"] = httpx.Client()
        return _clients["http"]


BUILTIN_HANDLERS: dict[str, OutboxHandler] = {"http.post": http_post}


@dataclass(frozen=True)
class PeriodicJob:
    """Work a plugin wants done regularly by ``lgo worker`` (fetching a mailbox...), for each pharmacy where the
    plugin is active. ``run(kernel, pharmacy_id)`` must be safe to repeat; an error is logged and the job simply
    runs again at its next turn."""

    name: str
    every_seconds: float
    run: Callable[[Kernel, int], None]
    #: Filled by the kernel with the registering plugin's name.
    plugin: str = ""


class Worker:
    def __init__(
        self,
        kernel: Kernel,
        *,
        name: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        base_backoff_seconds: float = 30.0,
        batch: int = 10,
        pharmacy_id: int | None = None,
        plugins: Collection[str] | None = None,
    ) -> None:
        """``plugins`` restricts the worker to those plugins' messages (a dedicated worker, or a demonstration
        step that must not deliver another module's messages)."""
        self.kernel = kernel
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = lease
        self.base_backoff_seconds = base_backoff_seconds
        self.batch = batch
        self.pharmacy_id = pharmacy_id
        self.plugins = tuple(plugins) if plugins is not None else None
        self._last_run: dict[tuple[str, int], float] = {}

    def run_once(self) -> int:
        """Deliver the messages due now; returns how many were attempted."""
        with unit_of_work(self.kernel.sessions) as session:
            claimed = [
                _snapshot(m)
                for m in claim(
                    session,
                    worker=self.name,
                    now=utcnow(),
                    lease=self.lease,
                    limit=self.batch,
                    pharmacy_id=self.pharmacy_id,
                    plugins=self.plugins,
                )
            ]
        for delivery in claimed:
            self._deliver(delivery)
        return len(claimed)

    def drain(self, max_rounds: int = 1000) -> int:
        """Run until nothing is due (messages waiting for their back-off stay pending)."""
        total = 0
        for _ in range(max_rounds):
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def run_forever(self, poll_seconds: float = 2.0, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            self.run_periodic()
            if not self.run_once():
                stop.wait(poll_seconds)

    def _pharmacies(self) -> list[int]:
        if self.pharmacy_id is not None:
            return [self.pharmacy_id]
        from sqlalchemy import select

        from lgo.domain.pharmacy import Pharmacy

        with unit_of_work(self.kernel.sessions) as session:
            return list(session.scalars(select(Pharmacy.id).order_by(Pharmacy.id)))

    def run_periodic(self, *, now: float | None = None, force: bool = False) -> int:
        """Run the plugins' periodic jobs that are due (all of them with ``force``) in each pharmacy where their
        plugin is active; returns how many ran. A failing job is logged, never raised: the worker goes on."""
        clock = time.monotonic() if now is None else now
        ran = 0
        for pharmacy_id in self._pharmacies() if self.kernel.periodic_jobs else []:
            active = self.kernel.active_plugins(pharmacy_id)
            for job in self.kernel.periodic_jobs:
                key = (f"{job.plugin}:{job.name}", pharmacy_id)
                last = self._last_run.get(key)
                if job.plugin not in active or (not force and last is not None and clock - last < job.every_seconds):
                    continue
                self._last_run[key] = clock
                ran += 1
                try:
                    job.run(self.kernel, pharmacy_id)
                except Exception as exc:
                    log.warning(
                        "periodic job %s of %s failed for pharmacy %s: %s",
                        job.name,
                        job.plugin,
                        pharmacy_id,
                        getattr(exc, "detail", None) or repr(exc),
                    )
        return ran

    def _deliver(self, delivery: Delivery) -> None:
        handler = self.kernel.outbox_handlers.get(delivery.kind)
        error: BaseException | None
        try:
            if handler is None:
                raise NoHandler(
                    f"no handler for outbox kind {delivery.kind!r} (is the plugin {delivery.plugin!r} installed?)",
                    message_fr=f"Le module « {delivery.plugin} » n'est pas installé ou n'a pas démarré : "
                    "ce message attend qu'il le soit.",
                )
            handler(self.kernel, delivery)
            error = None
        except Exception as exc:
            log.warning("delivery of outbox message %s (%s) failed: %r", delivery.message_id, delivery.kind, exc)
            error = exc
        self._record(delivery, error)

    def _record(self, delivery: Delivery, error: BaseException | None) -> None:
        with unit_of_work(self.kernel.sessions) as session:
            message = session.get(OutboxMessage, delivery.message_id)
            assert message is not None
            if message.status == OutboxStatus.DELIVERED:
                return
            now = utcnow()
            message.lease_until = None
            message.locked_by = None
            if error is None:
                message.status = OutboxStatus.DELIVERED
                message.delivered_at = now
                message.last_error = None
                message.last_error_fr = None
                return
            message.last_error = f"{type(error).__name__}: {error}"
            message.last_error_fr = people_message(error)
            if isinstance(error, PermanentFailure) or message.attempts >= message.max_attempts:
                message.status = OutboxStatus.DEAD
                audit.record(
                    session,
                    message.pharmacy_id,
                    "outbox.dead",
                    f"Envoi « {message.kind} » en échec définitif après {message.attempts} tentative(s) : "
                    f"{message.last_error_fr}",
                    patient_id=message.patient_id,
                    object_type="outbox_message",
                    object_id=message.id,
                )
            else:
                message.status = OutboxStatus.PENDING
                message.next_attempt_at = now + backoff(message.attempts, self.base_backoff_seconds)


def _snapshot(message: OutboxMessage) -> Delivery:
    return Delivery(
        message_id=message.id,
        pharmacy_id=message.pharmacy_id,
        plugin=message.plugin,
        kind=message.kind,
        idempotency_key=message.idempotency_key,
        payload=dict(message.payload),
        attempt=message.attempts,
        max_attempts=message.max_attempts,
    )
