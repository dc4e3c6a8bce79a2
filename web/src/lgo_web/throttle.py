"""Slowing down password guessing: after :data:`FREE_FAILURES` wrong passwords for one operator code from one
client address, each further attempt must wait, twice as long each time.

Failures are audit entries (``web.login_failed``), so the count survives a restart, is shared by every web
process on the database and is visible to the titulaire in the journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lgo.db import utcnow
from lgo.domain import audit
from lgo.domain.audit import AuditEntry
from sqlalchemy import select
from sqlalchemy.orm import Session

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
#: Failures older than this are forgotten.
WINDOW = timedelta(hours=1)
FAILED = "web.login_failed"
SUCCEEDED = "web.login"


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


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - FREE_FAILURES))


def check(session: Session, pharmacy_id: int, code: str, address: str, now: datetime | None = None) -> Verdict:
    """Consecutive failures for (code, address) since its last success, and how long to wait before trying."""
    now = now or utcnow()
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.pharmacy_id == pharmacy_id,
            AuditEntry.object_type == "login",
            AuditEntry.object_id == _key(code),
            AuditEntry.action.in_((FAILED, SUCCEEDED)),
            AuditEntry.at >= now - WINDOW,
        )
        .order_by(AuditEntry.id.desc())
        .limit(200)
    )
    failures = 0
    last_failure: datetime | None = None
    for entry in entries:
        if (entry.details or {}).get("address") != address:
            continue
        if entry.action == SUCCEEDED:
            break
        failures += 1
        last_failure = last_failure or entry.at
    if last_failure is None:
        return Verdict(0, timedelta(0))
    return Verdict(failures, last_failure + delay_after(failures) - now)


def record(
    session: Session, pharmacy_id: int, code: str, address: str, *, success: bool, operator_id: int | None = None
) -> None:
    audit.record(
        session,
        pharmacy_id,
        SUCCEEDED if success else FAILED,
        f"Connexion à la page d'administration ({code})."
        if success
        else f"Échec de connexion à la page d'administration : code « {code} », mot de passe refusé.",
        actor="web",
        operator_id=operator_id,
        object_type="login",
        object_id=_key(code),
        details={"address": address},
    )


def _key(code: str) -> str:
    return code.strip().lower()[:64]
