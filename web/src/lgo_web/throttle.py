"""Slowing down password guessing on the admin page: after :data:`FREE_FAILURES` wrong passwords for one operator
code from one client address, each further attempt must wait, twice as long each time.

The counting is the kernel's (:mod:`lgo.domain.throttle`): failures are audit entries (``web.login_failed``), the
count survives a restart, holds for every web process on the database, and parallel attempts on one code are
counted one after the other (a burst gets exactly the free attempts, on SQLite and on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from lgo.domain import throttle
from lgo.domain.throttle import FREE_FAILURES, Verdict, delay_after
from sqlalchemy.orm import Session

FORM = "login"
FAILED = "web.login_failed"
SUCCEEDED = "web.login"

__all__ = ["FAILED", "FREE_FAILURES", "SUCCEEDED", "Verdict", "check", "delay_after", "record"]


def check(session: Session, pharmacy_id: int, code: str, address: str, now: datetime | None = None) -> Verdict:
    """Take the code's turn (the rest of this transaction), then count its consecutive failures from ``address``."""
    throttle.serialise(session, FORM, code)
    return throttle.failures(
        session, pharmacy_id, form=FORM, code=code, address=address, failed=FAILED, succeeded=SUCCEEDED, now=now
    )


def record(
    session: Session, pharmacy_id: int, code: str, address: str, *, success: bool, operator_id: int | None = None
) -> None:
    shown = code[:40]
    throttle.record(
        session,
        pharmacy_id,
        form=FORM,
        code=code,
        address=address,
        action=SUCCEEDED if success else FAILED,
        message_fr=f"Connexion à la page d'administration ({shown})."
        if success
        else f"Échec de connexion à la page d'administration : code « {shown} », mot de passe refusé.",
        actor="web",
        operator_id=operator_id,
    )
