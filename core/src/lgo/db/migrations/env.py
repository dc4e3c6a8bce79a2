"""Alembic environment shared by the kernel's history and every plugin's (see lgo.migrations)."""

from __future__ import annotations

from alembic import context
from lgo.db import Base
from lgo.migrations import MigrationSource
from sqlalchemy import MetaData

config = context.config
source: MigrationSource = config.attributes["source"]
target_metadata: MetaData | None
connection = config.attributes["connection"]

if source.name == "kernel":
    import lgo.documents.model
    import lgo.domain  # noqa: F401  (registers the kernel's tables for autogenerate)

    target_metadata = Base.metadata
else:
    target_metadata = config.attributes.get("target_metadata")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    version_table=source.version_table,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
