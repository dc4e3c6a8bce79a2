"""The kernel object: database, plugins, events, providers, settings. One per process (a counter, the web
page, a worker), shared by every pharmacy hosted in its database."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo import hookspecs, migrations, secrets
from lgo.actions import IDENTITY_REQUEST, ActionRequired
from lgo.config import Settings
from lgo.db import make_engine, make_read_session_factory, make_session_factory, unit_of_work
from lgo.domain import audit
from lgo.domain.billing import ActDefinition
from lgo.domain.pharmacy import DEFAULT_HABILITATIONS, KERNEL_HABILITATION_LABELS, Habilitation, Role
from lgo.domain.plugin_state import PluginActivation, PluginFailure, PluginSettings, ProviderSelection
from lgo.errors import PluginError, ProviderError, ValidationError
from lgo.events import PatientTraitsChanged
from lgo.identity import IdentityNotShareable, SharedIdentity
from lgo.plugins import discovery, providers
from lgo.plugins.dispatch import Dispatcher
from lgo.plugins.hooks import Hooks
from lgo.plugins.manifest import PluginState
from lgo.plugins.registrations import (
    KERNEL_COUNTER_KEYS,
    CertificateUsage,
    CounterShortcut,
    CounterWindow,
    HabilitationDefinition,
    SignInMethod,
)
from lgo.plugins.registry import PluginInfo, PluginRegistry
from lgo.worker import BUILTIN_HANDLERS, OutboxHandler, PeriodicJob

if TYPE_CHECKING:
    from lgo.domain.certificates import OperatorSigner
    from lgo.indicators import Indicators, IndicatorSource

log = logging.getLogger(__name__)

#: How long a process trusts its cached list of active plugins per pharmacy (another process, such as the
#: admin page, may switch a plugin on or off).
ACTIVE_CACHE_SECONDS = 5.0

#: The session of the kernel transaction open in this thread (or task), if any. Kernel reads made while it is open
#: (active plugins, settings) use it: on SQLite a second connection would wait for the lock its own caller holds.
_current_session: ContextVar[Session | None] = ContextVar("lgo_current_session", default=None)


class Kernel:
    def __init__(
        self,
        database_url: str | None = None,
        *,
        strict: bool = False,
        discover_installed: bool = True,
        extra_plugins: Iterable[Any] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``extra_plugins`` are plugin objects (modules or instances with ``MANIFEST``) added to the installed
        ones: for tests and for embedding applications. ``strict`` re-raises plugin exceptions (tests). ``clock``
        (monotonic seconds) ages the cached activation: tests inject one instead of sleeping."""
        self.config = Settings.from_env()
        self.database_url = database_url or self.config.database_url
        self.engine = make_engine(self.database_url)
        self.sessions = make_session_factory(self.engine)
        self.readers = make_read_session_factory(self.engine)
        found = discovery.discover() if discover_installed else []
        found += [discovery.from_object(o.MANIFEST.name, f"<{o!r}>", o) for o in extra_plugins]
        self.registry = PluginRegistry(found)
        self.dispatcher = Dispatcher(self.registry, self._record_failure_safely, strict=strict)
        #: Typed calls to the plugins' hooks (:class:`lgo.plugins.hooks.Hooks`).
        self.hooks = Hooks(self.dispatcher, self)
        self.clock = clock
        self.outbox_handlers: dict[str, OutboxHandler] = dict(BUILTIN_HANDLERS)
        self.acts: dict[str, ActDefinition] = {}
        self.periodic_jobs: list[PeriodicJob] = []
        #: REMU NUM indicator code → (plugin, how it measures it) (``lgo_register_indicators``).
        self.indicator_sources: dict[str, tuple[str, IndicatorSource]] = {}
        self._habilitations: dict[str, tuple[str, HabilitationDefinition]] = {}
        self._sign_in_methods: list[tuple[str, SignInMethod]] = []
        self._counter_windows: dict[str, tuple[str, CounterWindow]] = {}
        self._counter_shortcuts: list[tuple[str, CounterShortcut]] = []
        self._certificate_usages: list[CertificateUsage] = []
        self._active: dict[int, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()
        self._started = False

    @property
    def strict(self) -> bool:
        return self.dispatcher.strict

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> Kernel:
        """Collect what the loaded plugins register (refusing both plugins of any name collision), then start the
        remaining plugins in dependency order."""
        if self._started:
            return self
        self._started = True
        handlers = self.hooks.outbox_handlers()
        acts = self.hooks.acts()
        habilitations = self.hooks.habilitations()
        sign_ins = self.hooks.sign_in_methods()
        windows = self.hooks.counter_windows()
        shortcuts = self.hooks.counter_shortcuts()
        usages = self.hooks.certificate_usages()
        indicators = self.hooks.indicators()
        refuse = self.registry.refuse_collisions
        refuse("le type d'envoi", [(p, kind) for p, kind, _ in handlers], reserved=BUILTIN_HANDLERS)
        refuse("l'acte", [(p, act.code) for p, act in acts])
        refuse("l'habilitation", [(p, h.code) for p, h in habilitations], reserved={h.value for h in Habilitation})
        refuse("la méthode de connexion", [(p, m.name) for p, m in sign_ins])
        refuse("la fenêtre du comptoir pour", [(p, w.kind) for p, w in windows])
        refuse("la touche du comptoir", [(p, k.key) for p, k in shortcuts], reserved=KERNEL_COUNTER_KEYS)
        refuse("la commande du comptoir", [(p, k.command) for p, k in shortcuts if k.command])
        for plugin, shortcut in shortcuts:
            if shortcut.command and not shortcut.command.startswith(f"{plugin}.") and plugin in self.registry.order:
                self.registry.mark_failed(
                    plugin, f"la commande du comptoir « {shortcut.command} » doit commencer par « {plugin}. »"
                )
        refuse("l'usage de certificat", [(p, u.kind) for p, u in usages], reserved={"organisation"})
        refuse("l'indicateur", [(p, source.code) for p, source in indicators])
        for info in list(self.registry.loaded()):
            if not info.loaded:  # taken out because a dependency failed to start
                continue
            try:
                self.hooks.startup(info.name)
            except Exception as exc:
                self.registry.mark_failed(
                    info.name, f"échec au démarrage : {type(exc).__name__}: {exc}", traceback.format_exc()
                )
                self._record_failure_safely(info.name, hookspecs.lgo_startup.__name__, exc)
                if self.strict:
                    raise
        loaded = set(self.registry.order)
        self.outbox_handlers.update({kind: handler for p, kind, handler in handlers if p in loaded})
        self.acts.update({act.code: act for p, act in acts if p in loaded})
        self._habilitations = {h.code: (p, h) for p, h in habilitations if p in loaded}
        self._sign_in_methods = [(p, m) for p, m in sign_ins if p in loaded]
        self._counter_windows = {w.kind: (p, w) for p, w in windows if p in loaded}
        self._counter_shortcuts = [(p, k) for p, k in shortcuts if p in loaded]
        self._certificate_usages = [u for p, u in usages if p in loaded]
        self.indicator_sources = {source.code: (p, source) for p, source in indicators if p in loaded}
        self.periodic_jobs.extend(replace(job, plugin=p) for p, job in self.hooks.periodic_jobs() if p in loaded)
        return self

    def close(self) -> None:
        if self._started:
            self.hooks.shutdown()
        self.engine.dispose()

    def __enter__(self) -> Kernel:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as session:
            token = _current_session.set(session)
            try:
                yield session
            finally:
                _current_session.reset(token)

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A session to read with: the transaction already open in this thread if there is one (never a second
        connection behind its lock), else a short read-only one of its own (:meth:`reading`)."""
        current = _current_session.get()
        if current is not None:
            yield current
            return
        with self.reading() as own:
            yield own

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads: it never waits behind another process's writes on SQLite, and costs no
        BEGIN/COMMIT round trips on PostgreSQL (each statement sees the data committed when it runs)."""
        with unit_of_work(self.readers) as session:
            yield session

    # --- database --------------------------------------------------------------------------------------

    def migration_sources(self) -> list[migrations.MigrationSource]:
        return [migrations.KERNEL, *(source for _plugin, source in self.hooks.migrations())]

    def upgrade_database(self) -> list[str]:
        """Kernel first, then each loaded plugin in dependency order. Returns the histories migrated."""
        done = []
        for source in self.migration_sources():
            migrations.upgrade(self.engine, source)
            done.append(source.name)
        return done

    def not_ready_reason(self) -> str | None:
        """Why this database cannot serve a pharmacy yet, in French (``lgo init`` or ``lgo db upgrade`` not run, no
        pharmacy recorded); None when it can. Checked before serving pages, so that a person reads what to do
        instead of « Erreur interne »."""
        from lgo.domain.pharmacy import get_pharmacy
        from lgo.errors import LgoError

        try:
            if any(migrations.pending(self.engine, source) for source in self.migration_sources()):
                if not self._has_tables():
                    return "La base de l'officine n'existe pas encore : lancez d'abord « lgo init »."
                return "La base de l'officine n'est pas à jour : lancez « lgo db upgrade »."
            with self.transaction() as session:
                get_pharmacy(session, self.config.pharmacy_finess)
        except LgoError as exc:
            return exc.message_fr
        except Exception as exc:  # the database cannot be reached or read: the log keeps the detail
            log.error("database %s not usable: %r", self.database_url.split("@")[-1], exc)
            return "La base de l'officine est inaccessible : vérifiez LGO_DATABASE_URL ou LGO_HOME (détail avec -v)."
        return None

    def _has_tables(self) -> bool:
        from sqlalchemy import inspect

        return inspect(self.engine).has_table("pharmacy")

    def _record_failure_safely(
        self, plugin: str, hook: str, exc: BaseException, pharmacy_id: int | None = None
    ) -> None:
        try:
            with self.transaction() as session:
                session.add(
                    PluginFailure(
                        pharmacy_id=pharmacy_id,
                        plugin=plugin,
                        hook=hook,
                        error_type=type(exc).__name__,
                        message=str(exc)[:2000],
                        traceback="".join(traceback.format_exception(exc))[-8000:],
                    )
                )
                if pharmacy_id is not None:
                    audit.record(
                        session,
                        pharmacy_id,
                        "plugin.failure",
                        f"Le module « {plugin} » a échoué ({hook}) : {type(exc).__name__}: {str(exc)[:200]}",
                        actor=plugin,
                        object_type="plugin",
                        object_id=plugin,
                    )
        except Exception:  # the database itself may be the problem; the log keeps the failure
            log.exception("could not record the failure of plugin %s in %s", plugin, hook)

    def recent_failures(self, limit: int = 20) -> list[PluginFailure]:
        with self.transaction() as session:
            return list(session.scalars(select(PluginFailure).order_by(PluginFailure.id.desc()).limit(limit)))

    # --- activation per pharmacy -----------------------------------------------------------------------

    def enabled_plugins(self, session: Session, pharmacy_id: int) -> set[str]:
        rows = session.scalars(
            select(PluginActivation.plugin).where(PluginActivation.pharmacy_id == pharmacy_id, PluginActivation.enabled)
        )
        return set(rows)

    def plugin_states(self, pharmacy_id: int) -> list[PluginInfo]:
        with self.transaction() as session:
            enabled = self.enabled_plugins(session, pharmacy_id)
        states = self.registry.states_for(enabled)
        return sorted(states.values(), key=lambda i: i.name)

    def active_plugins(self, pharmacy_id: int) -> frozenset[str]:
        now = self.clock()
        cached = self._active.get(pharmacy_id)
        if cached and now - cached[0] < ACTIVE_CACHE_SECONDS:
            return cached[1]
        with self._reading() as session:
            enabled = self.enabled_plugins(session, pharmacy_id)
        active = frozenset(
            name for name, info in self.registry.states_for(enabled).items() if info.state is PluginState.ACTIVE
        )
        with self._lock:
            self._active[pharmacy_id] = (now, active)
        return active

    def is_active(self, pharmacy_id: int, plugin: str) -> bool:
        return plugin in self.active_plugins(pharmacy_id)

    def require_active(self, pharmacy_id: int, plugin: str) -> None:
        """For a plugin's own API: refuse, in French, when the plugin is switched off in this pharmacy."""
        if not self.is_active(pharmacy_id, plugin):
            info = self.registry.get(plugin)
            label = info.manifest.label if info is not None and info.manifest is not None else plugin
            raise PluginError(
                f"Le module « {label} » n'est pas activé pour cette officine.",
                detail=f"plugin {plugin} not active in pharmacy {pharmacy_id}",
            )

    def enable(
        self, pharmacy_id: int, name: str, *, operator_id: int | None = None, with_dependencies: bool = False
    ) -> list[str]:
        """Switch a plugin on (and, if asked, the plugins it requires). Returns the plugins switched on."""
        info = self.registry.get(name)
        if info is None:
            raise PluginError(f"Aucun plugin « {name} » n'est installé.")
        if not info.loaded:
            raise PluginError(f"Le plugin « {name} » ne peut pas être activé : {info.state.label_fr} ({info.reason}).")
        with self.transaction() as session:
            enabled = self.enabled_plugins(session, pharmacy_id)
            to_enable = self._closure(name)
            missing = [n for n in to_enable if n != name and n not in enabled]
            if missing and not with_dependencies:
                raise PluginError(
                    f"« {name} » nécessite "
                    + ", ".join(f"« {m} »" for m in missing)
                    + " : activez-le d'abord (ou demandez l'activation avec ses dépendances)."
                )
            switched = [n for n in to_enable if n not in enabled]
            for plugin in switched:
                self._set_enabled(session, pharmacy_id, plugin, True, operator_id)
        self._active.pop(pharmacy_id, None)
        return switched

    def disable(self, pharmacy_id: int, name: str, *, operator_id: int | None = None) -> None:
        """Switch a plugin off. Its data stays; plugins that require it must be switched off first."""
        if self.registry.get(name) is None:
            raise PluginError(f"Aucun plugin « {name} » n'est installé.")
        with self.transaction() as session:
            enabled = self.enabled_plugins(session, pharmacy_id)
            dependents = [
                n for n in enabled if (m := self.registry.get(n)) and m.manifest and name in m.manifest.requires
            ]
            if dependents:
                raise PluginError(
                    f"« {name} » est nécessaire à "
                    + ", ".join(f"« {d} »" for d in sorted(dependents))
                    + " : désactivez-les d'abord."
                )
            self._set_enabled(session, pharmacy_id, name, False, operator_id)
        self._active.pop(pharmacy_id, None)

    def _closure(self, name: str) -> list[str]:
        """The plugin and everything it requires, dependencies first."""
        needed: set[str] = set()
        stack = [name]
        while stack:
            current = stack.pop()
            if current in needed:
                continue
            needed.add(current)
            stack.extend(self.registry.manifest(current).requires)
        return [n for n in self.registry.order if n in needed]

    def _set_enabled(
        self, session: Session, pharmacy_id: int, name: str, enabled: bool, operator_id: int | None
    ) -> None:
        row = session.get(PluginActivation, (pharmacy_id, name))
        if row is None:
            row = PluginActivation(pharmacy_id=pharmacy_id, plugin=name)
            session.add(row)
            if enabled:
                self._grant_plugin_defaults(session, pharmacy_id, name, operator_id)
        row.enabled = enabled
        row.changed_by = operator_id
        audit.record(
            session,
            pharmacy_id,
            "plugin.enabled" if enabled else "plugin.disabled",
            f"Module « {name} » {'activé' if enabled else 'désactivé'}.",
            operator_id=operator_id,
            object_type="plugin",
            object_id=name,
        )

    # --- habilitations and sign-in methods ---------------------------------------------------------------

    def habilitations(self) -> list[HabilitationDefinition]:
        """Every right an administrator may grant: the kernel's, then those of the loaded plugins."""
        kernel_own = [
            HabilitationDefinition(
                h.value, label, help_fr, tuple(r.value for r, d in DEFAULT_HABILITATIONS.items() if h in d)
            )
            for h, (label, help_fr) in KERNEL_HABILITATION_LABELS.items()
        ]
        return kernel_own + [definition for _plugin, definition in self._habilitations.values()]

    def default_habilitations(self, role: Role) -> tuple[str, ...]:
        """What an operator of ``role`` is granted on creation: the kernel's defaults and the plugins'."""
        plugin_defaults = [code for code, (_p, h) in self._habilitations.items() if role.value in h.default_roles]
        return tuple(str(h) for h in DEFAULT_HABILITATIONS[role]) + tuple(plugin_defaults)

    def sign_in_methods(self, pharmacy_id: int) -> list[SignInMethod]:
        """The other ways of signing in offered by the plugins active in this pharmacy."""
        active = self.active_plugins(pharmacy_id)
        return [method for plugin, method in self._sign_in_methods if plugin in active]

    # --- the counter's windows and keys ----------------------------------------------------------------------

    def counter_window(self, pharmacy_id: int, kind: str) -> tuple[str, CounterWindow] | None:
        """``(plugin, window)`` registered for an action kind, if its plugin is active here; else ``None`` (the
        counter renders the action generically)."""
        found = self._counter_windows.get(kind)
        if found is None or found[0] not in self.active_plugins(pharmacy_id):
            return None
        return found

    def counter_windows(self) -> list[tuple[str, CounterWindow]]:
        """Every window of the loaded plugins (the web application loads their template folders once)."""
        return list(self._counter_windows.values())

    def counter_shortcuts(self, pharmacy_id: int) -> list[tuple[str, CounterShortcut]]:
        """``(plugin, shortcut)`` of the plugins active in the pharmacy, by key."""
        active = self.active_plugins(pharmacy_id)
        return sorted(((p, k) for p, k in self._counter_shortcuts if p in active), key=lambda pk: _key_order(pk[1].key))

    def _grant_plugin_defaults(self, session: Session, pharmacy_id: int, plugin: str, operator_id: int | None) -> None:
        """The first time a plugin is switched on in a pharmacy, its operators of the default roles get the
        plugin's habilitations (later changes are the administrator's: switching off and on again grants nothing)."""
        from lgo.domain.pharmacy import Operator, OperatorHabilitation

        definitions = [h for p, h in self._habilitations.values() if p == plugin and h.default_roles]
        if not definitions:
            return
        operators = session.scalars(select(Operator).where(Operator.pharmacy_id == pharmacy_id, Operator.active))
        granted = []
        for operator in operators:
            for definition in definitions:
                if operator.role.value in definition.default_roles and not operator.has(definition.code):
                    operator.habilitations.append(
                        OperatorHabilitation(pharmacy_id=pharmacy_id, habilitation=definition.code)
                    )
                    granted.append(f"{operator.display_name} : {definition.label_fr}")
        if granted:
            audit.record(
                session,
                pharmacy_id,
                "operator.habilitations_granted",
                f"Habilitations par défaut du module « {plugin} » accordées : " + " ; ".join(granted) + ".",
                operator_id=operator_id,
                object_type="plugin",
                object_id=plugin,
            )

    # --- settings --------------------------------------------------------------------------------------

    def settings_model(self, plugin: str) -> type[BaseModel] | None:
        return self.registry.manifest(plugin).settings

    def plugin_settings(self, pharmacy_id: int, plugin: str, *, session: Session | None = None) -> BaseModel:
        """The plugin's settings for this pharmacy: stored values over the model's defaults, secrets decrypted.
        Inside a transaction (e.g. ``lgo_on_billing_commit``) pass its ``session``: on SQLite a second
        transaction would wait for the first one to end."""
        model = self.settings_model(plugin)
        if model is None:
            raise PluginError(f"Le plugin « {plugin} » n'a pas de paramètres.")
        if session is not None:
            row = session.get(PluginSettings, (pharmacy_id, plugin))
            stored = dict(row.values) if row else {}
        else:
            with self._reading() as own:
                row = own.get(PluginSettings, (pharmacy_id, plugin))
                stored = dict(row.values) if row else {}
        for field in _secret_fields(model):
            # A field that became secret after it was saved is still in clear: read as is, encrypted at next save.
            if isinstance(stored.get(field), str) and stored[field].startswith(secrets.PREFIX):
                stored[field] = secrets.decrypt(stored[field])
        return model.model_validate(stored)

    def save_plugin_settings(
        self, pharmacy_id: int, plugin: str, values: dict[str, Any], *, operator_id: int | None = None
    ) -> BaseModel:
        """Validate with the plugin's model (French message on error) and store, encrypting secret fields."""
        model = self.settings_model(plugin)
        if model is None:
            raise PluginError(f"Le plugin « {plugin} » n'a pas de paramètres.")
        try:
            validated = model.model_validate(values)
        except PydanticValidationError as exc:
            problems = "; ".join(f"{_field_title(model, e['loc'])} : {_problem_fr(e)}" for e in exc.errors())
            raise ValidationError(f"Paramètres de « {plugin} » invalides : {problems}", detail=str(exc)) from exc
        data = validated.model_dump(mode="json")
        for field in _secret_fields(model):
            secret = getattr(validated, field)
            if isinstance(secret, SecretStr):
                data[field] = secrets.encrypt(secret.get_secret_value())
        with self.transaction() as session:
            row = session.get(PluginSettings, (pharmacy_id, plugin))
            if row is None:
                row = PluginSettings(pharmacy_id=pharmacy_id, plugin=plugin)
                session.add(row)
            row.values = data
            audit.record(
                session,
                pharmacy_id,
                "plugin.settings",
                f"Paramètres du module « {plugin} » modifiés.",
                operator_id=operator_id,
                object_type="plugin",
                object_id=plugin,
                details={"fields": sorted(values)},
            )
        return validated

    # --- providers -------------------------------------------------------------------------------------

    def select_provider(self, pharmacy_id: int, capability: str, name: str, *, operator_id: int | None = None) -> None:
        providers.check_known(capability, name)
        with self.transaction() as session:
            row = session.get(ProviderSelection, (pharmacy_id, capability))
            if row is None:
                row = ProviderSelection(pharmacy_id=pharmacy_id, capability=capability, provider=name)
                session.add(row)
            row.provider = name
            audit.record(
                session,
                pharmacy_id,
                "provider.selected",
                f"Fournisseur « {name} » choisi pour « {capability} ».",
                operator_id=operator_id,
                object_type="capability",
                object_id=capability,
            )

    def selected_provider(self, pharmacy_id: int, capability: str) -> str | None:
        with self.transaction() as session:
            row = session.get(ProviderSelection, (pharmacy_id, capability))
            return row.provider if row else None

    def provider(self, pharmacy_id: int, capability: str) -> Any:
        """The driver object of the provider selected for this pharmacy; a clear error naming the choices
        when none is selected or the selected one is not installed."""
        name = self.selected_provider(pharmacy_id, capability)
        if name is None:
            raise ProviderError(
                f"Aucun fournisseur choisi pour « {capability} » ; choix possibles : "
                f"{providers.choices_text(capability)}."
            )
        return providers.load(capability, name)

    # --- certificates ----------------------------------------------------------------------------------

    def certificate_usages(self) -> list[CertificateUsage]:
        """The uses of the pharmacy's certificate for which loaded plugins accept a distinct certificate (the
        « Certificat » page offers a slot for each), by label."""
        return sorted(self._certificate_usages, key=lambda u: u.label_fr)

    # --- REMU NUM indicators -----------------------------------------------------------------------------------

    def indicators(self, pharmacy_id: int) -> Indicators:
        """The pharmacy's REMU NUM indicators (:class:`lgo.indicators.Indicators`), measured by the plugins."""
        from lgo.indicators import Indicators

        return Indicators(self, pharmacy_id)

    # --- identity --------------------------------------------------------------------------------------------

    def shareable_identity(self, pharmacy_id: int, patient_id: int) -> SharedIdentity:
        """The patient's qualified identity, for sharing (CDA, XDS, MSSanté, Datamatrix); raises
        :class:`lgo.identity.IdentityNotShareable` when no active plugin vouches for a qualified identity."""
        answers = self.hooks.shareable_identity(pharmacy_id, patient_id)
        if not answers:
            raise IdentityNotShareable(patient_id)
        identity = answers[0]
        if not isinstance(identity, SharedIdentity) or identity.patient_id != patient_id:
            raise IdentityNotShareable(patient_id)
        if any(other != identity for other in answers[1:]):
            raise IdentityNotShareable(
                patient_id, "Plusieurs modules d'identité donnent des INS différents pour ce patient : partage refusé."
            )
        missing = identity.missing_traits
        if missing:  # never an invalid document: whatever the identity plugin says, it waits, visibly
            raise IdentityNotShareable(
                patient_id,
                f"Les traits de l'INS de ce patient sont incomplets ({', '.join(missing)}) : le document attendra "
                "une identité complète (nouvel appel INSi).",
            )
        return identity

    def identity_actions(
        self, pharmacy_id: int, patient_id: int, refusal: IdentityNotShareable, waiting_fr: str
    ) -> list[ActionRequired]:
        """What to show when a document waits for the patient's identity (``refusal`` from
        :meth:`shareable_identity`, ``waiting_fr`` what waits): the identity plugin's qualification windows, or —
        when it has nothing to ask (no identity plugin, incomplete INS traits) — the reason, in French. Every
        action returned is marked (:func:`lgo.actions.is_identity_request`)."""
        actions = self.hooks.identity_qualification(pharmacy_id, patient_id, waiting_fr)
        if not actions:
            actions = [
                ActionRequired(
                    kind="kernel.identity_not_shareable",
                    plugin="kernel",
                    title_fr="Qualifier l'identité du patient",
                    message_fr=f"{refusal.message_fr} {waiting_fr}",
                    patient_id=patient_id,
                )
            ]
        return [replace(a, data={**a.data, IDENTITY_REQUEST: True}) for a in actions]

    def operator_signer(self, pharmacy_id: int, operator_id: int) -> OperatorSigner | None:
        """The operator's own signing credential when an active plugin holds one ready (a CPS unlocked with the
        PIN), else ``None``: the caller then tells the pharmacist in French what to do."""
        return self.hooks.operator_signer(pharmacy_id, operator_id)

    def is_identity_shareable(self, pharmacy_id: int, patient_id: int) -> bool:
        try:
            self.shareable_identity(pharmacy_id, patient_id)
        except IdentityNotShareable:
            return False
        return True

    def update_patient_traits(
        self, pharmacy_id: int, patient_id: int, *, operator_id: int | None = None, **traits: object
    ) -> list[ActionRequired]:
        """Change a patient's identity traits, audit it, and tell the plugins (a strict trait demotes the INS)."""
        from lgo.domain.patients import Patient, update_traits

        with self.transaction() as session:
            patient = session.get(Patient, patient_id)
            if patient is None or patient.pharmacy_id != pharmacy_id:
                raise ValidationError("Patient introuvable.", detail=f"patient {patient_id}")
            before = {name: getattr(patient, "birth_date_text" if name == "birth_date" else name) for name in traits}
            strict = update_traits(session, patient, **traits)
            changed = tuple(
                name
                for name in traits
                if getattr(patient, "birth_date_text" if name == "birth_date" else name) != before[name]
            )
            if not changed:
                return []
            audit.record(
                session,
                pharmacy_id,
                "patient.traits_changed",
                "Traits d'identité modifiés : " + ", ".join(changed) + ".",
                operator_id=operator_id,
                patient_id=patient_id,
                object_type="patient",
                object_id=patient_id,
                details={"changed": list(changed), "strict": strict},
            )
        event = PatientTraitsChanged(
            pharmacy_id=pharmacy_id,
            operator_id=operator_id,
            patient_id=patient_id,
            changed_traits=changed,
            strict_traits=tuple(strict),
        )
        return self.hooks.on_patient_traits_changed(event)

    def audit(
        self,
        pharmacy_id: int,
        action: str,
        message_fr: str,
        *,
        actor: str = "kernel",
        session: Session | None = None,
        **fields: Any,
    ) -> None:
        """Write to the audit log: in ``session`` (atomic with the caller's change) or in its own transaction."""
        if session is not None:
            audit.record(session, pharmacy_id, action, message_fr, actor=actor, **fields)
            return
        with self.transaction() as own:
            audit.record(own, pharmacy_id, action, message_fr, actor=actor, **fields)


def _key_order(key: str) -> tuple[int, str]:
    """F1…F12 in numeric order, then the other keys."""
    name = key.rsplit("+", 1)[-1]
    if name.startswith("F") and name[1:].isdigit():
        return (int(name[1:]), key)
    return (100, key)


def _field_title(model: type[BaseModel], location: tuple[Any, ...]) -> str:
    field = model.model_fields.get(str(location[0])) if location else None
    return (field.title if field and field.title else ".".join(str(p) for p in location)) or "paramètres"


def _problem_fr(error: Any) -> str:
    """A plugin's validators raise ``ValueError("message en français")``: show that message, not pydantic's English
    wrapper (the settings page translates pydantic's own error types)."""
    cause = (error.get("ctx") or {}).get("error")
    return str(cause) if error.get("type") == "value_error" and cause else str(error["msg"])


def _secret_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, field in model.model_fields.items() if field.annotation in (SecretStr, SecretStr | None)]
