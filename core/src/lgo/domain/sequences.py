"""Gap-free numbering (ordonnancier, invoices).

A number is taken inside the transaction that uses it, on a locked counter row: a rolled-back billing gives
its number back, and two counters never get the same one.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base


class SequenceCounter(Base):
    __tablename__ = "sequence_counter"

    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


def next_number(session: Session, pharmacy_id: int, name: str) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SequenceCounter)
        .values(pharmacy_id=pharmacy_id, name=name, last_value=0)
        .on_conflict_do_nothing(index_elements=["pharmacy_id", "name"])
    )
    # The UPDATE takes the row lock and holds it until the transaction ends.
    session.execute(
        update(SequenceCounter)
        .where(SequenceCounter.pharmacy_id == pharmacy_id, SequenceCounter.name == name)
        .values(last_value=SequenceCounter.last_value + 1)
    )
    value = session.scalar(
        select(SequenceCounter.last_value).where(
            SequenceCounter.pharmacy_id == pharmacy_id, SequenceCounter.name == name
        )
    )
    assert value is not None
    return int(value)
