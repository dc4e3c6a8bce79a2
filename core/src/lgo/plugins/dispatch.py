"""Calling hooks one implementation at a time, so that one plugin's exception never reaches another plugin
or the billing. (A plain pluggy call stops at the first exception.)

Only :mod:`lgo.plugins.hooks` calls this module: it names each hook by its specification function, never by a
string. The ordered implementations of each hook are computed once per registry change, so an event costs a loop
over the plugins that implement it, filtered by the pharmacy's active set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

from pluggy import HookImpl

from lgo.plugins.registry import PluginRegistry

log = logging.getLogger(__name__)

FailureRecorder = Callable[[str, str, BaseException, int | None], None]


class HookResult(NamedTuple):
    # A named tuple rather than a frozen dataclass: one is built per plugin per event, and a frozen dataclass's
    # __init__ costs several times more (benchmark ``event_dispatch``).
    plugin: str
    value: Any


class Dispatcher:
    def __init__(self, registry: PluginRegistry, on_failure: FailureRecorder, *, strict: bool = False) -> None:
        self.registry = registry
        self.on_failure = on_failure
        self.strict = strict
        self._ordered: dict[str, tuple[int, list[HookImpl]]] = {}
        self._callables: dict[str, tuple[int, list[tuple[str, Callable[..., Any], tuple[str, ...]]]]] = {}

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

    def _calls(self, hook: str) -> list[tuple[str, Callable[..., Any], tuple[str, ...]]]:
        """(plugin, function, argument names) of each implementation, in order: read once per registry change, not
        from each HookImpl at each event (an event is announced at every billing)."""
        cached = self._callables.get(hook)
        if cached is not None and cached[0] == self.registry.generation:
            return cached[1]
        calls = [(impl.plugin_name, impl.function, tuple(impl.argnames)) for impl in self.implementations(hook)]
        self._callables[hook] = (self.registry.generation, calls)
        return calls

    def implementers(self, hook: str) -> list[str]:
        return [impl.plugin_name for impl in self.implementations(hook)]

    def call(
        self,
        hook: str,
        plugins: Collection[str] | None = None,
        *,
        pharmacy_id: int | None = None,
        passes: tuple[type[Exception], ...] = (),
        keep_none: bool = True,
        **kwargs: Any,
    ) -> list[HookResult]:
        """Call ``hook`` on each plugin of ``plugins`` (default: every loaded plugin) in dependency order.

        An exception is handed to ``on_failure`` (plugin, hook, exception, pharmacy) and the next plugin is called;
        in strict mode it is re-raised after being recorded. An exception of the ``passes`` types is an answer, not
        a failure (a French refusal of what the operator typed): it reaches the caller, unrecorded. With
        ``keep_none=False`` the plugins that answered ``None`` are left out of the results."""
        results: list[HookResult] = []
        if pharmacy_id is not None:
            kwargs["pharmacy_id"] = pharmacy_id  # also an argument of some hooks (queries)
        for plugin, function, argnames in self._calls(hook):
            if plugins is not None and plugin not in plugins:
                continue
            try:
                value = function(*[kwargs[name] for name in argnames])
            except passes:
                raise
            except Exception as exc:
                log.exception("plugin %s failed in %s", plugin, hook)
                self.on_failure(plugin, hook, exc, pharmacy_id)
                if self.strict:
                    raise
                continue
            if value is not None or keep_none:
                results.append(HookResult(plugin, value))
        return results
