"""Database plumbing: declarative base, engines and units of work.

SQLite is the embedded default (one counter): WAL so readers never wait, and every transaction starts
with ``BEGIN IMMEDIATE`` so that two writers serialise on the database lock instead of failing late with
"database is locked" (the stock and numbering rules rely on it). PostgreSQL (several counters) serialises
writers with row locks taken by the domain code (``SELECT … FOR UPDATE``).

Units of work that only read (a product scanned at the counter) use a second session factory: on SQLite a deferred
``BEGIN`` that never takes the write lock, so a reader does not queue behind another process's billing; on
PostgreSQL autocommit, so that a lookup costs its query and not a BEGIN and a COMMIT more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the kernel's tables. Plugins declare their own base with their own metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite forgets the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _private_sqlite_file(url: str) -> None:
    """The database file (patients' health data) readable by this user only: its folder created 0700, the file
    created 0600 before SQLite opens it — SQLite gives its ``-wal`` and ``-shm`` files the mode of the database — and
    an existing database (and its companions) made 0600."""
    from lgo.config import private_dir, private_file

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        private_file(Path(f"{path}{suffix}"))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions would defer the lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


#: Execution option and session ``info`` key of the units of work that only read.
READ_ONLY = "lgo_read_only"


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading only (see the module's docstring); writing through one is a programming error."""
    options: dict[str, Any] = {READ_ONLY: True}
    if not is_sqlite(engine):
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False, info={READ_ONLY: True})


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back entirely if it raises."""
    with factory() as session, session.begin():
        yield session


class Immutable:
    """Mixin for rows that are never changed once written (ordonnancier, validated invoices, audit):
    a correction is a new row. Enforced at flush time for every session."""

    __immutable_label__ = "enregistrement validé"


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_immutable_rows(session: Session, _context: Any, _instances: Any) -> None:
    from lgo.errors import ImmutableRecordError

    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only unit of work (Kernel.reading) cannot write: use Kernel.transaction")
    for obj in session.dirty:
        if isinstance(obj, Immutable) and session.is_modified(obj, include_collections=False):
            raise ImmutableRecordError(
                f"Un {obj.__immutable_label__} ne peut pas être modifié : enregistrez une correction.",
                detail=f"attempt to update immutable {type(obj).__name__} {getattr(obj, 'id', '?')}",
            )
    for obj in session.deleted:
        if isinstance(obj, Immutable):
            raise ImmutableRecordError(
                f"Un {obj.__immutable_label__} ne peut pas être supprimé.",
                detail=f"attempt to delete immutable {type(obj).__name__} {getattr(obj, 'id', '?')}",
            )


def str_enum(enum: type[StrEnum], length: int) -> SAEnum:
    """A Python ``StrEnum`` stored as its values in a VARCHAR (no database enum type to migrate)."""
    return SAEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# The rule refusing, at every flush, values the database cannot hold (lengths, NUL, integer range).
from lgo.db import limits as _limits  # noqa: E402, F401
