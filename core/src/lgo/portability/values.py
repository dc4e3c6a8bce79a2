"""Column values to JSON and back, by the column's type: what the data dictionary promises for each type.

| type in the database | in the archive |
|---|---|
| integer, text, boolean, null | as is |
| date and time | ISO 8601 in UTC (``2026-03-01T09:30:00+00:00``) |
| date | ISO 8601 (``2026-03-01``) |
| enumeration | its stored value (``validated``) |
| JSON | the JSON value |
| binary | a file of the archive: ``{"fichier": "IHE_XDM/SUBSET01/DOC00001.XML"}`` |
"""

from __future__ import annotations

import base64
import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Enum, LargeBinary, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

from lgo.errors import ValidationError


def _base(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    return kind.impl if isinstance(kind, TypeDecorator) else kind  # type: ignore[return-value]


def type_name_fr(kind: TypeEngine[Any]) -> str:
    """The type as the dictionary names it."""
    base = _base(kind)
    if isinstance(base, DateTime):
        return "date et heure (ISO 8601, UTC)"
    if isinstance(base, Date):
        return "date (ISO 8601)"
    if isinstance(base, Enum):
        return "texte parmi : " + ", ".join(str(v) for v in base.enums)
    if isinstance(base, JSON):
        return "JSON"
    if isinstance(base, LargeBinary):
        return "fichier (chemin dans l'archive)"
    python = _python_type(base)
    names: dict[type | None, str] = {int: "entier", bool: "booléen", float: "nombre", str: "texte"}
    return names.get(python, str(base))


def _python_type(kind: TypeEngine[Any]) -> type | None:
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def is_binary(kind: TypeEngine[Any]) -> bool:
    return isinstance(_base(kind), LargeBinary)


def encode(value: Any) -> Any:
    """A database value as JSON (binary values are handled by the caller: they become files)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    raise ValidationError("Une valeur de la base ne peut pas être exportée.", detail=f"type {type(value).__name__}")


def decode(value: Any, kind: TypeEngine[Any], where: str) -> Any:
    """A JSON value back to what the column takes; a value of the wrong shape raises a French
    :class:`ValidationError` naming ``where`` (the file and column)."""
    if value is None:
        return None
    base = _base(kind)
    try:
        if isinstance(base, DateTime):
            moment = datetime.fromisoformat(_text(value))
            return moment.astimezone(UTC) if moment.tzinfo else moment
        if isinstance(base, Date):
            return date.fromisoformat(_text(value))
        if isinstance(base, Enum):
            text = _text(value)
            if base.enum_class is not None:
                return base.enum_class(text)
            if text not in base.enums:
                raise ValueError(text)
            return text
        if isinstance(base, JSON):
            return value
        if isinstance(base, LargeBinary):
            if isinstance(value, dict) and isinstance(value.get("base64"), str):
                return base64.b64decode(value["base64"], validate=True)
            raise ValueError("binary value")
        if isinstance(base, Numeric) and not isinstance(value, bool):
            return Decimal(str(value))
        python = _python_type(base)
        if python is bool:
            if not isinstance(value, bool):
                raise ValueError("boolean")
            return value
        if python is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("integer")
            return value
        if python is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if python is str:
            return _text(value)
        return value
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"Valeur invalide dans l'archive ({where}) : l'import est refusé.", detail=f"{where}: {value!r} ({exc})"
        ) from exc


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("text")
    return value
