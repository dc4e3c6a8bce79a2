"""The plugin contract's import rules (``.importlinter``, generated from the manifests) hold on the repository, and
import-linter fails on a generated plugin that breaks each of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import import_rules  # noqa: E402

LINT = Path(sys.executable).parent / "lint-imports"

BAD_PLUGIN = """
from __future__ import annotations

from lgo.api import Manifest
from lgo.kernel import Kernel  # the kernel's insides: only lgo.api is public
from lgo_ins.counter import search  # another plugin's insides, and ins is not declared
from lgo_dmp.api import open_document  # a published api, but dmp is not declared either
from lgo_sandbox.pki import TestAuthority  # test code in shipped code

MANIFEST = Manifest(name="mauvais", plugin_api=">=2.0,<3", label_fr="Module mal élevé")
"""

GOOD_PLUGIN = """
from __future__ import annotations

from lgo.api import Manifest

MANIFEST = Manifest(name="mauvais", plugin_api=">=2.0,<3", label_fr="Module bien élevé", optional=("dmp",))


def documents(kernel, pharmacy_id, operator_id, patient_id):
    from lgo_dmp import api

    return api.list_documents(kernel, pharmacy_id, operator_id, patient_id)
"""


def _lint(config: Path, *extra_paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in extra_paths)}
    return subprocess.run([str(LINT), str(config), "--no-cache"], capture_output=True, text=True, env=env, timeout=600)


def _workspace_with(tmp_path: Path, plugin_source: str) -> tuple[Path, Path]:
    """A copy of the workspace's layout (links to the real members) plus one generated plugin ``mauvais``."""
    root = tmp_path / "ws"
    (root / "plugins").mkdir(parents=True)
    for member in ("core", "web", "sandbox", "tools"):
        (root / member).symlink_to(ROOT / member)
    for folder in [*ROOT.glob("plugins/*"), *ROOT.glob("examples/*")]:
        if (folder / "pyproject.toml").exists():
            target = root / folder.relative_to(ROOT)
            target.parent.mkdir(exist_ok=True)
            target.symlink_to(folder)
    bad = root / "plugins" / "mauvais"
    (bad / "src" / "lgo_mauvais").mkdir(parents=True)
    (bad / "pyproject.toml").write_text(
        '[project]\nname = "lgo-mauvais"\nversion = "0.0.1"\n'
        '[project.entry-points."lgo.plugins"]\nmauvais = "lgo_mauvais.plugin"\n'
    )
    (bad / "src" / "lgo_mauvais" / "__init__.py").write_text("")
    (bad / "src" / "lgo_mauvais" / "plugin.py").write_text(plugin_source)
    for name in [m for m in sys.modules if m.startswith("lgo_mauvais")]:
        del sys.modules[name]  # the manifest is read by importing it: each test has its own version
    config = root / ".importlinter"
    config.write_text(import_rules.generate(root))
    return config, bad / "src"


def test_the_import_rules_are_up_to_date_and_hold_on_the_repository() -> None:
    assert (ROOT / ".importlinter").read_text() == import_rules.generate(ROOT), (
        ".importlinter n'est plus à jour : lancez « python3 dev.py imports »"
    )
    result = _lint(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_a_generated_plugin_breaking_each_rule_fails_the_check(tmp_path: Path) -> None:
    config, source = _workspace_with(tmp_path, BAD_PLUGIN)
    result = _lint(config, source)
    assert result.returncode != 0
    report = result.stdout
    assert "lgo_mauvais.plugin -> lgo.kernel" in report
    assert "lgo_mauvais.plugin -> lgo_ins.counter" in report
    assert "lgo_mauvais.plugin -> lgo_dmp.api" in report
    assert "lgo_mauvais.plugin -> lgo_sandbox.pki" in report


def test_the_same_plugin_through_lgo_api_and_a_declared_api_passes(tmp_path: Path) -> None:
    if not LINT.exists():
        pytest.fail("lint-imports absent : installez import-linter (requirements-dev.txt).")
    config, source = _workspace_with(tmp_path, GOOD_PLUGIN)
    result = _lint(config, source)
    assert result.returncode == 0, result.stdout[-3000:]
