"""The example third-party plugin passes the contract kit; a crippled copy fails it."""

from __future__ import annotations

import shutil
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lgo_exemple_rappels.plugin as rappels
import pytest
from lgo.demo_data import Seeded
from lgo.kernel import Kernel
from lgo.migrations import MigrationSource
from lgo.plugins.manifest import Manifest
from lgo.testing.contracts import PluginContract, check_manifest, check_migrations_up_and_down


class TestRappelsContract(PluginContract):
    plugin = rappels


def _crippled_without_downgrade(tmp_path: Path) -> Any:
    """A copy of the plugin whose migration forgot its downgrade."""
    versions = tmp_path / "migrations"
    shutil.copytree(Path(rappels.__file__).parent / "migrations", versions)
    script = next(versions.glob("0001_*.py"))
    script.write_text(script.read_text().replace('    op.drop_table("rappels_reminder")', "    pass"))
    return types.SimpleNamespace(
        MANIFEST=rappels.MANIFEST, lgo_register_migrations=lambda: MigrationSource("rappels", versions)
    )


def test_removing_a_behaviour_makes_the_contract_fail(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, tmp_path: Path
) -> None:
    kernel = lgo_make_kernel(rappels)
    check_migrations_up_and_down(kernel, rappels)
    with pytest.raises(AssertionError, match="leaves"):
        check_migrations_up_and_down(kernel, _crippled_without_downgrade(tmp_path))
    without_label = types.SimpleNamespace(MANIFEST=Manifest(name="rappels", plugin_api=">=1.1,<2"))
    with pytest.raises(AssertionError, match="French label"):
        check_manifest(without_label)
    too_new = types.SimpleNamespace(MANIFEST=Manifest(name="rappels", plugin_api=">=9", label_fr="Rappels"))
    with pytest.raises(AssertionError, match="does not accept"):
        check_manifest(too_new)
