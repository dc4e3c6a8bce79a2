"""Every hook a plugin may implement, in one place (pluggy project ``lgo``; all names start with ``lgo_``).

Kinds of hooks:

* **lifecycle** — ``lgo_startup`` / ``lgo_shutdown``, called by the kernel for each plugin in dependency order;
* **registration** — what a plugin adds to the kernel (migrations, CLI commands, web blueprints, outbox
  delivery handlers, periodic jobs, billable acts, habilitations, sign-in methods, portable tables, REMU NUM
  indicators). Called for every loaded plugin,
  enabled or not, so that the data model and the admin page are known before a pharmacy switches the plugin on.
  Settings are registered by the manifest (:class:`lgo.plugins.manifest.Manifest.settings`) for the same reason.
  A name declared by two plugins (an outbox kind, an act code...) takes both out, with the reason;
* **events** — ``lgo_on_*``: something happened. The kernel calls **one implementation at a time**, only for
  the plugins active in the pharmacy concerned; an exception is recorded against its plugin and never stops
  the billing or the other plugins (the kernel's strict mode re-raises, for tests). An event may return an
  :class:`lgo.actions.ActionRequired` (or a list of them) for the caller to render;
* **queries** — ``lgo_shareable_identity``, ``lgo_operator_signer``: the kernel asks the active plugins a question
  (see :meth:`lgo.kernel.Kernel.shareable_identity`, :meth:`lgo.kernel.Kernel.operator_signer`); a plugin answers
  ``None`` when it has nothing to say;
* **counter** — what a plugin brings to the counter (``lgo web``, ``/comptoir``): windows for its actions
  (``lgo_register_counter_windows``), keys (``lgo_register_counter_shortcuts``), the answers and commands that come
  back (``lgo_on_action_answered``, ``lgo_on_counter_command``, events), two questions asked on each screen
  (``lgo_counter_panels``, ``lgo_service_status``), the sections of the patient's file
  (``lgo_patient_file_sections``) and the actions that block every counter page of a pharmacy
  (``lgo_counter_blocking``). The web application names no plugin: it reads these;
* **in-transaction** — ``lgo_on_billing_commit`` and ``lgo_on_correction_commit``: run inside the transaction of a
  billing or of an ordonnancier correction, in a savepoint of their own, so that a plugin can write rows or outbox
  messages atomically with it; a failure rolls back that plugin's savepoint only.

A plugin may implement the thin hooks that only pass the call to another of its modules by naming that module
(:class:`lgo.plugins.lazy.LazyHooks`, ``LAZY_HOOKS`` in its entry module), imported at the first call.

The kernel and the web application call hooks only through the typed facade :class:`lgo.plugins.hooks.Hooks`
(``kernel.hooks.on_billing_end(event)``), never by a name in a string. Implementations may not use pluggy's
``wrapper``, ``hookwrapper``, ``tryfirst`` or ``trylast`` options: the plugin is refused at start-up with the reason.

Compatibility: adding a hook or an argument is allowed (bump the minor of ``lgo.PLUGIN_API``); removing or
renaming one is a breaking change (bump the major). ``firstresult`` is never used to choose a provider:
providers are selected per pharmacy (see :mod:`lgo.plugins.providers`). API 2.0 removed ``lgo_demo_steps``
(demonstration steps are entry points of the group ``lgo.demo``) and gave outbox handlers the kernel; API 2.1 added
the counter's hooks; API 2.5 added ``lgo_counter_blocking``; API 2.6 the patient's file
(``lgo_patient_file_sections``), keys shown by habilitation and ``lgo_identity_qualification``; API 2.7 the
portability of the pharmacy's data (``lgo_portable_tables``) and the REMU NUM indicators
(``lgo_register_indicators``); API 2.8 no new hook but :class:`lgo.api.LazyHooks` and the public helpers plugins
wrote again each (command line, web pages, patient records, printed sheets, time-out field, ``table_of``,
``counted_invoices``, ``cda.coded``); API 2.9 no new hook either: :class:`lgo.api.LazyHooks` also declares
migrations, acts, the outbox status and any hook by name, with :func:`lgo.api.deferred`,
:class:`lgo.api.LabelledEnum`, ``documents.SharedAct``, ``documents.draft_of`` and ``audit.record_about``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lgo import hookspec

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lgo.actions import ActionRequired
    from lgo.domain.billing import ActDefinition
    from lgo.domain.certificates import OperatorSigner
    from lgo.events import (
        ActionAnswered,
        BillingEnded,
        BillingStarted,
        CounterCommand,
        CounterView,
        DispensationValidated,
        DocumentDeprecated,
        DocumentValidated,
        IdentityQualified,
        PatientFileView,
        PatientSelected,
        PatientTraitsChanged,
    )
    from lgo.identity import SharedIdentity
    from lgo.indicators import IndicatorSource
    from lgo.kernel import Kernel
    from lgo.migrations import MigrationSource
    from lgo.plugins.registrations import (
        CertificateUsage,
        CounterPanel,
        CounterShortcut,
        CounterWindow,
        HabilitationDefinition,
        PatientFileSection,
        ServiceStatus,
        SignInMethod,
    )
    from lgo.portability.tables import ExcludedTable, PortableTable
    from lgo.worker import OutboxHandler, PeriodicJob


# --- lifecycle -------------------------------------------------------------------------------------------


@hookspec
def lgo_startup(kernel: Kernel) -> None:
    """The plugin is loaded and its dependencies are started. Prepare cheap in-memory state here; a raise
    marks the plugin *failed* (with the error as reason) and leaves it out, with the plugins needing it."""


@hookspec
def lgo_shutdown(kernel: Kernel) -> None:
    """The kernel is closing (end of a command, of the web server or of the worker). Release resources."""


# --- registration ----------------------------------------------------------------------------------------


@hookspec
def lgo_register_migrations() -> MigrationSource | None:
    """Return the plugin's Alembic migrations (:class:`lgo.migrations.MigrationSource`): a folder of revision
    files with their own history and version table, run after the kernel's, in dependency order. Plugin tables
    are prefixed with the plugin's name and may reference kernel tables only."""


@hookspec
def lgo_register_cli_commands() -> list[Any]:
    """Return ``click`` commands or groups to add under ``lgo`` (e.g. ``lgo ins …``)."""


@hookspec
def lgo_register_web_blueprints() -> list[Any]:
    """Return Flask blueprints for the administrator's page (mounted under ``/plugins/<name>/``)."""


@hookspec
def lgo_register_outbox_handlers() -> dict[str, OutboxHandler]:
    """Return ``{kind: handler}``: how the worker delivers the outbox messages of each kind this plugin
    enqueues. Kinds are global; prefix them with the plugin's name (``dmp.feed``); a kind declared twice takes both
    plugins out. A handler is called ``handler(kernel, delivery)`` with the worker's kernel and an
    :class:`lgo.worker.Delivery`, must be idempotent for one idempotency key, raises
    :class:`lgo.worker.PermanentFailure` when retrying cannot help and any other exception to be retried.

    .. versionchanged:: 2.0 handlers receive the kernel."""


@hookspec
def lgo_register_periodic_jobs() -> list[PeriodicJob]:
    """Return :class:`lgo.worker.PeriodicJob` objects: work ``lgo worker`` runs every ``every_seconds`` for each
    pharmacy where the plugin is active (e.g. fetching an MSSanté mailbox). Jobs must be safe to repeat; the worker
    logs a failure and tries again at the next turn."""


@hookspec
def lgo_register_acts() -> list[ActDefinition]:
    """Return the pharmacist acts (code, French label, fee) this plugin lets the counter bill, e.g. VGP."""


@hookspec
def lgo_register_habilitations() -> list[HabilitationDefinition]:
    """Return the rights this plugin checks (:class:`lgo.api.HabilitationDefinition`: dotted code starting with the
    plugin's name, French label and help, roles that get it by default). The administrator grants them on the team
    page; the first time the plugin is switched on in a pharmacy, its operators of the default roles get them.

    .. versionadded:: 2.0"""


@hookspec
def lgo_register_sign_in_methods() -> list[SignInMethod]:
    """Return the other ways of signing in this plugin offers (:class:`lgo.api.SignInMethod`: the Flask endpoints of
    its blueprint that start it, on a personal workstation and on a shared counter, and the one that signs out).
    The sign-in page shows them while the plugin is active.

    .. versionadded:: 2.0"""


@hookspec
def lgo_register_certificate_usages() -> list[CertificateUsage]:
    """Return the uses of the pharmacy's certificate this plugin may need a **different** certificate for
    (:class:`lgo.plugins.registrations.CertificateUsage`, e.g. ``insi`` for a distinct INSI-AUTO certificate). The
    administrator may store one per use on the « Certificat » page; without it the plugin gets the organisation
    certificate (:func:`lgo.domain.certificates.pharmacy_credential`, ``kind`` = the use's name).

    .. versionadded:: 2.0"""


@hookspec
def lgo_portable_tables() -> list[PortableTable | ExcludedTable]:
    """Return how each of the plugin's tables travels in a pharmacy's export (``lgo export`` / ``lgo import``, data
    portability): a :class:`lgo.api.PortableTable` per table whose rows are the pharmacy's data (a French label and
    a French description of every column, for the generated data dictionary; the plain integer columns that hold
    another table's id, e.g. ``{"patient_id": "patient", "document_id": "health_document"}``; the columns left out
    and why, e.g. an encrypted password; a :class:`lgo.api.ColumnTransform` to decrypt a secret on the way out and
    encrypt it again on the way in), or an :class:`lgo.api.ExcludedTable` with the reason (sessions, caches). A row
    pointing at a patient (directly or through another row) travels in that patient's archive, the others in the
    transverse archive; the import renumbers every ``id`` and the columns pointing at one. Called for every loaded
    plugin, active or not: disabling a plugin keeps its data, the export carries it. The contract kit checks that
    every table the plugin's migrations create is declared.

    .. versionadded:: 2.7"""


@hookspec
def lgo_register_indicators() -> list[IndicatorSource]:
    """Return how this plugin measures REMU NUM indicators of the kernel's catalogue (:data:`lgo.indicators.CATALOGUE`,
    e.g. ``ordonnance_numerique``): an :class:`lgo.api.IndicatorSource` per indicator, with ``count(session,
    pharmacy_id, start, end)`` returning a :class:`lgo.api.Tally` (numerator, denominator) over ``[start, end)`` (UTC
    instants of Paris months) and ``misses(session, pharmacy_id, start, end, limit)`` returning the cases that count
    against it (:class:`lgo.api.Miss`, with the reason in French). Both read with the session given and never write.
    An indicator is measured only where the plugin is active in the pharmacy; the page says so otherwise. An indicator
    code declared by two plugins takes both out.

    .. versionadded:: 2.7"""


# --- events (after commit, one implementation at a time) -------------------------------------------------


@hookspec
def lgo_on_patient_selected(kernel: Kernel, event: PatientSelected) -> ActionRequired | list[ActionRequired] | None:
    """A patient was selected at the counter (carte Vitale, Appli carte Vitale, name search...)."""


@hookspec
def lgo_on_billing_start(kernel: Kernel, event: BillingStarted) -> ActionRequired | list[ActionRequired] | None:
    """A billing was opened for a patient (nothing is written yet)."""


@hookspec
def lgo_on_billing_end(kernel: Kernel, event: BillingEnded) -> ActionRequired | list[ActionRequired] | None:
    """A billing was validated and committed: invoice, ordonnancier lines, stock movements and outbox rows
    exist. Prepare follow-up work (e.g. a note de vaccination); defer anything slow to the outbox."""


@hookspec
def lgo_on_dispensation_validated(
    kernel: Kernel, event: DispensationValidated
) -> ActionRequired | list[ActionRequired] | None:
    """An ordonnancier line was written (by a billing or as a correction of an earlier line)."""


@hookspec
def lgo_on_document_validated(kernel: Kernel, event: DocumentValidated) -> ActionRequired | list[ActionRequired] | None:
    """A health document (note de vaccination, CR d'entretien, BPM...) was validated by a pharmacist."""


@hookspec
def lgo_on_document_deprecated(
    kernel: Kernel, event: DocumentDeprecated
) -> ActionRequired | list[ActionRequired] | None:
    """A validated health document was withdrawn (cancelled act, wrong patient...): withdraw it where it was
    shared (the DMP deprecates it)."""


@hookspec
def lgo_on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> ActionRequired | list[ActionRequired] | None:
    """A patient's identity became *qualifiée* (announced by the identity plugin): send what waited for it."""


@hookspec
def lgo_on_patient_traits_changed(
    kernel: Kernel, event: PatientTraitsChanged
) -> ActionRequired | list[ActionRequired] | None:
    """Identity traits of a patient were changed through :meth:`lgo.kernel.Kernel.update_patient_traits`; a change
    of a strict trait demotes a qualified identity (the identity plugin does it)."""


# --- queries ---------------------------------------------------------------------------------------------


@hookspec
def lgo_shareable_identity(kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
    """Return the patient's identity *only if* it may be shared (status *qualifiée*), else ``None``. Implemented by
    the identity plugin (``ins``); everyone else asks :meth:`lgo.kernel.Kernel.shareable_identity`."""


@hookspec
def lgo_identity_qualification(
    kernel: Kernel, pharmacy_id: int, patient_id: int, waiting_fr: str
) -> ActionRequired | list[ActionRequired] | None:
    """Return the windows that qualify the patient's identity — the identity plugin's own actions, so that its
    window shows them and its answers record the identity document — with ``waiting_fr`` (what waits for the
    identity: « La note de vaccination attend et partira ensuite. ») in their message. Implemented by the identity
    plugin (``ins``); everyone else asks :meth:`lgo.kernel.Kernel.identity_actions`.

    .. versionadded:: 2.6"""


@hookspec
def lgo_operator_signer(kernel: Kernel, pharmacy_id: int, operator_id: int) -> OperatorSigner | None:
    """Return the operator's own signing credential when it is ready now (a CPS the operator unlocked with the PIN:
    plugin ``cards``), else ``None``. Used where a national service wants the professional's signature (the INSi
    assertion in INSI-MANU mode); everyone else asks :meth:`lgo.kernel.Kernel.operator_signer`."""


# --- counter (lgo web, /comptoir) ----------------------------------------------------------------------


@hookspec
def lgo_register_counter_windows() -> list[CounterWindow]:
    """Return the windows of this plugin's actions (:class:`lgo.api.CounterWindow`: action kind, Jinja template,
    folder of templates, keys). An action kind without a window is rendered generically from its ``title_fr``,
    ``message_fr`` and ``choices``; a kind registered by two plugins takes both out.

    .. versionadded:: 2.1"""


@hookspec
def lgo_register_counter_shortcuts() -> list[CounterShortcut]:
    """Return the counter keys of this plugin (:class:`lgo.api.CounterShortcut`: key, label, command). Pressing
    one announces :func:`lgo_on_counter_command`. The counter's own keys are reserved; a key or a command declared
    by two plugins takes both out.

    .. versionadded:: 2.1"""


@hookspec
def lgo_on_counter_command(kernel: Kernel, event: CounterCommand) -> ActionRequired | list[ActionRequired] | None:
    """The operator pressed one of this plugin's keys (``event.command``): return the window(s) to show (e.g. the
    beneficiaries of the carte Vitale just read, the scan field of the ordonnance numérique). Called only on the
    plugin that declared the command.

    .. versionadded:: 2.1"""


@hookspec
def lgo_on_action_answered(kernel: Kernel, event: ActionAnswered) -> ActionRequired | list[ActionRequired] | None:
    """The person at the counter answered one of this plugin's actions (``event.plugin`` is this plugin): record
    the answer, return the next actions or nothing. Raise :class:`lgo.api.LgoError` with a French message to show it
    in the same window. Called only on the plugin named by the action.

    .. versionadded:: 2.1"""


@hookspec
def lgo_counter_panels(kernel: Kernel, view: CounterView) -> list[CounterPanel] | None:
    """Return panels for the patient banner or the billing screen (:class:`lgo.api.CounterPanel`) for what is on
    screen (``view``: patient, billing lines). Called on every counter page: read from the database only, never
    call a national service here.

    .. versionadded:: 2.1"""


@hookspec
def lgo_service_status(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[ServiceStatus] | None:
    """Return the state of each national service this plugin talks to (:class:`lgo.api.ServiceStatus`), from the
    outbox and the plugin's recent calls, with what waits in the outbox for ``patient_id``. Shown in the counter's
    status bar; never call the service here.

    .. versionadded:: 2.1"""


@hookspec
def lgo_patient_file_sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection] | None:
    """Return this plugin's sections of the patient's file (:class:`lgo.api.PatientFileSection`: title, lines, a
    table with links, actions, and optionally a *fragment* page of the plugin's blueprint fetched after the file is
    shown). The counter shows the kernel's parts itself (identity traits, dispensings of the ordonnancier, documents
    produced here) and every plugin's sections, escaped. Read from the database only: what needs a national service
    (the DMP) goes into the fragment, so the file never waits for one. Offer only the links ``view.operator_id`` may
    use (its habilitations), so that nobody sees a button that would refuse.

    .. versionadded:: 2.6"""


@hookspec
def lgo_counter_blocking(kernel: Kernel, pharmacy_id: int) -> ActionRequired | list[ActionRequired] | None:
    """Return the actions that must block **every** counter page of the pharmacy, for every operator, until someone
    answers them (a batch recall, a health alert). Asked on every counter page and before every post at the
    counter: read from the database only, never call a national service here. While one is returned, each counter
    shows only its window (the plugin's window for its kind, or the generic one) and refuses every other post; the
    answer reaches :func:`lgo_on_action_answered` of this plugin, which records it so that the action is no longer
    returned — then every counter is free at its next page. Actions returned after an answer are not shown. The
    counter recognises the answered action by its kind and ``data["key"]`` (its whole ``data`` without a key): give
    a key when ``data`` may change between two pages (stock counts...).

    .. versionadded:: 2.5"""


# --- in-transaction --------------------------------------------------------------------------------------


@hookspec
def lgo_on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    """Inside the billing's transaction, before it commits: write your rows or enqueue outbox messages with
    ``session`` so they exist if and only if the billing does. Runs in a savepoint of its own: an exception
    is recorded and rolls back only this plugin's writes."""


@hookspec
def lgo_on_correction_commit(kernel: Kernel, session: Session, event: DispensationValidated) -> None:
    """Inside the transaction of an ordonnancier correction (:meth:`lgo.counter.Counter.correct_dispensation`), before
    it commits: ``event`` is the correcting line (``corrects_number`` names the corrected one). Write with ``session``
    (e.g. queue the correction for a national register) so that it exists if and only if the correction does. Runs in
    a savepoint of its own, like ``lgo_on_billing_commit``.

    .. versionadded:: 2.1"""
