"""Which plugins run, in which order, and why the others do not.

Resolution happens once per process, from what discovery found:

1. an import error or a bad manifest → *failed*; an unsupported ``plugin_api`` → *incompatible*;
2. a required plugin that is not installed or not loadable → *missing-dependency* (repeated until stable);
3. a dependency cycle → *failed* for each plugin of the cycle;
4. the rest is registered with pluggy (the module with the hooks its ``LAZY_HOOKS`` delegates, as one plugin: see
   :mod:`lgo.plugins.lazy`) and ordered so that dependencies (required, then optional when present) come first; a
   hook implementation with an option the kernel does not honour (``wrapper``, ``hookwrapper``, ``tryfirst``,
   ``trylast``: events are called one plugin at a time, in dependency order) or an unknown hook marks the plugin
   *failed*; ``lgo_startup`` is called in that order by the kernel and a raise marks it *failed*.

Names are fail-closed: two plugins with the same name, or declaring the same outbox kind, act code, habilitation,
CLI command or web blueprint (:meth:`PluginRegistry.refuse_collisions`), are **both** refused with a reason naming
the other — the administrator decides which one to keep by uninstalling the other.

Per pharmacy, a loaded plugin is then *disabled* (not switched on), *missing-dependency* (a required plugin
is not active there) or *active*.
"""

from __future__ import annotations

import graphlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

import pluggy

from lgo import PLUGIN_API, PROJECT, hookspecs
from lgo.plugins.discovery import Discovered
from lgo.plugins.lazy import plugin_hooks
from lgo.plugins.manifest import Manifest, PluginState

log = logging.getLogger(__name__)

#: pluggy options a hook implementation may not use here: the kernel calls events one implementation at a time in
#: dependency order, so ordering hints and wrappers would silently mean nothing.
UNSUPPORTED_OPTIONS = ("wrapper", "hookwrapper", "tryfirst", "trylast")


@dataclass(frozen=True)
class PluginInfo:
    name: str
    state: PluginState
    reason: str = ""
    manifest: Manifest | None = None
    module: Any | None = None
    detail: str = ""

    @property
    def version(self) -> str:
        return self.manifest.version if self.manifest else "?"

    @property
    def wave(self) -> int | None:
        return self.manifest.wave if self.manifest else None

    @property
    def loaded(self) -> bool:
        return self.state is PluginState.ACTIVE


class PluginRegistry:
    def __init__(self, discovered: list[Discovered], api: str = PLUGIN_API) -> None:
        self.api = api
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self.order: list[str] = []
        #: Bumped whenever a plugin is taken out, so that cached hook orders are recomputed.
        self.generation = 0
        self._resolve(discovered)

    # --- queries ---------------------------------------------------------------------------------------

    def get(self, name: str) -> PluginInfo | None:
        return self._infos.get(name)

    def all(self) -> list[PluginInfo]:
        return sorted(self._infos.values(), key=lambda i: i.name)

    def loaded(self) -> list[PluginInfo]:
        """Loaded plugins in dependency order."""
        return [self._infos[name] for name in self.order]

    def manifest(self, name: str) -> Manifest:
        info = self._infos.get(name)
        if info is None or info.manifest is None:
            raise KeyError(name)
        return info.manifest

    def dependents(self, name: str) -> list[str]:
        return [n for n in self.order if name in self.manifest(n).requires]

    # --- per pharmacy ----------------------------------------------------------------------------------

    def states_for(self, enabled: set[str]) -> dict[str, PluginInfo]:
        """The state of every installed plugin in a pharmacy where ``enabled`` were switched on."""
        result: dict[str, PluginInfo] = {}
        active: set[str] = set()
        for info in self.all():
            if not info.loaded:
                result[info.name] = info
        for name in self.order:
            info = self._infos[name]
            if name not in enabled:
                result[name] = replace(info, state=PluginState.DISABLED, reason="non activé dans cette officine")
                continue
            missing = [r for r in self.manifest(name).requires if r not in active]
            if missing:
                result[name] = replace(
                    info,
                    state=PluginState.MISSING_DEPENDENCY,
                    reason="nécessite " + ", ".join(f"« {m} »" for m in missing) + ", non actif dans cette officine",
                )
                continue
            active.add(name)
            result[name] = info
        return result

    # --- changes ---------------------------------------------------------------------------------------

    def mark_failed(self, name: str, reason: str, detail: str = "") -> None:
        """Take a loaded plugin out (e.g. its ``lgo_startup`` raised), with the plugins that require it."""
        info = self._infos[name]
        self._infos[name] = replace(info, state=PluginState.FAILED, reason=reason, detail=detail)
        self._unregister(name)
        self._take_out_dependents(name)

    def _take_out_dependents(self, name: str) -> None:
        for dependent in self.dependents(name):
            if self._infos[dependent].loaded:
                self._infos[dependent] = replace(
                    self._infos[dependent],
                    state=PluginState.MISSING_DEPENDENCY,
                    reason=f"nécessite « {name} », qui n'est pas chargé",
                )
                self._unregister(dependent)
                self._take_out_dependents(dependent)

    # --- resolution ------------------------------------------------------------------------------------

    def _resolve(self, discovered: list[Discovered]) -> None:
        candidates: dict[str, PluginInfo] = {}
        targets: dict[str, list[str]] = {}
        for found in discovered:
            targets.setdefault(found.manifest.name if found.manifest else found.entry_name, []).append(found.target)
        for found in discovered:
            name = found.manifest.name if found.manifest else found.entry_name
            if len(targets[name]) > 1:
                self._infos[name] = PluginInfo(
                    name,
                    PluginState.FAILED,
                    f"nom « {name} » déclaré par plusieurs modules installés ({', '.join(sorted(targets[name]))}) : "
                    "aucun n'est chargé ; désinstallez celui qui ne sert pas",
                )
                continue
            if found.manifest is None:
                self._infos[name] = PluginInfo(
                    name,
                    PluginState.FAILED,
                    found.error or "manifeste absent",
                    module=found.module,
                    detail=found.error_detail,
                )
            elif not found.manifest.accepts_api(self.api):
                self._infos[name] = PluginInfo(
                    name,
                    PluginState.INCOMPATIBLE,
                    f"demande l'API de plugins {found.manifest.plugin_api}, le noyau fournit {self.api}",
                    manifest=found.manifest,
                    module=found.module,
                )
            else:
                candidates[name] = PluginInfo(name, PluginState.ACTIVE, manifest=found.manifest, module=found.module)

        self._drop_missing_requirements(candidates)
        order = self._order_or_drop_cycles(candidates)
        for name in order:  # dependencies come first, so a failed registration is seen by its dependents
            info = candidates[name]
            assert info.manifest is not None
            missing = [r for r in info.manifest.requires if r not in self.order]
            if missing:
                self._infos[name] = replace(
                    info,
                    state=PluginState.MISSING_DEPENDENCY,
                    reason=f"nécessite « {missing[0]} », qui est {self._infos[missing[0]].state.label_fr}",
                )
                continue
            try:
                self.pm.register(plugin_hooks(info.module), name=name)
            except Exception as exc:  # pluggy refuses hook implementations that do not match their spec (or LAZY_HOOKS)
                self._infos[name] = replace(
                    info, state=PluginState.FAILED, reason=f"implémentation de hook invalide : {exc}"
                )
                continue
            self._infos[name] = info
            self.order.append(name)
        self._check_hook_implementations()

    def _drop_missing_requirements(self, candidates: dict[str, PluginInfo]) -> None:
        changed = True
        while changed:
            changed = False
            for name, info in list(candidates.items()):
                assert info.manifest is not None
                for required in info.manifest.requires:
                    if required in candidates:
                        continue
                    other = self._infos.get(required)
                    why = "qui n'est pas installé" if other is None else f"qui est {other.state.label_fr}"
                    self._infos[name] = replace(
                        info, state=PluginState.MISSING_DEPENDENCY, reason=f"nécessite « {required} », {why}"
                    )
                    del candidates[name]
                    changed = True
                    break

    def _order_or_drop_cycles(self, candidates: dict[str, PluginInfo]) -> list[str]:
        while True:
            sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
            for name in sorted(candidates):
                manifest = candidates[name].manifest
                assert manifest is not None
                sorter.add(name, *[d for d in manifest.dependencies if d in candidates])
            try:
                return list(sorter.static_order())
            except graphlib.CycleError as exc:
                cycle: list[str] = exc.args[1]
                text = " → ".join(cycle)
                for name in set(cycle):
                    self._infos[name] = replace(
                        candidates.pop(name), state=PluginState.FAILED, reason=f"cycle de dépendances : {text}"
                    )
                self._drop_missing_requirements(candidates)

    def _check_hook_implementations(self) -> None:
        for name in list(self.order):
            if name not in self.order:  # taken out with a dependency meanwhile
                continue
            registered = self.pm.get_plugin(name)
            impls = [
                (caller, impl)
                for caller in self.pm.get_hookcallers(registered) or []
                for impl in caller.get_hookimpls()
                if impl.plugin is registered
            ]
            unknown = sorted(impl.function.__name__ for caller, impl in impls if caller.spec is None)
            if unknown:
                self.mark_failed(name, "hook inconnu : " + ", ".join(unknown))
                continue
            refused = sorted(
                f"{caller.name} ({option})"
                for caller, impl in impls
                for option in UNSUPPORTED_OPTIONS
                if getattr(impl, option, False)
            )
            if refused:
                self.mark_failed(
                    name,
                    "option de hook non prise en charge (les événements sont appelés un module à la fois, dans "
                    "l'ordre des dépendances) : " + ", ".join(refused),
                )

    def refuse_collisions(
        self, what_fr: str, claims: list[tuple[str, str]], reserved: Collection[str] = ()
    ) -> set[str]:
        """One policy for every kind of name plugins declare: ``claims`` are ``(plugin, name)`` pairs. A name claimed
        by two plugins takes both out (failed, with the reason naming the other); a plugin claiming a ``reserved``
        name (the kernel's own) is taken out. Returns the plugins refused."""
        owners: dict[str, set[str]] = {}
        for plugin, name in claims:
            owners.setdefault(name, set()).add(plugin)
        reasons: dict[str, list[str]] = {}
        for name, plugins in sorted(owners.items()):
            if name in reserved:
                for plugin in plugins:
                    reasons.setdefault(plugin, []).append(f"{what_fr} « {name} » est réservé au noyau")
            elif len(plugins) > 1:
                for plugin in plugins:
                    others = ", ".join(f"« {o} »" for o in sorted(plugins - {plugin}))
                    reasons.setdefault(plugin, []).append(f"{what_fr} « {name} » aussi déclaré par {others}")
        for plugin, why in reasons.items():
            if plugin in self.order:
                log.error("plugin %s refused: %s", plugin, "; ".join(why))
                self.mark_failed(plugin, "conflit de noms : " + " ; ".join(why))
        return set(reasons)

    def _unregister(self, name: str) -> None:
        self.generation += 1
        if name in self.order:
            self.order.remove(name)
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
