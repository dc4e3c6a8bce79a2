"""The tox matrix is generated from the manifests, kept up to date, and a plugin that secretly depends on another
fails its own environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import tox_matrix  # noqa: E402


def test_tox_ini_is_up_to_date_with_the_manifests() -> None:
    assert (ROOT / "tox.ini").read_text() == tox_matrix.generate(ROOT), (
        "tox.ini n'est plus à jour : lancez « .venv/bin/python tools/tox_matrix.py »"
    )


def test_each_plugin_gets_an_environment_with_only_what_it_requires() -> None:
    text = tox_matrix.generate(ROOT)
    vaccination = text.split("[testenv:plugin-vaccination]")[1].split("\n[")[0]
    assert "./plugins/ins" in vaccination and "./plugins/dmp" not in vaccination  # dmp is only optional
    assert {"core", "plugin-ins", "plugin-dmp", "plugin-rappels", "all", "lint", "type", "docs"} <= set(
        line.strip() for line in text.split("env_list =")[1].split("\n[")[0].splitlines()
    )
    assert tox_matrix.pairwise(ROOT)


def test_the_ci_subset_runs_each_plugin_provider_and_the_shipped_packages_once() -> None:
    subset = tox_matrix.pairwise(ROOT)
    assert {"plugin-ins", "plugin-mssante", "provider-mssante-mailiz", "production"} <= set(subset)
    assert "all" not in subset and "lint" not in subset
    # mssante carries both its drivers: "all the drivers side by side" is its own environment, run once.
    assert "providers-mssante" not in subset
    text = tox_matrix.generate(ROOT)
    bodies = [text.split(f"[testenv:{env}]")[1].split("\n[")[0].split("\n", 2)[2] for env in subset]
    assert len(set(bodies)) == len(bodies)


BROKEN_PLUGIN = """
from __future__ import annotations

import lgo_secret_helper  # imported without being declared in the manifest nor the distribution

from lgo.plugins.manifest import Manifest

MANIFEST = Manifest(name="cache", plugin_api=">=2.0,<3", label_fr="Module cassé")
"""


@pytest.mark.slow
def test_a_plugin_with_an_undeclared_dependency_fails_its_environment(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for member in ("core", "sandbox"):
        shutil.copytree(ROOT / member, tree / member, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    plugin = tree / "plugins" / "cache"
    (plugin / "src" / "lgo_cache").mkdir(parents=True)
    (plugin / "tests").mkdir()
    (plugin / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "lgo-cache"\nversion = "0.1.0"\ndependencies = ["lgo-core"]\n'
        '[project.entry-points."lgo.plugins"]\ncache = "lgo_cache.plugin"\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    )
    (plugin / "src" / "lgo_cache" / "__init__.py").write_text("")
    (plugin / "src" / "lgo_cache" / "plugin.py").write_text(BROKEN_PLUGIN)
    (plugin / "tests" / "test_cache_contract.py").write_text(
        "from __future__ import annotations\n\nimport lgo_cache.plugin\nfrom lgo.testing.contracts import "
        "PluginContract\n\n\nclass TestCacheContract(PluginContract):\n    plugin = lgo_cache.plugin\n"
    )
    # The helper exists in the developer's environment (another plugin's module), so the bug hides there.
    helper = tmp_path / "dev-site"
    helper.mkdir()
    (helper / "lgo_secret_helper.py").write_text("VALUE = 1\n")
    env = {**os.environ, "PYTHONPATH": str(helper)}
    developer = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'plugins/cache/src'); import lgo_cache.plugin"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    assert developer.returncode == 0, developer.stderr

    (tree / "tox.ini").write_text(tox_matrix.generate(tree))
    assert "[testenv:plugin-cache]" in (tree / "tox.ini").read_text()
    tox = shutil.which("tox") or str(Path(sys.executable).parent / "tox")
    result = subprocess.run(
        [tox, "-e", "plugin-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode != 0
    assert "lgo_secret_helper" in result.stdout + result.stderr


def test_a_plugin_whose_tests_need_the_admin_page_gets_it_installed() -> None:
    import configparser

    config = configparser.ConfigParser()
    config.read_string(tox_matrix.generate(ROOT))
    for env in ("plugin-mssante", "plugin-psc", "provider-mssante-mailiz"):
        assert "-e ./web" in config[f"testenv:{env}"]["deps"].split("\n"), env
    assert "-e ./web" not in config["testenv:plugin-ins"]["deps"].split("\n")
