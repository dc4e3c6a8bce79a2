"""Enumerations whose members carry their French label (:class:`LabelledEnum`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A ``StrEnum`` whose members say how the pharmacist reads them, next to their value::

        class Status(LabelledEnum):
            OPEN = "open", "en cours"
            CANCELLED = "cancelled", "annulé"

    ``Status.OPEN.value`` is ``"open"`` (what is stored, with :func:`lgo.db.str_enum`) and ``Status.OPEN.label_fr``
    is ``"en cours"``: a member cannot be added without its label."""

    label_fr: str

    def __new__(cls, value: str, label_fr: str = "") -> Self:
        # The default only lets type checkers accept a lookup by value (``Status("open")``, which never comes here).
        if not label_fr:
            raise TypeError(f"{cls.__name__}: the member {value!r} has no French label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label_fr = label_fr
        return member
