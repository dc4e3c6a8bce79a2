"""Hooks delegated with ``LAZY_HOOKS`` (:class:`lgo.api.LazyHooks`): imported at the first call, filtered per
pharmacy like hand-written hooks, overridden by a hook written by hand, and checked by the contract kit."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lgo import hookimpl, hookspecs
from lgo.api import LazyHooks, deferred
from lgo.demo_data import Seeded
from lgo.events import ActionAnswered, CounterCommand, CounterView
from lgo.kernel import Kernel
from lgo.migrations import MigrationSource
from lgo.plugins.discovery import from_object
from lgo.plugins.lazy import implements
from lgo.plugins.manifest import Manifest, PluginState
from lgo.plugins.registrations import CounterPanel, ServiceStatus
from lgo.plugins.registry import PluginRegistry
from lgo.testing.contracts import check_counter_registrations, check_lazy_hooks

COUNTER = """
from pathlib import Path

from lgo.actions import ActionRequired, Choice
from lgo.plugins.registrations import CounterPanel, CounterShortcut, CounterWindow

CALLS = []


def windows():
    return [CounterWindow("essai.question", "question.html", Path(__file__).parent, keys_fr="O : oui")]


def shortcuts():
    return [CounterShortcut("F3", "Ouvrir", "essai.ouvrir")]


def command(kernel, event):
    CALLS.append(("command", event.command))
    return [ActionRequired("essai.question", "essai", "Question ?", choices=(Choice("oui", "Oui"),))]


def answered(kernel, event):
    CALLS.append(("answered", event.choice))
    return []


def panels(kernel, view):
    return [CounterPanel("banner", "Essai", (f"patient {view.patient_id}",))]
"""

SERVICE = """
from lgo.domain.billing import ActDefinition

CALLS = []
ACTS = (ActDefinition("ESS", "Acte d'essai", 100),)


def billed(kernel, event):
    CALLS.append(("billed", kernel, event))
    return []


def deliver(kernel, delivery):
    CALLS.append(("deliver", kernel, delivery))


def without_event(kernel):
    return []
"""

ENTRY = """
from lgo.api import LazyHooks, Manifest

MANIFEST = Manifest(name="essai", plugin_api=">=2.1,<3", label_fr="Essai")
LAZY_HOOKS = LazyHooks(
    migrations="migrations",
    acts=f"{__package__}.service:ACTS",
    hooks={"lgo_on_billing_end": f"{__package__}.service:billed"},
)
"""

OTHERS = {
    "cli.py": 'import click\n\nessai = click.Group("essai", help="Essai.")\n',
    "service.py": SERVICE,
    "plugin.py": ENTRY,
    "portability.py": (
        "from lgo.portability.tables import ExcludedTable\n\n\n"
        'def tables():\n    return [ExcludedTable("essai_cache", "cache")]\n'
    ),
    "question.html": "<p>{{ action.title_fr }}</p>",
}


class Delegating:
    """A plugin whose counter, command line and export live in the package ``package``."""

    def __init__(self, package: str) -> None:
        self.MANIFEST = Manifest(name="essai", plugin_api=">=2.1,<3", label_fr="Essai")
        self.LAZY_HOOKS = LazyHooks(
            counter=f"{package}.window", cli=f"{package}.cli:essai", portable_tables=f"{package}.portability:tables"
        )


class HandWrittenPanels(Delegating):
    @hookimpl
    def lgo_counter_panels(self, kernel: Kernel, view: CounterView) -> list[CounterPanel]:
        return [CounterPanel("banner", "À la main", ())]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh package per test (a name of its own: a module imported once stays in ``sys.modules``)."""
    name = f"lazy_essai_{request.node.name.split('[')[0]}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "window.py").write_text(COUNTER)
    for file, text in OTHERS.items():
        (folder / file).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def test_registering_a_plugin_imports_none_of_its_delegated_modules(package: str) -> None:
    registry = PluginRegistry([from_object("essai", "essai", Delegating(package))])
    assert registry.order == ["essai"]
    assert f"{package}.window" not in sys.modules and f"{package}.cli" not in sys.modules
    registered = {caller.name for caller in registry.pm.get_hookcallers(registry.pm.get_plugin("essai")) or []}
    assert hookspecs.lgo_on_counter_command.__name__ in registered
    assert hookspecs.lgo_patient_file_sections.__name__ not in registered  # no patient_file module declared


def test_a_disabled_plugin_s_delegated_counter_hooks_do_not_appear(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, package: str
) -> None:
    kernel = lgo_make_kernel(Delegating(package))
    calls: list[Any] = sys.modules[f"{package}.window"].CALLS
    pharmacy, operator = lgo_seeded.pharmacy_id, lgo_seeded.operators["preparatrice"]
    view = CounterView(pharmacy, operator, patient_id=7)
    command = CounterCommand(pharmacy, operator, "essai.ouvrir", None)
    answer = ActionAnswered(pharmacy, operator, "essai.question", "essai", None, "oui", {}, {})

    def seen() -> tuple[Any, ...]:
        return (
            [k.key for p, k in kernel.counter_shortcuts(pharmacy) if p == "essai"],
            kernel.counter_window(pharmacy, "essai.question") is not None,
            [panel.title_fr for p, panel in kernel.hooks.counter_panels(view) if p == "essai"],
            [a.kind for a in kernel.hooks.on_counter_command("essai", command)],
        )

    assert seen() == ([], False, [], [])
    assert kernel.hooks.on_action_answered(answer) == [] and calls == []
    kernel.enable(pharmacy, "essai")
    assert seen() == (["F3"], True, ["Essai"], ["essai.question"])
    kernel.hooks.on_action_answered(answer)
    assert calls == [("command", "essai.ouvrir"), ("answered", "oui")]
    kernel.disable(pharmacy, "essai")
    kernel._active.clear()
    assert seen() == ([], False, [], [])
    check_counter_registrations(kernel, Delegating(package))


def test_a_hook_written_by_hand_wins_and_a_missing_function_says_nothing(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, package: str
) -> None:
    plugin = HandWrittenPanels(package)
    kernel = lgo_make_kernel(plugin)
    pharmacy, operator = lgo_seeded.pharmacy_id, lgo_seeded.operators["preparatrice"]
    kernel.enable(pharmacy, "essai")
    panels = kernel.hooks.counter_panels(CounterView(pharmacy, operator, patient_id=7))
    assert [(p, panel.title_fr) for p, panel in panels] == [("essai", "À la main")]
    assert [p for p, _status in kernel.hooks.service_status(pharmacy, 7)] == []  # window.py has no service_status
    assert implements(plugin, hookspecs.lgo_on_action_answered)
    assert not implements(plugin, hookspecs.lgo_service_status)
    assert not implements(plugin, hookspecs.lgo_patient_file_sections)


def test_commands_and_portable_tables_are_delegated_too(lgo_make_kernel: Callable[..., Kernel], package: str) -> None:
    kernel = lgo_make_kernel(Delegating(package))
    assert [(p, c.name) for p, c in kernel.hooks.cli_commands()] == [("essai", "essai")]
    assert [(p, t.name) for p, t in kernel.hooks.portable_tables() if p == "essai"] == [("essai", "essai_cache")]


def test_the_contract_kit_names_what_does_not_exist_and_a_wrong_value_is_refused(package: str) -> None:
    check_lazy_hooks(Delegating(package))
    broken = Delegating(package)
    broken.LAZY_HOOKS = LazyHooks(counter=f"{package}.cli", cli=f"{package}.cli:absent", indicators="absent_module:x")
    with pytest.raises(AssertionError) as refused:
        check_lazy_hooks(broken)
    assert "defines none of" in str(refused.value) and "absent" in str(refused.value)
    assert "absent_module" in str(refused.value)

    wrong = Delegating(package)
    wrong.LAZY_HOOKS = {"counter": f"{package}.window"}  # type: ignore[assignment]
    registry = PluginRegistry([from_object("essai", "essai", wrong)])
    info = registry.get("essai")
    assert info is not None and info.state is PluginState.FAILED and "LAZY_HOOKS" in info.reason


def test_migrations_acts_and_hooks_named_are_delegated_and_imported_at_the_first_call(package: str) -> None:
    import importlib

    entry = importlib.import_module(f"{package}.plugin")
    registry = PluginRegistry([from_object("essai", "essai", entry)])
    assert registry.order == ["essai"] and f"{package}.service" not in sys.modules
    hook = registry.pm.hook
    folder = Path(sys.modules[package].__file__ or "").parent
    assert hook.lgo_register_migrations() == [MigrationSource("essai", folder / "migrations")]
    assert f"{package}.service" not in sys.modules
    assert [act.code for acts in hook.lgo_register_acts() for act in acts] == ["ESS"]
    assert hook.lgo_on_billing_end(kernel="k", event="e") == [[]]  # the specification's arguments, in its order
    assert sys.modules[f"{package}.service"].CALLS == [("billed", "k", "e")]
    assert implements(entry, hookspecs.lgo_on_billing_end) and implements(entry, hookspecs.lgo_register_acts)
    check_lazy_hooks(entry)


def test_a_deferred_function_imports_its_module_when_called(package: str) -> None:
    handler = deferred(f"{package}.service:deliver")
    assert f"{package}.service" not in sys.modules
    handler("k", "d")
    assert sys.modules[f"{package}.service"].CALLS == [("deliver", "k", "d")]


def test_the_outbox_status_comes_before_the_counter_module_s(
    lgo_make_kernel: Callable[..., Kernel], lgo_seeded: Seeded, package: str
) -> None:
    plugin = Delegating(package)
    plugin.LAZY_HOOKS = LazyHooks(counter=f"{package}.window", outbox_status="Service d'essai")
    kernel = lgo_make_kernel(plugin)
    kernel.enable(lgo_seeded.pharmacy_id, "essai")
    found = [status for p, status in kernel.hooks.service_status(lgo_seeded.pharmacy_id, 7) if p == "essai"]
    assert [(s.service, s.label_fr, s.state) for s in found if isinstance(s, ServiceStatus)] == [
        ("essai", "Service d'essai", "unknown")
    ]
    assert implements(plugin, hookspecs.lgo_service_status)


def test_the_contract_kit_names_a_wrong_hook_delegation_and_the_registry_an_unknown_hook(package: str) -> None:
    broken = Delegating(package)
    broken.LAZY_HOOKS = LazyHooks(
        counter=f"{package}.window",
        hooks={
            "lgo_on_billing_end": f"{package}.service:without_event",
            "lgo_counter_panels": f"{package}.service:billed",
            "lgo_on_nothing": f"{package}.service:billed",
        },
    )
    with pytest.raises(AssertionError) as refused:
        check_lazy_hooks(broken)
    text = str(refused.value)
    assert "does not take the hook's arguments (kernel, event)" in text
    assert "lgo_counter_panels']: this hook is already delegated" in text and "lgo_on_nothing']: no such hook" in text

    registry = PluginRegistry([from_object("essai", "essai", broken)])
    info = registry.get("essai")
    assert info is not None and info.state is PluginState.FAILED and "lgo_on_nothing" in info.reason
