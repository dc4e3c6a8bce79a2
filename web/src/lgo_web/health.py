"""Health of the national services, derived from the outbox: every exchange with a service that can wait goes
through it, so per message kind (``<plugin>.<what>``) the last delivery and the last error tell
whether the service answers. Nothing new is recorded for this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lgo.domain.outbox import OutboxMessage, OutboxStatus
from sqlalchemy import func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ServiceHealth:
    plugin: str
    kind: str
    last_delivered_at: datetime | None
    last_error: str | None
    #: When the message that failed was written (the outbox does not date each attempt).
    last_error_at: datetime | None
    pending: int
    dead: int

    @property
    def status_fr(self) -> str:
        if self.dead:
            return "en échec"
        if self.last_error:  # a delivery clears the error: this one is still waiting for a new attempt
            return "erreurs récentes"
        if self.last_delivered_at:
            return "fonctionne"
        return "aucun échange"

    @property
    def ok(self) -> bool:
        return self.status_fr in ("fonctionne", "aucun échange")


def _people_error(failed: OutboxMessage | None) -> str | None:
    """The last failure as the pharmacist reads it (the technical text stays in the log)."""
    if failed is None or not failed.last_error:
        return None
    return failed.last_error_fr or "Erreur enregistrée : détail dans le journal technique."


def service_health(session: Session, pharmacy_id: int) -> list[ServiceHealth]:
    mine = OutboxMessage.pharmacy_id == pharmacy_id
    kinds = session.execute(
        select(OutboxMessage.plugin, OutboxMessage.kind).where(mine).group_by(OutboxMessage.plugin, OutboxMessage.kind)
    ).all()
    result = []
    for plugin, kind in sorted(kinds):
        same = (mine, OutboxMessage.kind == kind)
        delivered = session.scalar(
            select(func.max(OutboxMessage.delivered_at)).where(*same, OutboxMessage.status == OutboxStatus.DELIVERED)
        )
        failed = session.scalars(
            select(OutboxMessage)
            .where(*same, OutboxMessage.last_error.is_not(None))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        counts: dict[str, int] = {
            str(status): int(n)
            for status, n in session.execute(
                select(OutboxMessage.status, func.count()).where(*same).group_by(OutboxMessage.status)
            )
        }
        error_at = failed.created_at if failed is not None else None
        result.append(
            ServiceHealth(
                plugin=plugin,
                kind=kind,
                last_delivered_at=delivered,
                last_error=_people_error(failed),
                last_error_at=error_at,
                pending=counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.IN_FLIGHT, 0),
                dead=counts.get(OutboxStatus.DEAD, 0),
            )
        )
    return result
