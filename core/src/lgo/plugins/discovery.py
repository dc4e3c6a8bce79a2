"""The one place that finds installed plugins: stevedore over the entry-point group ``lgo.plugins``.

An entry point names the plugin's module (``ins = lgo_ins.plugin``), which holds ``MANIFEST`` and the hook
implementations. A plugin that fails to import is reported with the error, never fatal to the others.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

from stevedore import ExtensionManager

from lgo.plugins.manifest import Manifest

PLUGIN_GROUP = "lgo.plugins"
#: Demonstration steps, keyed by the plugin they show (``ins = "lgo_sandbox.demo.ins:steps"``). They live outside the
#: shipped plugins (with the sandboxes they start): ``pip install 'lgo-core[demo]'`` brings them.
DEMO_GROUP = "lgo.demo"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Discovered:
    """A plugin entry point and what loading it gave: a module with a manifest, or an error."""

    entry_name: str
    target: str
    module: Any | None
    manifest: Manifest | None
    error: str | None = None
    error_detail: str = ""


def clear_cache() -> None:
    """Forget the entry points read in this process (tests that install plugins on the fly)."""
    ExtensionManager.ENTRY_POINT_CACHE.clear()


def discover(group: str = PLUGIN_GROUP) -> list[Discovered]:
    failures: list[Discovered] = []

    def on_failure(_manager: ExtensionManager[Any], entry_point: EntryPoint, exc: BaseException) -> None:
        log.warning("plugin %s (%s) failed to import: %r", entry_point.name, entry_point.value, exc)
        failures.append(
            Discovered(
                entry_name=entry_point.name,
                target=entry_point.value,
                module=None,
                manifest=None,
                error=f"échec à l'import : {type(exc).__name__}: {exc}",
                error_detail="".join(traceback.format_exception(exc)),
            )
        )

    manager: ExtensionManager[Any] = ExtensionManager(group, on_load_failure_callback=on_failure)
    found: list[Discovered] = []
    for ext in manager:
        found.append(from_object(ext.name, ext.entry_point.value, ext.plugin))
    return sorted(found + failures, key=lambda d: d.entry_name)


def from_object(entry_name: str, target: str, obj: Any) -> Discovered:
    """Read the manifest of a loaded plugin module (or any object with ``MANIFEST``)."""
    manifest = getattr(obj, "MANIFEST", None)
    if not isinstance(manifest, Manifest):
        return Discovered(entry_name, target, obj, None, error="pas de MANIFEST valide dans le module du plugin")
    if manifest.name != entry_name:
        error = f"le nom du manifeste ({manifest.name}) diffère de celui du point d'entrée ({entry_name})"
        return Discovered(entry_name, target, obj, None, error=error)
    return Discovered(entry_name, target, obj, manifest)


def demo_steps(group: str = DEMO_GROUP) -> dict[str, Any]:
    """``{plugin name: steps function}`` of the installed demonstration steps. A step module that fails to import
    is logged and left out: the rest of the demonstration runs."""

    def on_failure(_manager: ExtensionManager[Any], entry_point: EntryPoint, exc: BaseException) -> None:
        log.warning("demo steps %s (%s) failed to import: %r", entry_point.name, entry_point.value, exc)

    manager: ExtensionManager[Any] = ExtensionManager(group, on_load_failure_callback=on_failure)
    return {ext.name: ext.plugin for ext in manager}
