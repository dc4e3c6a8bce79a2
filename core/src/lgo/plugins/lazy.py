"""Hooks a plugin delegates to its other modules, imported at the first call (:class:`LazyHooks`).

A plugin's entry module is imported by every ``lgo`` command, ``lgo --help`` included, so it keeps its counter, web
and command-line code in other modules and imports them inside its hooks. Rather than writing each of those thin
hooks by hand, the entry module says where they live::

    LAZY_HOOKS = LazyHooks(
        counter="lgo_x.window",
        cli="lgo_x.cli:x",
        migrations="migrations",
        hooks={"lgo_on_identity_qualified": "lgo_x.service:on_identity_qualified"},
    )

and gives :func:`deferred` functions where a hook returns functions (outbox handlers, periodic jobs).

The kernel registers the module and these delegations with pluggy as **one** plugin under the plugin's name
(:func:`plugin_hooks`), so that they are filtered per pharmacy exactly like hand-written hooks. A hook the module
writes by hand wins over its delegation.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo import PROJECT, hookimpl, hookspecs

if TYPE_CHECKING:
    from lgo.events import ActionAnswered, CounterCommand, CounterView, PatientFileView
    from lgo.kernel import Kernel

#: The name of the entry module's :class:`LazyHooks`.
ATTRIBUTE = "LAZY_HOOKS"


@dataclass(frozen=True)
class LazyHooks:
    """Where a plugin's delegated hooks live. A module is imported the first time one of its hooks is called.

    * ``counter`` — a module whose functions ``windows()``, ``shortcuts()``, ``command(kernel, event)``,
      ``answered(kernel, event)``, ``panels(kernel, view)`` and ``service_status(kernel, pharmacy_id, patient_id)``
      implement the counter's hooks; a function the module does not define means nothing to say;
    * ``patient_file`` — a module with ``sections(kernel, view)`` (``lgo_patient_file_sections``) and optionally
      ``shortcuts()`` (added to the counter's);
    * ``cli`` — ``"module:attribute"`` (or several): ``click`` commands or groups (``lgo_register_cli_commands``);
    * ``web`` — ``"module:attribute"`` (or several): Flask blueprints, or functions returning one
      (``lgo_register_web_blueprints``);
    * ``portable_tables``, ``indicators`` — ``"module:function"`` returning the list of ``lgo_portable_tables`` or
      ``lgo_register_indicators``;
    * ``migrations`` — the folder of the plugin's Alembic revisions, relative to the entry module's
      (``lgo_register_migrations``: ``MigrationSource(<plugin name>, <folder>)``);
    * ``acts`` — ``"module:attribute"``: the sequence of the plugin's :class:`lgo.api.ActDefinition`
      (``lgo_register_acts``);
    * ``outbox_status`` — the French name of the plugin's national service in the counter's status bar, its state
      read from the outbox messages the plugin enqueued (``lgo_service_status``, :func:`lgo.api.outbox.service_status`
      with the plugin's name as the service), before what a ``counter`` module says;
    * ``hooks`` — any other hook: its name → ``"module:function"`` called with the hook's arguments, in the order of
      its specification (``{"lgo_on_identity_qualified": "lgo_x.service:on_identity_qualified"}``).
    """

    counter: str | None = None
    patient_file: str | None = None
    cli: str | tuple[str, ...] = ()
    web: str | tuple[str, ...] = ()
    portable_tables: str | None = None
    indicators: str | None = None
    migrations: str | None = None
    acts: str | None = None
    outbox_status: str | None = None
    hooks: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def delegated(self) -> set[str]:
        """The hooks these delegations implement."""
        return self._served() | set(self.hooks)

    def _served(self) -> set[str]:
        """The hooks the fields other than ``hooks`` implement."""
        declared = {f.name for f in fields(self) if getattr(self, f.name)}
        return {hook for hook, serving in _SERVED.items() if declared & set(serving)}

    def provides(self, hook: str) -> bool:
        """Whether a delegation really answers ``hook``: for ``counter`` and ``patient_file``, whether the module
        defines the function (it is imported to know; the contract kit asks, never the kernel at start-up)."""
        if hook in self.hooks or (hook == _status.__name__ and self.outbox_status):
            return True
        if hook not in self.delegated():
            return False
        functions = _FUNCTIONS.get(hook)
        if functions is None:
            return True
        return any(
            hasattr(importlib.import_module(module), function)
            for field, function in functions
            if (module := getattr(self, field))
        )

    def problems(self) -> list[str]:
        """What would fail at the first call, found now by importing everything named (the contract kit asks): a
        module or attribute that does not exist, a ``counter`` or ``patient_file`` module defining none of its
        functions, a function of ``hooks`` for an unknown hook, one that does not take the hook's arguments or
        one for a hook another field already serves."""
        found: list[str] = []
        for field in ("counter", "patient_file"):
            module = getattr(self, field)
            if module is None:
                continue
            functions = {f for serving in _FUNCTIONS.values() for name, f in serving if name == field}
            try:
                if not any(hasattr(importlib.import_module(module), f) for f in functions):
                    found.append(f"{field}={module!r} defines none of {', '.join(sorted(functions))}")
            except ImportError as exc:
                found.append(f"{field}={module!r}: {exc}")
        singles = (self.portable_tables, self.indicators, self.acts)
        for reference in (*_references(self.cli), *_references(self.web), *(r for r in singles if r)):
            try:
                _resolve(reference)
            except (ImportError, AttributeError, ValueError) as exc:
                found.append(f"{reference!r}: {exc}")
        for hook, reference in self.hooks.items():
            problems = _delegation_problems(hook, reference, self._served())
            found.extend(f"hooks[{hook!r}]: {problem}" for problem in problems)
        return found


_windows, _shortcuts = hookspecs.lgo_register_counter_windows, hookspecs.lgo_register_counter_shortcuts
_command, _answered = hookspecs.lgo_on_counter_command, hookspecs.lgo_on_action_answered
_panels, _status, _sections = (
    hookspecs.lgo_counter_panels,
    hookspecs.lgo_service_status,
    hookspecs.lgo_patient_file_sections,
)
_migrations, _acts = hookspecs.lgo_register_migrations, hookspecs.lgo_register_acts

#: The function of a ``counter`` or ``patient_file`` module implementing each hook.
_FUNCTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    _windows.__name__: (("counter", "windows"),),
    _shortcuts.__name__: (("counter", "shortcuts"), ("patient_file", "shortcuts")),
    _command.__name__: (("counter", "command"),),
    _answered.__name__: (("counter", "answered"),),
    _panels.__name__: (("counter", "panels"),),
    _status.__name__: (("counter", "service_status"),),
    _sections.__name__: (("patient_file", "sections"),),
}

#: Which fields of :class:`LazyHooks` serve each hook.
_SERVED: dict[str, tuple[str, ...]] = {
    **{hook: tuple(field for field, _function in functions) for hook, functions in _FUNCTIONS.items()},
    hookspecs.lgo_register_cli_commands.__name__: ("cli",),
    hookspecs.lgo_register_web_blueprints.__name__: ("web",),
    _status.__name__: ("counter", "outbox_status"),
    hookspecs.lgo_portable_tables.__name__: ("portable_tables",),
    hookspecs.lgo_register_indicators.__name__: ("indicators",),
    _migrations.__name__: ("migrations",),
    _acts.__name__: ("acts",),
}


def _resolve(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _references(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def deferred(reference: str) -> Callable[..., Any]:
    """``"module:function"`` as a function that imports its module when it is called, with the same arguments: what
    an entry module gives as an outbox handler or a periodic job without importing the module doing the work."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return _resolve(reference)(*args, **kwargs)

    call.__name__ = call.__qualname__ = reference
    return call


def _specification(hook: str) -> Callable[..., Any] | None:
    spec = getattr(hookspecs, hook, None)
    return spec if callable(spec) and hasattr(spec, f"{PROJECT}_spec") else None


def _delegation(hook: str, reference: str) -> Callable[..., Any]:
    """The implementation of ``hook`` calling ``reference``: pluggy reads the argument names from the specification
    (through ``__wrapped__``) and passes them in its order. An unknown hook has none: the registry names it."""
    function = deferred(reference)
    spec = _specification(hook)
    if spec is not None:
        functools.update_wrapper(function, spec, assigned=("__name__", "__qualname__"), updated=())
    else:
        function.__name__ = function.__qualname__ = hook
    return hookimpl(function)


def _delegation_problems(hook: str, reference: str, served: set[str]) -> list[str]:
    spec = _specification(hook)
    if spec is None:
        return ["no such hook"]
    if hook in served:
        return ["this hook is already delegated by another field"]
    try:
        function = _resolve(reference)
    except (ImportError, AttributeError, ValueError) as exc:
        return [f"{reference!r}: {exc}"]
    arguments = list(inspect.signature(spec).parameters)
    try:
        inspect.signature(function).bind(*arguments)
    except TypeError:
        return [f"{reference!r} does not take the hook's arguments ({', '.join(arguments)})"]
    except ValueError:  # a built-in without a signature: trusted
        pass
    return []


def _folder(plugin: Any) -> Path:
    """The folder of the plugin's entry module (or of the class of a plugin object)."""
    return Path(inspect.getfile(plugin if inspect.ismodule(plugin) else type(plugin))).parent


def _blueprint(value: Any) -> Any:
    from flask import Blueprint  # only the web application asks for blueprints

    return value if isinstance(value, Blueprint) else value()


class _Delegations:
    """The delegated hook implementations of one plugin; the pluggy argument names are the specifications'."""

    def __init__(self, hooks: LazyHooks, plugin: Any) -> None:
        self.hooks = hooks
        self.plugin = plugin

    def implementation(self, hook: str) -> Callable[..., Any]:
        if hook in self.hooks.hooks:
            return _delegation(hook, self.hooks.hooks[hook])
        implementation: Callable[..., Any] = getattr(self, hook)
        return implementation

    def _call(self, hook: Callable[..., Any], *args: Any) -> Any:
        """The first function of the modules serving ``hook`` (``shortcuts``: all of them, added up)."""
        found: list[Any] = []
        for field, function in _FUNCTIONS[hook.__name__]:
            module = getattr(self.hooks, field)
            implementation = getattr(importlib.import_module(module), function, None) if module else None
            if implementation is not None:
                found.append(implementation(*args))
        if hook is _shortcuts:
            return [item for value in found for item in value or ()]
        return found[0] if found else None

    @hookimpl
    def lgo_register_counter_windows(self) -> Any:
        return self._call(_windows)

    @hookimpl
    def lgo_register_counter_shortcuts(self) -> Any:
        return self._call(_shortcuts)

    @hookimpl
    def lgo_on_counter_command(self, kernel: Kernel, event: CounterCommand) -> Any:
        return self._call(_command, kernel, event)

    @hookimpl
    def lgo_on_action_answered(self, kernel: Kernel, event: ActionAnswered) -> Any:
        return self._call(_answered, kernel, event)

    @hookimpl
    def lgo_counter_panels(self, kernel: Kernel, view: CounterView) -> Any:
        return self._call(_panels, kernel, view)

    @hookimpl
    def lgo_service_status(self, kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> Any:
        found = self._call(_status, kernel, pharmacy_id, patient_id)
        if self.hooks.outbox_status is None:
            return found
        from lgo.domain import outbox

        name = self.plugin.MANIFEST.name
        with kernel.transaction() as session:
            own = outbox.service_status(
                session, pharmacy_id, patient_id, service=name, label_fr=self.hooks.outbox_status, plugin=name
            )
        return [own, *(found or ())]

    @hookimpl
    def lgo_patient_file_sections(self, kernel: Kernel, view: PatientFileView) -> Any:
        return self._call(_sections, kernel, view)

    @hookimpl
    def lgo_register_cli_commands(self) -> list[Any]:
        return [_resolve(reference) for reference in _references(self.hooks.cli)]

    @hookimpl
    def lgo_register_web_blueprints(self) -> list[Any]:
        return [_blueprint(_resolve(reference)) for reference in _references(self.hooks.web)]

    @hookimpl
    def lgo_portable_tables(self) -> Any:
        assert self.hooks.portable_tables is not None
        return _resolve(self.hooks.portable_tables)()

    @hookimpl
    def lgo_register_indicators(self) -> Any:
        assert self.hooks.indicators is not None
        return _resolve(self.hooks.indicators)()

    @hookimpl
    def lgo_register_migrations(self) -> Any:
        from lgo.migrations import MigrationSource

        assert self.hooks.migrations is not None
        return MigrationSource(self.plugin.MANIFEST.name, _folder(self.plugin) / self.hooks.migrations)

    @hookimpl
    def lgo_register_acts(self) -> Any:
        assert self.hooks.acts is not None
        return list(_resolve(self.hooks.acts))


class PluginHooks:
    """A plugin seen with its delegated hooks: its own hook implementations, and the delegations of the hooks it
    does not write by hand. They are attributes of the instance because pluggy finds hooks without ``__getattr__``;
    any other attribute (``MANIFEST``...) is read from the plugin."""

    def __init__(self, plugin: Any, hooks: LazyHooks) -> None:
        self.plugin = plugin
        marker = f"{PROJECT}_impl"
        for name in dir(plugin):
            value = getattr(plugin, name)
            if callable(value) and hasattr(value, marker):
                setattr(self, name, value)
        delegations = _Delegations(hooks, plugin)
        for name in hooks.delegated() - set(vars(self)):
            setattr(self, name, delegations.implementation(name))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["plugin"], name)


def lazy_hooks_of(plugin: Any) -> LazyHooks | None:
    """The plugin's :class:`LazyHooks`, if it declares some; a value of another type is refused (``TypeError``)."""
    hooks = getattr(plugin, ATTRIBUTE, None)
    if hooks is not None and not isinstance(hooks, LazyHooks):
        raise TypeError(f"{ATTRIBUTE} doit être un lgo.api.LazyHooks, pas {type(hooks).__name__}")
    return hooks


def plugin_hooks(plugin: Any) -> Any:
    """What the kernel registers with pluggy for ``plugin`` (its entry module, or any object with hook
    implementations): the plugin itself, or a :class:`PluginHooks` when it declares :class:`LazyHooks`."""
    hooks = lazy_hooks_of(plugin)
    return plugin if hooks is None else PluginHooks(plugin, hooks)


def implements(plugin: Any, hook: Callable[..., Any]) -> bool:
    """Whether ``plugin`` implements the hook specified by ``hook``, by hand or through a delegation that really
    answers it (:meth:`LazyHooks.provides` imports the module to know)."""
    if hasattr(plugin, hook.__name__):
        return True
    hooks = lazy_hooks_of(plugin)
    return hooks is not None and hooks.provides(hook.__name__)
