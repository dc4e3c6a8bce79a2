"""Fetching a row by an id that came from outside (a form, a URL, a command line), only within its pharmacy.

Every business row carries ``pharmacy_id``; an id typed or posted by someone must never reach another pharmacy's
row, nor crash the database with a number it cannot hold. One function does both, so that no page or command
repeats the lookup-then-check by hand.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from lgo.errors import NotFound

T = TypeVar("T")

#: The largest id every supported database accepts in an ``INTEGER`` primary key (PostgreSQL's 4-byte integer).
MAX_ID = 2**31 - 1


def _first_upper(text: str) -> str:
    # Not str.capitalize(), which would lower the rest (« Boîte mssanté »).
    return text[:1].upper() + text[1:]


def parse_id(value: Any, what_fr: str = "élément") -> int:
    """An id from outside as an ``int``, or :class:`NotFound` with a French message (never a database error)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise NotFound(
            f"{_first_upper(what_fr)} introuvable : « {str(value)[:40]} » n'est pas un numéro.",
            detail=f"not an id: {value!r}",
        ) from None
    if not 1 <= number <= MAX_ID:
        raise NotFound(
            f"{_first_upper(what_fr)} n° {str(number)[:20]} introuvable.", detail=f"id out of range: {number}"
        )
    return number


def get_scoped(session: Session, model: type[T], row_id: Any, pharmacy_id: int, what_fr: str = "élément") -> T:
    """The row of ``model`` with this id *in this pharmacy*, else :class:`NotFound` (the same message whether the row
    does not exist or belongs to another pharmacy, so that ids of other pharmacies cannot be probed)."""
    number = parse_id(row_id, what_fr)
    row = session.get(model, number)
    if row is None or getattr(row, "pharmacy_id", None) != pharmacy_id:
        raise NotFound(
            f"{_first_upper(what_fr)} n° {number} introuvable.",
            detail=f"{model.__name__} {number} not in pharmacy {pharmacy_id}",
        )
    return row
