"""Alembic: the kernel's history and one per plugin, each with its own version table."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from lgo import migrations
from lgo.db import Base
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from sample_plugins import WithMigrations
from sqlalchemy import inspect, text


def _tables(kernel: Kernel) -> set[str]:
    return set(inspect(kernel.engine).get_table_names())


def _columns(kernel: Kernel, table: str) -> set[str]:
    return {c["name"] for c in inspect(kernel.engine).get_columns(table)}


def test_the_kernel_schema_matches_its_models(lgo_kernel: Kernel) -> None:
    with lgo_kernel.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_plugin_migrations_upgrade_and_downgrade_on_their_own(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(WithMigrations())  # the fixture runs upgrade_database(): kernel, then plugins
    source = next(s for s in kernel.migration_sources() if s.name == "sample")
    assert {"sample_note", "alembic_version_sample", "alembic_version"} <= _tables(kernel)
    assert "status" in _columns(kernel, "sample_note")
    with kernel.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO sample_note (pharmacy_id, patient_id, text) VALUES (:ph, :pa, 'à revoir')"),
            {"ph": lgo_seeded.pharmacy_id, "pa": lgo_seeded.patients["jean"]},
        )
        assert migrations.current(connection, source) == {"sample_0002"}
        assert migrations.current(connection, migrations.KERNEL) == {"0010"}

    migrations.downgrade(kernel.engine, source, "sample_0001")
    assert "status" not in _columns(kernel, "sample_note")
    migrations.upgrade(kernel.engine, source)
    with kernel.engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM sample_note")).scalar() == "draft"

    migrations.downgrade(kernel.engine, source, "base")
    assert "sample_note" not in _tables(kernel)
    with kernel.engine.connect() as connection:  # the kernel's history is untouched
        assert migrations.current(connection, migrations.KERNEL) == {"0010"}
        assert migrations.current(connection, source) == set()
    assert kernel.upgrade_database() == ["kernel", "sample"]
    assert "sample_note" in _tables(kernel)


def test_the_kernel_migration_downgrades_to_nothing_and_back(lgo_kernel: Kernel) -> None:
    migrations.downgrade(lgo_kernel.engine, migrations.KERNEL, "base")
    assert _tables(lgo_kernel) <= {"alembic_version"}
    migrations.upgrade(lgo_kernel.engine, migrations.KERNEL)
    assert {"pharmacy", "invoice", "outbox_message", "audit_entry"} <= _tables(lgo_kernel)
