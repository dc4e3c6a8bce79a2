"""The example third-party plugin passes the contract kit; a crippled copy fails it."""

from __future__ import annotations

import shutil
import types
from collections.abc import Callable
from pathlib import Path

import lgo_exemple_rappels.plugin as rappels
import pytest
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo.migrations import MigrationSource
from lgo.plugins.manifest import Manifest
from lgo.testing.contracts import (
    PluginContract,
    check_manifest,
    check_migrations_up_and_down,
    check_models_match_migrations,
)
from lgo_exemple_rappels.model import reminders
from sqlalchemy import Column, MetaData, String


class TestRappelsContract(PluginContract):
    plugin = rappels


def _crippled_without_downgrade(tmp_path: Path) -> MigrationSource:
    """A copy of the plugin's migrations that forgot the downgrade."""
    versions = tmp_path / "migrations"
    shutil.copytree(Path(rappels.__file__).parent / "migrations", versions)
    script = next(versions.glob("0001_*.py"))
    script.write_text(script.read_text().replace('    op.drop_table("rappels_reminder")', "    pass"))
    return MigrationSource("rappels", versions)


def _models_with_a_column_the_migrations_lack() -> MetaData:
    metadata = MetaData()
    reminders.to_metadata(metadata).append_column(Column("channel", String(20)))
    return metadata


def test_removing_a_behaviour_makes_the_contract_fail(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path
) -> None:
    kernel = lgo_make_kernel(rappels)
    check_migrations_up_and_down(kernel, rappels)
    with pytest.raises(AssertionError, match="leaves"):
        check_migrations_up_and_down(kernel, rappels, _crippled_without_downgrade(tmp_path))
    check_models_match_migrations(kernel, rappels, reminders.metadata)
    with pytest.raises(AssertionError, match="differ from its models.*channel"):
        check_models_match_migrations(kernel, rappels, _models_with_a_column_the_migrations_lack())
    without_label = types.SimpleNamespace(MANIFEST=Manifest(name="rappels", plugin_api=">=2.0,<3"))
    with pytest.raises(AssertionError, match="French label"):
        check_manifest(without_label)
    too_new = types.SimpleNamespace(MANIFEST=Manifest(name="rappels", plugin_api=">=9", label_fr="Rappels"))
    with pytest.raises(AssertionError, match="does not accept"):
        check_manifest(too_new)
