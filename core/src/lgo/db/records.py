"""The columns every plugin record about one patient carries: a declarative mixin for a plugin's own base.

A plugin act (a TROD, a bilan prévention…) is done in one pharmacy, for one patient, by one operator, validated by a
pharmacist and dated. The foreign keys to the kernel's tables are declared in the plugin's migration, not here: the
plugin's metadata does not know the kernel's tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from sqlalchemy import Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import UTCDateTime, utcnow

# Who and where first, the validation and the dates last, whatever the plugin's own columns in between: the table
# reads the same as the migration that created it.
_FIRST, _LAST = -1, 1


class PatientRecord:
    """``id``, ``pharmacy_id``, ``patient_id``, ``operator_id`` (who performs the act), ``validated_by``,
    ``created_at`` and ``updated_at`` (set on each change)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=_FIRST)
    pharmacy_id: Mapped[int] = mapped_column(Integer, index=True, sort_order=_FIRST)
    patient_id: Mapped[int] = mapped_column(Integer, index=True, sort_order=_FIRST)
    operator_id: Mapped[int] = mapped_column(Integer, sort_order=_FIRST)
    validated_by: Mapped[int | None] = mapped_column(Integer, default=None, sort_order=_LAST)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, sort_order=_LAST)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, sort_order=_LAST)

    @classmethod
    def ids_of_patient(cls, session: Session, pharmacy_id: int, patient_id: int, *criteria: Any) -> list[int]:
        """The ids of this patient's records in this pharmacy that meet ``criteria``, oldest first."""
        query = select(cls.id).where(cls.pharmacy_id == pharmacy_id, cls.patient_id == patient_id, *criteria)
        return list(session.scalars(query.order_by(cls.id)))

    @classmethod
    def last_of_patient(cls, session: Session, pharmacy_id: int, patient_id: int, *criteria: Any) -> Self | None:
        """This patient's latest record in this pharmacy that meets ``criteria``, if any."""
        query = select(cls).where(cls.pharmacy_id == pharmacy_id, cls.patient_id == patient_id, *criteria)
        return session.scalars(query.order_by(cls.id.desc()).limit(1)).first()

    @classmethod
    def of_pharmacy(cls, session: Session, pharmacy_id: int, patient_id: int | None = None) -> list[Self]:
        """The pharmacy's records (of one patient when given), newest first: a plugin's list of its acts."""
        query = select(cls).where(cls.pharmacy_id == pharmacy_id)
        if patient_id is not None:
            query = query.where(cls.patient_id == patient_id)
        return list(session.scalars(query.order_by(cls.id.desc())))
