"""Transactional outbox: every message to a national service (or any other system) is written in the same
transaction as the business change that causes it, then delivered at least once by ``lgo worker``.

Delivery carries an idempotency key so that a receiver can drop a repeat (a worker killed after sending but
before recording the result sends again). Failed deliveries are retried with exponential back-off; after
``max_attempts`` the message becomes a dead letter, visible and retryable by an operator. Nothing is dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base, UTCDateTime, str_enum, utcnow
from lgo.enums import LabelledEnum
from lgo.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from lgo.plugins.registrations import ServiceState, ServiceStatus


class OutboxStatus(LabelledEnum):
    PENDING = "pending", "en attente"
    IN_FLIGHT = "in_flight", "en cours d'envoi"
    DELIVERED = "delivered", "délivré"
    DEAD = "dead", "en échec définitif"


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    # A pharmacy's summary by status is counted in the index, however long its history (decision 1401).
    __table_args__ = (
        UniqueConstraint("pharmacy_id", "idempotency_key"),
        Index("ix_outbox_message_pharmacy_id_status", "pharmacy_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"))
    #: "kernel" or the plugin that enqueued the message.
    plugin: Mapped[str] = mapped_column(String(64))
    #: The delivery handler's name, registered through ``lgo_register_outbox_handlers``.
    kind: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), default=None)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, 16), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    locked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The technical error of the last attempt (English, for the log and support).
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: The same failure told to the pharmacist in French (what happened, what the LGO does next).
    last_error_fr: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


def enqueue(
    session: Session,
    pharmacy_id: int,
    *,
    plugin: str,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
    max_attempts: int = 8,
    patient_id: int | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction. Enqueuing twice with the same idempotency
    key returns the first message."""
    if max_attempts < 1:
        raise ValidationError("Le nombre maximal de tentatives doit être au moins 1.")
    key = idempotency_key or f"{plugin}:{kind}:{uuid.uuid4()}"
    existing = session.scalar(
        select(OutboxMessage).where(OutboxMessage.pharmacy_id == pharmacy_id, OutboxMessage.idempotency_key == key)
    )
    if existing is not None:
        return existing
    message = OutboxMessage(
        pharmacy_id=pharmacy_id,
        plugin=plugin,
        kind=kind,
        idempotency_key=key,
        payload=payload,
        max_attempts=max_attempts,
        patient_id=patient_id,
        next_attempt_at=not_before or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.IN_FLIGHT, OutboxMessage.lease_until < now),
    )


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int = 10,
    pharmacy_id: int | None = None,
    plugins: Collection[str] | None = None,
) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for this worker (only those of ``plugins`` when given). On PostgreSQL,
    ``SKIP LOCKED`` lets workers on several machines share the queue; on SQLite the database lock already
    serialises claims."""
    query = select(OutboxMessage).where(claimable(now)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    if pharmacy_id is not None:
        query = query.where(OutboxMessage.pharmacy_id == pharmacy_id)
    if plugins is not None:
        query = query.where(OutboxMessage.plugin.in_(list(plugins)))
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[OutboxMessage] = []
    for message in session.scalars(query):
        if message.attempts >= message.max_attempts:
            # Its last attempt was interrupted (worker killed): never retried past the limit silently.
            message.status = OutboxStatus.DEAD
            message.lease_until = None
            message.last_error = (message.last_error or "") + "\nderniere tentative interrompue (worker arrêté)"
            continue
        message.status = OutboxStatus.IN_FLIGHT
        message.attempts += 1
        message.lease_until = now + lease
        message.locked_by = worker
        claimed.append(message)
    session.flush()
    return claimed


def backoff(attempts: int, base_seconds: float, cap_seconds: float = 3600.0) -> timedelta:
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def retry_dead(session: Session, pharmacy_id: int, message_id: int | str) -> OutboxMessage:
    """Put a dead letter back in the queue; ``message_id`` may come from outside (a form, the command line)."""
    from lgo.domain.scoped import get_scoped

    try:
        message = get_scoped(session, OutboxMessage, message_id, pharmacy_id, "message")
    except NotFound:
        message = None
    if message is None:
        raise NotFound(f"Aucun message n° {str(message_id)[:20]} dans la file d'envoi.")
    if message.status != OutboxStatus.DEAD:
        raise ValidationError(f"Le message n° {message_id} n'est pas en échec définitif ({message.status.label_fr}).")
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.lease_until = None
    session.flush()
    return message


def counts(session: Session, pharmacy_id: int) -> dict[OutboxStatus, int]:
    """How many messages of the pharmacy are in each status, counted by the database (years of delivered messages
    are not read back for it)."""
    result = {status: 0 for status in OutboxStatus}
    query = (
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.pharmacy_id == pharmacy_id)
        .group_by(OutboxMessage.status)
    )
    for status, number in session.execute(query):
        result[OutboxStatus(status)] = int(number)
    return result


def service_status(
    session: Session, pharmacy_id: int, patient_id: int | None, *, service: str, label_fr: str, plugin: str
) -> ServiceStatus:
    """The state of a national service whose exchanges go through the outbox (the messages ``plugin`` enqueued),
    for the counter's status bar (``lgo_service_status``): *down* when the last settled message was given up,
    *degraded* while messages wait after an error, *ok* after a delivery, *unknown* before any exchange; with the
    messages still waiting for ``patient_id``. Two indexed queries: it runs on every counter page."""
    from sqlalchemy import case, func

    from lgo.plugins.registrations import ServiceStatus

    waiting_states = (OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT)
    retrying = func.sum(case((OutboxMessage.last_error.is_not(None), 1), else_=0))
    mine = func.sum(case((OutboxMessage.patient_id == patient_id, 1), else_=0)) if patient_id is not None else None
    counts = session.execute(
        select(func.count(), retrying, *([mine] if mine is not None else [])).where(
            OutboxMessage.status.in_(waiting_states),
            OutboxMessage.pharmacy_id == pharmacy_id,
            OutboxMessage.plugin == plugin,
        )
    ).one()
    waiting, retry_count = int(counts[0] or 0), int(counts[1] or 0)
    for_patient = int(counts[2] or 0) if mine is not None else 0
    last = session.scalars(
        select(OutboxMessage.status)
        .where(
            OutboxMessage.pharmacy_id == pharmacy_id,
            OutboxMessage.plugin == plugin,
            OutboxMessage.status.in_((OutboxStatus.DELIVERED, OutboxStatus.DEAD)),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    state: ServiceState
    if last == OutboxStatus.DEAD:
        state, detail = "down", "dernier envoi abandonné (voir l'exploitation)"
    elif retry_count:
        state, detail = "degraded", f"{retry_count} envoi(s) en nouvel essai"
    elif last == OutboxStatus.DELIVERED:
        state, detail = "ok", f"{waiting} en file" if waiting else ""
    else:
        state, detail = "unknown", f"{waiting} en file" if waiting else ""
    return ServiceStatus(service, label_fr, state, detail, waiting_for_patient=for_patient)
