"""What the database can hold, checked before it is asked to: a text longer than its column, a text with a NUL
character, a number beyond a 4-byte integer column.

SQLite stores such values silently (a 300-character name in a 200-character column) and PostgreSQL refuses them
with an English error at commit: either way the pharmacist would get a truncated record or an error page. Forms
and commands check the fields they name with a French label; this rule, run on every flush of every session,
refuses what any of them forgot with a French :class:`~lgo.errors.ValidationError` instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, event, inspect
from sqlalchemy.orm import Session

from lgo.errors import ValidationError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def check_text(value: str, *, length: int | None, label_fr: str) -> str:
    """``value`` if the column holds it, else a French refusal naming the field."""
    if "\x00" in value:
        raise ValidationError(f"« {label_fr} » contient un caractère interdit.", detail=f"NUL in {label_fr}")
    if length is not None and len(value) > length:
        raise ValidationError(
            f"« {label_fr} » est trop long : {length} caractères au plus ({len(value)} saisis).",
            detail=f"{label_fr}: {len(value)} > {length}",
        )
    return value


def column_length(model: type[Any], attribute: str) -> int | None:
    length: int | None = getattr(inspect(model).columns[attribute].type, "length", None)
    return length


def _check(obj: Any) -> None:
    values = inspect(obj).dict
    for attribute in inspect(type(obj)).column_attrs:
        if attribute.key not in values:
            continue
        column, value = attribute.columns[0], values[attribute.key]
        label = str(column.info.get("label_fr", column.name))
        if isinstance(value, str) and isinstance(column.type, String):
            check_text(value, length=column.type.length, label_fr=label)
        elif _integer(column, value) and not INT_MIN <= value <= INT_MAX:
            raise ValidationError(
                f"« {label} » : nombre hors des limites ({value}).", detail=f"{column.table}.{column.name}={value}"
            )


def _integer(column: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and type(column.type) is Integer


@event.listens_for(Session, "before_flush")
def _refuse_what_the_database_cannot_hold(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        _check(obj)
