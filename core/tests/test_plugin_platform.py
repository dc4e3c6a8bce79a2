"""Discovery through real entry points, manifests, states with reasons, dependency order, activation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lgo import PLUGIN_API, hookimpl
from lgo.demo_data import Seeded
from lgo.domain.plugin_state import PluginActivation
from lgo.errors import PluginError
from lgo.kernel import Kernel
from lgo.plugins.discovery import discover
from lgo.plugins.manifest import Manifest, ManifestError, PluginState
from lgo.plugins.registry import PluginRegistry
from sqlalchemy import select

STARTED: list[str] = []


def test_broken_plugins_are_reported_and_the_others_run(installed: Callable[..., Path]) -> None:
    installed("good")
    installed("needs_good", requires=("good",))
    installed("old_api", plugin_api=">=0.1,<1")
    installed("boom", source="raise RuntimeError('configuration introuvable')\n")
    installed("orphan", requires=("absent",))
    installed("cycle_a", requires=("cycle_b",))
    installed("cycle_b", requires=("cycle_a",))
    installed("after_cycle", requires=("cycle_a",))

    registry = PluginRegistry(discover())
    states = {info.name: info for info in registry.all()}

    assert states["good"].state is PluginState.ACTIVE
    assert states["good"].version == "1.2.3"  # read from the distribution's metadata
    assert states["needs_good"].state is PluginState.ACTIVE
    assert registry.order.index("good") < registry.order.index("needs_good")

    assert states["old_api"].state is PluginState.INCOMPATIBLE
    assert f"demande l'API de plugins >=0.1,<1, le noyau fournit {PLUGIN_API}" in states["old_api"].reason
    assert states["boom"].state is PluginState.FAILED
    assert "RuntimeError: configuration introuvable" in states["boom"].reason
    assert states["orphan"].state is PluginState.MISSING_DEPENDENCY
    assert states["orphan"].reason == "nécessite « absent », qui n'est pas installé"
    for name in ("cycle_a", "cycle_b"):
        assert states[name].state is PluginState.FAILED
        assert "cycle de dépendances" in states[name].reason
    assert states["after_cycle"].state is PluginState.MISSING_DEPENDENCY
    # Only this test's plugins: the Ségur plugins installed in the environment are discovered too.
    ours = {"good", "needs_good", "old_api", "boom", "orphan", "cycle_a", "cycle_b", "after_cycle"}
    assert [name for name in registry.order if name in ours] == ["good", "needs_good"]
    registered = {name for name, _ in registry.pm.list_name_plugin()}
    assert registered & ours == {"good", "needs_good"}


def test_manifest_is_validated() -> None:
    with pytest.raises(ManifestError):
        Manifest(name="Bad Name", plugin_api=">=1.0")
    with pytest.raises(ManifestError):
        Manifest(name="ok", plugin_api="not a range")
    with pytest.raises(ManifestError):
        Manifest(name="ok", plugin_api=">=1.0", wave=3)
    with pytest.raises(ManifestError):
        Manifest(name="ok", plugin_api=">=1.0", requires=("ok",))


def test_unknown_hook_marks_the_plugin_failed(installed: Callable[..., Path]) -> None:
    installed("typo", body="@hookimpl\ndef lgo_on_biling_end(kernel, event):\n    pass\n")
    info = PluginRegistry(discover()).get("typo")
    assert info is not None and info.state is PluginState.FAILED
    assert "lgo_on_biling_end" in info.reason


class _StartsFine:
    def __init__(self, name: str, requires: tuple[str, ...] = (), fail: bool = False) -> None:
        self.MANIFEST = Manifest(name=name, plugin_api=">=2.0,<3", requires=requires)
        self.fail = fail

    @hookimpl
    def lgo_startup(self, kernel: Kernel) -> None:
        if self.fail:
            raise RuntimeError("certificat illisible")
        STARTED.append(self.MANIFEST.name)


def _plugin(name: str, requires: tuple[str, ...] = (), fail: bool = False) -> object:
    return _StartsFine(name, requires, fail)


def test_startup_in_dependency_order_and_a_failing_start_takes_out_its_dependents(
    lgo_make_kernel: Callable[..., Kernel],
) -> None:
    STARTED.clear()
    kernel = lgo_make_kernel(
        _plugin("vaccination", requires=("ins",)),
        _plugin("ins"),
        _plugin("dmp", requires=("ins",), fail=True),
        _plugin("mssante", requires=("dmp",)),
        strict=False,
    )
    assert STARTED == ["ins", "vaccination"]
    dmp = kernel.registry.get("dmp")
    assert dmp is not None and dmp.state is PluginState.FAILED
    assert "échec au démarrage : RuntimeError: certificat illisible" in dmp.reason
    mssante = kernel.registry.get("mssante")
    assert mssante is not None and mssante.state is PluginState.MISSING_DEPENDENCY
    failures = kernel.recent_failures()
    assert [(f.plugin, f.hook) for f in failures] == [("dmp", "lgo_startup")]


def test_activation_is_per_pharmacy_and_explains_dependencies(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded
) -> None:
    kernel = lgo_make_kernel(_plugin("ins"), _plugin("vaccination", requires=("ins",)))
    pharmacy = lgo_seeded.pharmacy_id
    states = {i.name: i for i in kernel.plugin_states(pharmacy)}
    assert states["ins"].state is PluginState.DISABLED  # installed ≠ enabled

    with pytest.raises(PluginError, match="« vaccination » nécessite « ins » : activez-le d'abord"):
        kernel.enable(pharmacy, "vaccination")
    assert kernel.enable(pharmacy, "vaccination", with_dependencies=True) == ["ins", "vaccination"]
    assert kernel.active_plugins(pharmacy) == {"ins", "vaccination"}

    with pytest.raises(PluginError, match="« ins » est nécessaire à « vaccination »"):
        kernel.disable(pharmacy, "ins")
    kernel.disable(pharmacy, "vaccination")
    assert kernel.active_plugins(pharmacy) == {"ins"}
    # Disabling keeps the row (and never touches the plugin's data): re-enabling is the same row.
    with kernel.transaction() as session:
        row = session.scalar(select(PluginActivation).where(PluginActivation.plugin == "vaccination"))
        assert row is not None and row.enabled is False
    kernel.enable(pharmacy, "vaccination")
    assert kernel.is_active(pharmacy, "vaccination")


def test_a_plugin_that_is_not_loadable_cannot_be_enabled(
    installed: Callable[..., Path], lgo_database_url: str, lgo_seeded: Seeded
) -> None:
    installed("old_api", plugin_api=">=3")
    kernel = Kernel(lgo_database_url).start()
    try:
        with pytest.raises(PluginError, match="incompatible"):
            kernel.enable(lgo_seeded.pharmacy_id, "old_api")
        with pytest.raises(PluginError, match="Aucun plugin « nope »"):
            kernel.enable(lgo_seeded.pharmacy_id, "nope")
    finally:
        kernel.close()


def test_missing_dependency_in_one_pharmacy_only(lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded) -> None:
    kernel = lgo_make_kernel(_plugin("ins"), _plugin("vaccination", requires=("ins",)))
    pharmacy = lgo_seeded.pharmacy_id
    kernel.enable(pharmacy, "vaccination", with_dependencies=True)
    # Someone switches ins off behind the kernel's back (another tool, an old version): explained, not fatal.
    with kernel.transaction() as session:
        row = session.get(PluginActivation, (pharmacy, "ins"))
        assert row is not None
        row.enabled = False
    states = {i.name: i for i in kernel.plugin_states(pharmacy)}
    assert states["vaccination"].state is PluginState.MISSING_DEPENDENCY
    assert states["vaccination"].reason == "nécessite « ins », non actif dans cette officine"
