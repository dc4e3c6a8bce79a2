"""Calling hooks one implementation at a time, so that one plugin's exception never reaches another plugin
or the billing. (A plain pluggy call stops at the first exception.)"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

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

    def call(
        self, hook: str, plugins: Collection[str] | None = None, *, pharmacy_id: int | None = None, **kwargs: Any
    ) -> list[HookResult]:
        """Call ``hook`` on each plugin of ``plugins`` (default: every loaded plugin) in dependency order.

        An exception is handed to ``on_failure`` (plugin, hook, exception, pharmacy) and the next plugin is called;
        in strict mode it is re-raised after being recorded."""
        caller = getattr(self.registry.pm.hook, hook)
        rank = {name: i for i, name in enumerate(self.registry.order)}
        impls = [i for i in caller.get_hookimpls() if plugins is None or i.plugin_name in plugins]
        impls.sort(key=lambda i: rank.get(i.plugin_name, len(rank)))
        results: list[HookResult] = []
        if pharmacy_id is not None:
            kwargs["pharmacy_id"] = pharmacy_id  # also an argument of some hooks (queries)
        for impl in impls:
            try:
                value = impl.function(*[kwargs[name] for name in impl.argnames])
            except Exception as exc:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)
                self.on_failure(impl.plugin_name, hook, exc, pharmacy_id)
                if self.strict:
                    raise
                continue
            results.append(HookResult(impl.plugin_name, value))
        return results
