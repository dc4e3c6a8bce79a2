"""Calling hooks one implementation at a time, so that one plugin's exception never reaches another plugin
or the billing. (A plain pluggy call stops at the first exception.)

Only :mod:`lgo.plugins.hooks` calls this module: it names each hook by its specification function, never by a
string. The ordered implementations of each hook are computed once per registry change, so an event costs a loop
over the plugins that implement it, filtered by the pharmacy's active set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from pluggy import HookImpl

from lgo.plugins.registry import PluginRegistry

log = logging.getLogger(__name__)

FailureRecorder = Callable[[str, str, BaseException, int | None], None]


@dataclass(frozen=True)
class HookResult:
    plugin: str
    value: Any


class Dispatcher:
    def __init__(self, registry: PluginRegistry, on_failure: FailureRecorder, *, strict: bool = False) -> None:
        self.registry = registry
        self.on_failure = on_failure
        self.strict = strict
        self._ordered: dict[str, tuple[int, list[HookImpl]]] = {}

    def implementations(self, hook: str) -> list[HookImpl]:
        """The implementations of ``hook`` in dependency order (cached until the registry changes)."""
        cached = self._ordered.get(hook)
        if cached is not None and cached[0] == self.registry.generation:
            return cached[1]
        rank = {name: i for i, name in enumerate(self.registry.order)}
        impls = sorted(
            getattr(self.registry.pm.hook, hook).get_hookimpls(), key=lambda i: rank.get(i.plugin_name, len(rank))
        )
        self._ordered[hook] = (self.registry.generation, impls)
        return impls

    def implementers(self, hook: str) -> list[str]:
        return [impl.plugin_name for impl in self.implementations(hook)]

    def call(
        self,
        hook: str,
        plugins: Collection[str] | None = None,
        *,
        pharmacy_id: int | None = None,
        passes: tuple[type[Exception], ...] = (),
        **kwargs: Any,
    ) -> list[HookResult]:
        """Call ``hook`` on each plugin of ``plugins`` (default: every loaded plugin) in dependency order.

        An exception is handed to ``on_failure`` (plugin, hook, exception, pharmacy) and the next plugin is called;
        in strict mode it is re-raised after being recorded. An exception of the ``passes`` types is an answer, not
        a failure (a French refusal of what the operator typed): it reaches the caller, unrecorded."""
        results: list[HookResult] = []
        if pharmacy_id is not None:
            kwargs["pharmacy_id"] = pharmacy_id  # also an argument of some hooks (queries)
        for impl in self.implementations(hook):
            if plugins is not None and impl.plugin_name not in plugins:
                continue
            try:
                value = impl.function(*[kwargs[name] for name in impl.argnames])
            except passes:
                raise
            except Exception as exc:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)
                self.on_failure(impl.plugin_name, hook, exc, pharmacy_id)
                if self.strict:
                    raise
                continue
            results.append(HookResult(impl.plugin_name, value))
        return results
