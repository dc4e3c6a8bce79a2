"""Slowing down guessing on sign-in forms: attempts are audit entries (``object_type`` = the form, ``object_id`` =
the code typed, the client's address in ``details``), so the counts survive a restart, hold for every process on
the database and are visible to the titulaire in the journal.

Counting then recording must not race: a burst of parallel attempts would all read the same count and all pass.
:func:`serialise` makes the attempts on one code wait for each other inside their transaction — on SQLite the write
lock every transaction takes (``BEGIN IMMEDIATE``) already does; on PostgreSQL a transaction-scoped advisory lock
on the code does, released at commit. Two policies use it: consecutive failures with a growing delay (the password
of the admin page), and a number of requests in a window (a sign-in that pushes a request to a phone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lgo.db import utcnow
from lgo.domain import audit
from lgo.domain.audit import AuditEntry

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
#: Failures older than this are forgotten.
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Verdict:
    failures: int
    wait: timedelta

    @property
    def allowed(self) -> bool:
        return self.wait <= timedelta(0)

    @property
    def wait_text_fr(self) -> str:
        seconds = max(1, int(self.wait.total_seconds() + 0.999))
        return f"{seconds} seconde(s)" if seconds < 120 else f"{(seconds + 59) // 60} minute(s)"


def key(code: str) -> str:
    """How a typed code is counted: trimmed, case-folded, cut to the column."""
    return code.strip().lower()[:64]


def serialise(session: Session, form: str, code: str) -> None:
    """Make the attempts on ``code`` at ``form`` wait for each other until the end of this transaction."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"{form}\x00{key(code)}".encode(), digest_size=8).digest()
        lock = int.from_bytes(digest, "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})


def _entries(
    session: Session, pharmacy_id: int, form: str, actions: Collection[str], since: datetime, code: str | None
) -> list[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(
            AuditEntry.pharmacy_id == pharmacy_id,
            AuditEntry.object_type == form,
            AuditEntry.action.in_(list(actions)),
            AuditEntry.at >= since,
        )
        .order_by(AuditEntry.id.desc())
        .limit(500)
    )
    if code is not None:
        query = query.where(AuditEntry.object_id == key(code))
    return list(session.scalars(query))


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - FREE_FAILURES))


def failures(
    session: Session,
    pharmacy_id: int,
    *,
    form: str,
    code: str,
    address: str,
    failed: str,
    succeeded: str,
    now: datetime | None = None,
) -> Verdict:
    """Consecutive failures for (code, address) since its last success, and how long to wait before trying.
    Call :func:`serialise` first in the same transaction, and record the attempt before it ends."""
    now = now or utcnow()
    count = 0
    last_failure: datetime | None = None
    for entry in _entries(session, pharmacy_id, form, (failed, succeeded), now - WINDOW, code):
        if (entry.details or {}).get("address") != address:
            continue
        if entry.action == succeeded:
            break
        count += 1
        last_failure = last_failure or entry.at
    if last_failure is None:
        return Verdict(0, timedelta(0))
    return Verdict(count, last_failure + delay_after(count) - now)


def requests(
    session: Session,
    pharmacy_id: int,
    *,
    form: str,
    action: str,
    window: timedelta,
    code: str | None = None,
    address: str | None = None,
    now: datetime | None = None,
) -> int:
    """How many attempts were recorded in the window, for this code and/or from this address."""
    entries = _entries(session, pharmacy_id, form, (action,), (now or utcnow()) - window, code)
    return sum(1 for e in entries if address is None or (e.details or {}).get("address") == address)


def record(
    session: Session,
    pharmacy_id: int,
    *,
    form: str,
    code: str,
    address: str,
    action: str,
    message_fr: str,
    actor: str = "kernel",
    operator_id: int | None = None,
) -> None:
    """One attempt at ``form``: the code as it is counted (:func:`key`), the client's address in the details."""
    audit.record(
        session,
        pharmacy_id,
        action,
        message_fr,
        actor=actor,
        operator_id=operator_id,
        object_type=form,
        object_id=key(code),
        details={"address": address[:64]},
    )
