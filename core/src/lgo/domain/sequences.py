"""Gap-free numbering (ordonnancier, invoices).

Numbers are taken inside the transaction that uses them, on a locked counter row: a rolled-back billing gives
its numbers back, and two counters never get the same one. A billing takes all the numbers it needs in one
statement (its ordonnancier lines are consecutive), late in its transaction, so that the row lock that serialises
counters is held as briefly as possible.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import ForeignKey, Integer, String, Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base


class SequenceCounter(Base):
    __tablename__ = "sequence_counter"

    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


_table = cast(Table, SequenceCounter.__table__)
# Built once: the UPDATE takes the row lock (held until the transaction ends) and returns the new last value.
_BUMP = (
    update(_table)
    .where(_table.c.pharmacy_id == bindparam("counter_pharmacy"), _table.c.name == bindparam("counter_name"))
    .values(last_value=_table.c.last_value + bindparam("count"))
    .returning(_table.c.last_value)
)


def next_numbers(session: Session, pharmacy_id: int, name: str, count: int) -> range:
    """``count`` consecutive numbers of the sequence ``name`` (an empty range for 0)."""
    if count <= 0:
        return range(0)
    parameters = {"counter_pharmacy": pharmacy_id, "counter_name": name, "count": count}
    last = session.execute(_BUMP, parameters).scalar_one_or_none()
    if last is None:  # the pharmacy's first number of this sequence
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(SequenceCounter)
            .values(pharmacy_id=pharmacy_id, name=name, last_value=0)
            .on_conflict_do_nothing(index_elements=["pharmacy_id", "name"])
        )
        last = session.execute(_BUMP, parameters).scalar_one()
    return range(int(last) - count + 1, int(last) + 1)


def next_number(session: Session, pharmacy_id: int, name: str) -> int:
    return next_numbers(session, pharmacy_id, name, 1)[0]
