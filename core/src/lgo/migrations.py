"""Alembic migrations: one history for the kernel and one per plugin, each with its own version table.

The kernel's ``env.py`` serves every history: a plugin ships only a folder of revision files (returned by
its ``lgo_register_migrations`` hook). The kernel is migrated first, then the plugins in dependency order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, Engine

# Alembic is imported by the functions that migrate: every plugin names a MigrationSource in its entry module, which
# the command line imports to list the commands (``lgo --help`` must not load Alembic, nor SQLAlchemy).

ENV_DIR = Path(__file__).parent / "db" / "migrations"


@dataclass(frozen=True)
class MigrationSource:
    """``name`` is the plugin's name ("kernel" for the kernel); ``versions_dir`` holds its revision files."""

    name: str
    versions_dir: Path

    @property
    def version_table(self) -> str:
        return "alembic_version" if self.name == "kernel" else f"alembic_version_{self.name}"


KERNEL = MigrationSource("kernel", ENV_DIR / "versions")


@contextmanager
def _config(engine: Engine, source: MigrationSource) -> Iterator[Config]:
    from alembic.config import Config

    with engine.connect() as connection:
        config = Config()
        config.set_main_option("script_location", str(ENV_DIR))
        config.set_main_option("version_locations", str(source.versions_dir))
        config.set_main_option("path_separator", "os")
        config.attributes["connection"] = connection
        config.attributes["source"] = source
        yield config
        connection.commit()


def upgrade(engine: Engine, source: MigrationSource, revision: str = "heads") -> None:
    from alembic import command

    with _config(engine, source) as config:
        command.upgrade(config, revision)


def downgrade(engine: Engine, source: MigrationSource, revision: str = "base") -> None:
    from alembic import command

    with _config(engine, source) as config:
        command.downgrade(config, revision)


def current(connection: Connection, source: MigrationSource) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": source.version_table})
    return set(context.get_current_heads())


def pending(engine: Engine, source: MigrationSource) -> bool:
    """True when the database lacks some of the source's revisions (never created, or not upgraded yet)."""
    from alembic.script import ScriptDirectory

    with _config(engine, source) as config:
        heads = set(ScriptDirectory.from_config(config).get_heads())
        return current(config.attributes["connection"], source) != heads


def revision(engine: Engine, source: MigrationSource, message: str, autogenerate: bool = False) -> None:
    """Write a new revision file into the source's folder (for developers)."""
    from alembic import command

    with _config(engine, source) as config:
        command.revision(config, message=message, autogenerate=autogenerate, version_path=str(source.versions_dir))
