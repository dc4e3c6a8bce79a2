"""Typed calls to the plugins' hooks: one method per hook of :mod:`lgo.hookspecs`, checked by mypy.

The kernel, the web application and plugins announcing an event (``kernel.hooks.on_identity_qualified(event)``)
go through this facade; a hook is named by its specification function, never by a string, so renaming a hook
breaks the type check instead of silently calling nothing. Registration hooks are called on every loaded plugin;
events and queries only on the plugins active in the pharmacy concerned, one implementation at a time
(:class:`lgo.plugins.dispatch.Dispatcher`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from lgo import hookspecs
from lgo.actions import ActionRequired
from lgo.errors import LgoError
from lgo.plugins.dispatch import Dispatcher, HookResult

if TYPE_CHECKING:  # the hooks' own types are named through lgo.hookspecs, which imports them for type checkers
    from sqlalchemy.orm import Session

    from lgo.kernel import Kernel

log = logging.getLogger(__name__)

T = TypeVar("T")


def _name(spec: Callable[..., Any]) -> str:
    return spec.__name__


class Hooks:
    """``kernel.hooks``. Without a kernel (``lgo --help`` builds the command line before any database is opened)
    only the registration methods are available."""

    def __init__(self, dispatcher: Dispatcher, kernel: Kernel | None = None) -> None:
        self.dispatcher = dispatcher
        self._kernel = kernel

    @property
    def kernel(self) -> Kernel:
        assert self._kernel is not None, "events and queries need a kernel"
        return self._kernel

    # --- plumbing ----------------------------------------------------------------------------------------

    def _loaded(self) -> list[str]:
        return self.dispatcher.registry.order

    def _register(self, spec: Callable[..., Any], **kwargs: Any) -> list[HookResult]:
        return self.dispatcher.call(_name(spec), self._loaded(), **kwargs)

    def _listed(self, spec: Callable[..., Any], kind: type[T]) -> Iterator[tuple[str, T]]:
        """``(plugin, item)`` for each item of the lists a registration hook returned; items of the wrong type are
        logged and left out (a plugin bug must not stop the others)."""
        for result in self._register(spec):
            for item in result.value or []:
                if isinstance(item, kind):
                    yield result.plugin, item
                else:
                    log.error("plugin %s returned %r from %s: ignored", result.plugin, item, _name(spec))

    def _event(
        self, spec: Callable[..., Any], event: Any, only: str | None = None, passes: tuple[type[Exception], ...] = ()
    ) -> list[ActionRequired]:
        """Announce ``event`` to the active plugins (or to ``only``, if active) and collect their actions;
        exceptions of the ``passes`` types reach the caller (see :meth:`Dispatcher.call`)."""
        kernel = self.kernel
        pharmacy_id = event.pharmacy_id
        plugins: Collection[str] = kernel.active_plugins(pharmacy_id)
        if only is not None:
            plugins = {only} & set(plugins)
        actions: list[ActionRequired] = []
        for result in self.dispatcher.call(
            _name(spec), plugins, pharmacy_id=pharmacy_id, passes=passes, keep_none=False, kernel=kernel, event=event
        ):
            value = result.value
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, ActionRequired):
                    actions.append(item)
                elif item is not None:
                    log.warning("plugin %s returned %r from %s: ignored", result.plugin, item, _name(spec))
        return actions

    def _query(self, spec: Callable[..., Any], pharmacy_id: int, **kwargs: Any) -> list[HookResult]:
        kernel = self.kernel
        return self.dispatcher.call(
            _name(spec),
            kernel.active_plugins(pharmacy_id),
            pharmacy_id=pharmacy_id,
            keep_none=False,
            kernel=kernel,
            **kwargs,
        )

    # --- lifecycle ---------------------------------------------------------------------------------------

    def startup(self, plugin: str) -> None:
        """``lgo_startup`` of one plugin; raises what it raises (the kernel marks the plugin failed)."""
        for impl in self.dispatcher.implementations(_name(hookspecs.lgo_startup)):
            if impl.plugin_name == plugin:
                impl.function(*[{"kernel": self.kernel}[name] for name in impl.argnames])

    def shutdown(self) -> None:
        self._register(hookspecs.lgo_shutdown, kernel=self.kernel)

    # --- registration ------------------------------------------------------------------------------------

    def migrations(self) -> list[tuple[str, hookspecs.MigrationSource]]:
        from lgo.migrations import MigrationSource

        return [
            (r.plugin, r.value)
            for r in self._register(hookspecs.lgo_register_migrations)
            if isinstance(r.value, MigrationSource)
        ]

    def cli_commands(self) -> list[tuple[str, Any]]:
        import click

        return list(self._listed(hookspecs.lgo_register_cli_commands, click.Command))

    def web_blueprints(self) -> list[tuple[str, Any]]:
        from flask import Blueprint

        return list(self._listed(hookspecs.lgo_register_web_blueprints, Blueprint))

    def outbox_handlers(self) -> list[tuple[str, str, hookspecs.OutboxHandler]]:
        """``(plugin, kind, handler)``."""
        found = []
        for result in self._register(hookspecs.lgo_register_outbox_handlers):
            for kind, handler in (result.value or {}).items():
                found.append((result.plugin, kind, handler))
        return found

    def periodic_jobs(self) -> list[tuple[str, hookspecs.PeriodicJob]]:
        from lgo.worker import PeriodicJob

        return list(self._listed(hookspecs.lgo_register_periodic_jobs, PeriodicJob))

    def acts(self) -> list[tuple[str, hookspecs.ActDefinition]]:
        from lgo.domain.billing import ActDefinition

        return list(self._listed(hookspecs.lgo_register_acts, ActDefinition))

    def habilitations(self) -> list[tuple[str, hookspecs.HabilitationDefinition]]:
        from lgo.plugins.registrations import HabilitationDefinition

        return list(self._listed(hookspecs.lgo_register_habilitations, HabilitationDefinition))

    def sign_in_methods(self) -> list[tuple[str, hookspecs.SignInMethod]]:
        from lgo.plugins.registrations import SignInMethod

        return list(self._listed(hookspecs.lgo_register_sign_in_methods, SignInMethod))

    def counter_windows(self) -> list[tuple[str, hookspecs.CounterWindow]]:
        from lgo.plugins.registrations import CounterWindow

        return list(self._listed(hookspecs.lgo_register_counter_windows, CounterWindow))

    def counter_shortcuts(self) -> list[tuple[str, hookspecs.CounterShortcut]]:
        from lgo.plugins.registrations import CounterShortcut

        return list(self._listed(hookspecs.lgo_register_counter_shortcuts, CounterShortcut))

    def certificate_usages(self) -> list[tuple[str, hookspecs.CertificateUsage]]:
        from lgo.plugins.registrations import CertificateUsage

        return list(self._listed(hookspecs.lgo_register_certificate_usages, CertificateUsage))

    def portable_tables(self) -> list[tuple[str, hookspecs.PortableTable | hookspecs.ExcludedTable]]:
        """``(plugin, declaration)`` of every loaded plugin's tables for the export (``lgo_portable_tables``)."""
        from lgo.portability.tables import ExcludedTable, PortableTable

        return list(self._listed(hookspecs.lgo_portable_tables, (PortableTable, ExcludedTable)))  # type: ignore[arg-type]

    def indicators(self) -> list[tuple[str, hookspecs.IndicatorSource]]:
        """``(plugin, source)`` of the REMU NUM indicators the loaded plugins measure (``lgo_register_indicators``)."""
        from lgo.indicators import IndicatorSource

        return list(self._listed(hookspecs.lgo_register_indicators, IndicatorSource))

    # --- events ------------------------------------------------------------------------------------------

    def on_patient_selected(self, event: hookspecs.PatientSelected) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_patient_selected, event)

    def on_billing_start(self, event: hookspecs.BillingStarted) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_billing_start, event)

    def on_billing_end(self, event: hookspecs.BillingEnded) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_billing_end, event)

    def on_dispensation_validated(self, event: hookspecs.DispensationValidated) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_dispensation_validated, event)

    def on_document_validated(self, event: hookspecs.DocumentValidated) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_document_validated, event)

    def on_document_deprecated(self, event: hookspecs.DocumentDeprecated) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_document_deprecated, event)

    def on_identity_qualified(self, event: hookspecs.IdentityQualified) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_identity_qualified, event)

    def on_patient_traits_changed(self, event: hookspecs.PatientTraitsChanged) -> list[ActionRequired]:
        return self._event(hookspecs.lgo_on_patient_traits_changed, event)

    def on_counter_command(self, plugin: str, event: hookspecs.CounterCommand) -> list[ActionRequired]:
        """Only ``plugin`` (the one that declared the command) hears it, and only if active in the pharmacy. A
        :class:`lgo.errors.LgoError` it raises reaches the caller (a French refusal to show), unrecorded."""
        return self._event(hookspecs.lgo_on_counter_command, event, only=plugin, passes=(LgoError,))

    def on_action_answered(self, event: hookspecs.ActionAnswered) -> list[ActionRequired]:
        """Only the plugin named by the action hears the answer, and only if active in the pharmacy. A
        :class:`lgo.errors.LgoError` it raises reaches the caller (the window shows its French message)."""
        return self._event(hookspecs.lgo_on_action_answered, event, only=event.plugin, passes=(LgoError,))

    # --- queries -----------------------------------------------------------------------------------------

    def shareable_identity(self, pharmacy_id: int, patient_id: int) -> list[hookspecs.SharedIdentity]:
        """Every active plugin's answer (the kernel checks they agree)."""
        results = self._query(hookspecs.lgo_shareable_identity, pharmacy_id, patient_id=patient_id)
        return [r.value for r in results]

    def identity_qualification(self, pharmacy_id: int, patient_id: int, waiting_fr: str) -> list[ActionRequired]:
        results = self._query(
            hookspecs.lgo_identity_qualification, pharmacy_id, patient_id=patient_id, waiting_fr=waiting_fr
        )
        return [item for _plugin, item in self._items(hookspecs.lgo_identity_qualification, results, ActionRequired)]

    def operator_signer(self, pharmacy_id: int, operator_id: int) -> hookspecs.OperatorSigner | None:
        results = self._query(hookspecs.lgo_operator_signer, pharmacy_id, operator_id=operator_id)
        return results[0].value if results else None

    def counter_panels(self, view: hookspecs.CounterView) -> list[tuple[str, hookspecs.CounterPanel]]:
        """``(plugin, panel)`` for the screen described by ``view``; items of the wrong type are left out."""
        from lgo.plugins.registrations import CounterPanel

        results = self._query(hookspecs.lgo_counter_panels, view.pharmacy_id, view=view)
        return list(self._items(hookspecs.lgo_counter_panels, results, CounterPanel))

    def service_status(self, pharmacy_id: int, patient_id: int | None) -> list[tuple[str, hookspecs.ServiceStatus]]:
        from lgo.plugins.registrations import ServiceStatus

        results = self._query(hookspecs.lgo_service_status, pharmacy_id, patient_id=patient_id)
        return list(self._items(hookspecs.lgo_service_status, results, ServiceStatus))

    def patient_file_sections(self, view: hookspecs.PatientFileView) -> list[tuple[str, hookspecs.PatientFileSection]]:
        """``(plugin, section)`` of the active plugins for the patient's file ``view``; items of the wrong type are
        left out, a failing plugin is recorded and its sections are missing (the file still opens)."""
        from lgo.plugins.registrations import PatientFileSection

        results = self._query(hookspecs.lgo_patient_file_sections, view.pharmacy_id, view=view)
        return list(self._items(hookspecs.lgo_patient_file_sections, results, PatientFileSection))

    def counter_blocking(self, pharmacy_id: int) -> list[tuple[str, ActionRequired]]:
        """``(plugin, action)`` for every action that blocks the pharmacy's counters; items of the wrong type are
        left out, and a failing plugin blocks nothing (recorded against it)."""
        results = self._query(hookspecs.lgo_counter_blocking, pharmacy_id)
        return list(self._items(hookspecs.lgo_counter_blocking, results, ActionRequired))

    @staticmethod
    def _items(spec: Callable[..., Any], results: list[HookResult], kind: type[T]) -> Iterator[tuple[str, T]]:
        for result in results:
            value = result.value
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, kind):
                    yield result.plugin, item
                else:
                    log.error("plugin %s returned %r from %s: ignored", result.plugin, item, _name(spec))

    # --- in-transaction ----------------------------------------------------------------------------------

    def billing_commit_implementers(self, active: Collection[str]) -> list[str]:
        """The active plugins implementing ``lgo_on_billing_commit``, in dependency order."""
        return [p for p in self.dispatcher.implementers(_name(hookspecs.lgo_on_billing_commit)) if p in active]

    def on_billing_commit(
        self,
        plugin: str,
        session: Session,
        event: hookspecs.BillingEnded,
        failures: list[tuple[str, str, BaseException]],
    ) -> bool:
        """``lgo_on_billing_commit`` of one plugin, inside the billing's transaction. A failure is appended to
        ``failures`` for the caller to record once the transaction is over (recording it now would need a second
        transaction while this one holds the lock); returns whether the plugin succeeded."""
        return self._in_transaction(hookspecs.lgo_on_billing_commit, plugin, session, event, failures)

    def correction_commit_implementers(self, active: Collection[str]) -> list[str]:
        """The active plugins implementing ``lgo_on_correction_commit``, in dependency order."""
        return [p for p in self.dispatcher.implementers(_name(hookspecs.lgo_on_correction_commit)) if p in active]

    def on_correction_commit(
        self,
        plugin: str,
        session: Session,
        event: hookspecs.DispensationValidated,
        failures: list[tuple[str, str, BaseException]],
    ) -> bool:
        """``lgo_on_correction_commit`` of one plugin, inside the correction's transaction (as
        :meth:`on_billing_commit`)."""
        return self._in_transaction(hookspecs.lgo_on_correction_commit, plugin, session, event, failures)

    def _in_transaction(
        self,
        spec: Callable[..., Any],
        plugin: str,
        session: Session,
        event: Any,
        failures: list[tuple[str, str, BaseException]],
    ) -> bool:
        before = len(failures)

        def remember(plugin: str, hook: str, exc: BaseException, _pharmacy_id: int | None) -> None:
            failures.append((plugin, hook, exc))

        in_transaction = Dispatcher(self.dispatcher.registry, remember, strict=self.dispatcher.strict)
        in_transaction.call(
            _name(spec),
            [plugin],
            pharmacy_id=event.pharmacy_id,
            kernel=self.kernel,
            session=session,
            event=event,
        )
        return len(failures) == before
