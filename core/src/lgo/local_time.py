"""Dates and times as a pharmacy in France reads them: Europe/Paris, French formats.

The database keeps UTC (:class:`lgo.db.UTCDateTime`); every page, command and message shown to a person converts
here, so that an audit entry, an outbox error and a certificate's expiry never disagree by an hour or two.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

#: The one time zone of display (Debian's tzdata; metropolitan France).
PARIS = ZoneInfo("Europe/Paris")


def in_paris(moment: datetime) -> datetime:
    """``moment`` (timezone-aware; a naive one is taken as UTC, as SQLite returns it) in Paris time."""
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def date_fr(moment: datetime | None) -> str:
    """``31/12/2026`` in Paris; ``—`` when there is no date."""
    return in_paris(moment).strftime("%d/%m/%Y") if moment else "—"


def datetime_fr(moment: datetime | None, *, seconds: bool = False) -> str:
    """``31/12/2026 14:05`` (or ``14:05:09``) in Paris; ``—`` when there is no date."""
    if moment is None:
        return "—"
    return in_paris(moment).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
