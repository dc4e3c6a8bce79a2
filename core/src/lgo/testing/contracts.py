"""The contract kit: what every plugin must do, as tests a vendor inherits by naming its plugin.

.. code-block:: python

    import my_plugin.plugin
    from lgo.testing.contracts import PluginContract

    class TestMyPluginContract(PluginContract):
        plugin = my_plugin.plugin            # a module or object with a MANIFEST
        companions = (other_plugin.plugin,)  # the plugins it requires (or test doubles of them)

The inherited tests check that the manifest is valid and compatible with this kernel, that the settings defaults
are valid, that the plugin's migrations go up, down and up again, that enabling, disabling and enabling again is
idempotent and never loses data, and that the plugin's event implementations do not raise on the seeded fictional
pharmacy (the kernel is strict: an exception fails the test). Each check is also a plain ``check_*`` function, so a
test can show that a crippled plugin fails it. Provider contracts (e.g. MSSanté, ordonnance numérique) are owned
by the plugins that own the provider protocols and build on :class:`ProviderContract`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import UniqueConstraint, func, inspect, select, table

from lgo import PLUGIN_API, hookspecs
from lgo.plugins.lazy import implements, lazy_hooks_of, plugin_hooks
from lgo.plugins.manifest import Manifest

#: The plugins the kernel knows as official (the contract does not require them, it only names them in messages).
__all__ = [
    "PluginContract",
    "ProviderContract",
    "check_events_do_not_raise",
    "check_lazy_hooks",
    "check_manifest",
    "check_migrations_up_and_down",
    "check_models_match_migrations",
    "check_patient_file_sections",
    "check_settings_defaults",
    "check_toggle_keeps_data",
]


def check_manifest(plugin: Any) -> Manifest:
    manifest = getattr(plugin, "MANIFEST", None)
    assert isinstance(manifest, Manifest), "the plugin module must define MANIFEST = lgo.plugins.manifest.Manifest(...)"
    assert manifest.accepts_api(PLUGIN_API), (
        f"plugin_api {manifest.plugin_api!r} does not accept this kernel's plugin API {PLUGIN_API}"
    )
    assert manifest.label_fr, "the manifest needs a French label (label_fr) for the administrator"
    if manifest.distribution:
        assert manifest.version != "0+inconnue", f"distribution {manifest.distribution!r} is not installed"
    return manifest


def check_settings_defaults(plugin: Any) -> None:
    settings = check_manifest(plugin).settings
    if settings is None:
        return
    defaults = settings()
    assert settings.model_validate(defaults.model_dump()) == defaults, "settings defaults do not round-trip"


def _migration_source(kernel: Any, name: str) -> Any:
    return dict(kernel.hooks.migrations()).get(name)


def _tables(kernel: Any) -> set[str]:
    return set(inspect(kernel.engine).get_table_names())


def check_migrations_up_and_down(kernel: Any, plugin: Any, source: Any = None) -> None:
    """``source`` (a :class:`lgo.migrations.MigrationSource`) defaults to what the plugin registered in ``kernel``."""
    from lgo import migrations

    name = check_manifest(plugin).name
    source = source or _migration_source(kernel, name)
    if source is None:
        return
    upgraded = _tables(kernel)
    own = {t for t in upgraded if t.startswith(f"{name}_")}
    assert own, f"the migrations of {name!r} create no table prefixed {name}_ (tables are prefixed by the plugin)"
    migrations.downgrade(kernel.engine, source, "base")
    assert not own & _tables(kernel), f"downgrading {name!r} to base leaves {sorted(own & _tables(kernel))}"
    migrations.upgrade(kernel.engine, source)
    assert own <= _tables(kernel), f"upgrading {name!r} again does not recreate {sorted(own - _tables(kernel))}"


def _diff_table(diff: Any) -> str | None:
    """The table an alembic autogenerate difference is about."""
    if isinstance(diff, list):  # modify_* differences come as a list of tuples of one column
        return _diff_table(diff[0])
    kind, *rest = diff
    if kind in ("add_table", "remove_table"):
        return str(rest[0].name)
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(rest[0].table.name)
    if kind in ("add_fk", "remove_fk"):
        return str(rest[0].parent.name)
    if kind.startswith("modify_") or kind in ("add_column", "remove_column"):
        return str(rest[1])
    return None


def models_of(plugin: Any) -> Any:
    """The plugin's SQLAlchemy metadata, found by convention: the declarative base defined in ``<package>.model``
    (or in the plugin's own module), else ``None``."""
    import importlib

    from sqlalchemy import Table
    from sqlalchemy.orm import DeclarativeBase

    module_name = plugin.__name__ if hasattr(plugin, "__name__") else type(plugin).__module__
    for candidate in (module_name.rsplit(".", 1)[0] + ".model", module_name):
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DeclarativeBase) and DeclarativeBase in value.__bases__:
                return value.metadata
            if isinstance(value, Table):
                return value.metadata
    return None


def check_models_match_migrations(kernel: Any, plugin: Any, metadata: Any) -> None:
    """The plugin's migrated tables are the tables its models declare: same tables, columns, indexes and foreign
    keys (alembic's autogenerate comparison, restricted to the plugin's tables)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    name = check_manifest(plugin).name
    own = {t for t in metadata.tables if t.startswith(f"{name}_")}
    assert own == set(metadata.tables), f"models of {name!r} declare tables not prefixed {name}_"
    with kernel.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = [d for d in compare_metadata(context, metadata) if _diff_table(d) in own]
        in_database = {
            (table, frozenset(u["column_names"]))
            for table in own
            for u in [*inspect(connection).get_unique_constraints(table), *inspect(connection).get_indexes(table)]
            if u.get("unique", True)
        }
    in_models = {
        (table.name, frozenset(c.name for c in constraint.columns))
        for table in metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    } | {(table.name, frozenset([c.name])) for table in metadata.tables.values() for c in table.columns if c.unique}
    differences = [d for d in differences if not _expected_difference(d, own, in_database & in_models)]
    assert not differences, f"the migrations of {name!r} differ from its models: {differences}"


def _expected_difference(diff: Any, own: set[str], unique_on_both_sides: set[tuple[str, frozenset[str]]]) -> bool:
    """Differences that are not defects: a foreign key to a kernel table (a plugin's models live in their own
    metadata and cannot name the kernel's tables; its migrations do), and a unique constraint both sides hold under
    different names."""
    if isinstance(diff, tuple) and diff[0] == "remove_fk":
        return diff[1].referred_table.name not in own
    if isinstance(diff, tuple) and diff[0] in ("add_constraint", "remove_constraint"):
        constraint = diff[1]
        return (constraint.table.name, frozenset(c.name for c in constraint.columns)) in unique_on_both_sides
    return False


def _row_counts(kernel: Any, name: str) -> dict[str, int]:
    counts = {}
    with kernel.engine.connect() as connection:
        for table_name in sorted(t for t in _tables(kernel) if t.startswith(f"{name}_")):
            counts[table_name] = int(
                connection.execute(select(func.count()).select_from(table(table_name))).scalar_one()
            )
    return counts


def check_toggle_keeps_data(kernel: Any, pharmacy_id: int, plugin: Any) -> None:
    name = check_manifest(plugin).name
    kernel.enable(pharmacy_id, name, with_dependencies=True)
    kernel.enable(pharmacy_id, name, with_dependencies=True)
    before = _row_counts(kernel, name)
    kernel.disable(pharmacy_id, name)
    kernel._active.clear()
    assert name not in kernel.active_plugins(pharmacy_id)
    assert _row_counts(kernel, name) == before, "disabling the plugin changed its data"
    kernel.enable(pharmacy_id, name, with_dependencies=True)
    kernel._active.clear()
    assert name in kernel.active_plugins(pharmacy_id)
    assert _row_counts(kernel, name) == before, "enabling the plugin again changed its data"


def check_portable_tables(kernel: Any, plugin: Any) -> None:
    """Every table the plugin's migrations create travels in a pharmacy's export or says why not
    (``lgo_portable_tables``, API 2.7): each exported column described in French, each reference pointing at an
    exported table, each excluded required column given an import default."""
    from lgo.portability.tables import Catalogue, check_declarations

    name = check_manifest(plugin).name
    existing = _tables(kernel)
    own = {t for t in existing if t.startswith(f"{name}_")}
    catalogue = Catalogue.of(kernel)
    problems = check_declarations(catalogue, own, existing)
    for table_name, owner in catalogue.owners.items():
        if owner == name and table_name not in own:
            problems.append(f"declared table {table_name} is not created by the plugin's migrations")
    assert not problems, "portable tables: " + "; ".join(problems)


def check_events_do_not_raise(kernel: Any, seeded: Any) -> None:
    """A counter sequence on the seeded pharmacy, with every plugin active and the kernel strict."""
    from lgo import documents
    from lgo.counter import Counter
    from lgo.domain.dispensing import create_prescription
    from lgo.domain.products import product_by_cip13
    from lgo.domain.stock import receive

    pharmacy = seeded.pharmacy_id
    patient = seeded.patients["camille"]
    with kernel.transaction() as session:
        for key in ("paracetamol", "grippe"):
            product = product_by_cip13(session, pharmacy, seeded.products[key])
            receive(session, pharmacy, product, lot_number=f"CONTRAT-{key}", expiry=date(2099, 1, 1), quantity=5)
        prescription = create_prescription(
            session, pharmacy, patient, prescriber_name="Dr Contrat", prescribed_on=date.today()
        ).id
    counter = Counter(kernel, pharmacy, seeded.operators["titulaire"])
    counter.select_patient(patient, source="nom")
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, seeded.products["paracetamol"], 1, lot_number="CONTRAT-paracetamol")
    counter.add_product(billing, seeded.products["grippe"], 1, lot_number="CONTRAT-grippe")
    for code in sorted(kernel.acts)[:1]:
        counter.add_act(billing, code)
    result = counter.end_billing(billing)
    with kernel.transaction() as session:  # an ordonnancier correction (``lgo_on_correction_commit``)
        from lgo.domain.dispensing import Dispensation

        first = session.scalars(
            select(Dispensation.id).where(
                Dispensation.pharmacy_id == pharmacy, Dispensation.number == result.dispensation_numbers[0]
            )
        ).one()
    counter.correct_dispensation(first, quantity=1, reason="contrat : correction")
    kernel.update_patient_traits(pharmacy, patient, operator_id=seeded.operators["titulaire"], used_name="CONTRAT")
    with kernel.transaction() as session:
        draft = documents.create_draft(
            session,
            pharmacy_id=pharmacy,
            patient_id=patient,
            author_operator_id=seeded.operators["titulaire"],
            type_code="78601-2",
            type_display="CR d'entretien pharmaceutique",
            title="Contrat",
            source_plugin="contract",
            content=b"<ClinicalDocument/>",
        ).id
    documents.validate(kernel, pharmacy, draft, seeded.operators["titulaire"])
    documents.deprecate(kernel, pharmacy, draft, seeded.operators["titulaire"], "contrat")


def check_counter_registrations(kernel: Any, plugin: Any) -> None:
    """The plugin's counter windows exist and compile, and a plugin with windows or keys listens to the answers and
    commands they produce (:func:`lgo.hookspecs.lgo_on_action_answered`, ``lgo_on_counter_command``)."""
    name = check_manifest(plugin).name
    windows = [w for p, w in kernel.hooks.counter_windows() if p == name]
    shortcuts = [k for p, k in kernel.hooks.counter_shortcuts() if p == name]
    for window in windows:
        path = Path(window.folder) / window.template
        assert path.is_file(), f"counter window {window.kind}: template {path} not found"
        try:
            import jinja2
        except ImportError:  # pragma: no cover - lgo-web (Flask, Jinja) absent: the file's presence is checked
            continue
        jinja2.Environment(autoescape=True).parse(path.read_text(encoding="utf-8"))
    answered, command = hookspecs.lgo_on_action_answered, hookspecs.lgo_on_counter_command
    if windows:
        assert implements(plugin, answered), f"counter windows declared, {answered.__name__} missing"
    commands = [k for k in shortcuts if k.command]
    if commands:
        assert implements(plugin, command), f"counter keys declared, {command.__name__} missing"
        assert all(k.command.startswith(f"{name}.") for k in commands), "a counter command starts with the name"


def check_lazy_hooks(plugin: Any) -> None:
    """Every module and attribute the plugin's :class:`lgo.api.LazyHooks` names exists (they are imported only at
    the first call in production, so a typo would show late)."""
    hooks = lazy_hooks_of(plugin)
    problems = hooks.problems() if hooks is not None else []
    assert not problems, "LAZY_HOOKS: " + "; ".join(problems)


def check_patient_file_sections(kernel: Any, seeded: Any, plugin: Any) -> None:
    """The plugin's sections of the patient's file (``lgo_patient_file_sections``, API 2.6), asked for the seeded
    patient by the titulaire and by the préparateur: ``PatientFileSection`` records with distinct anchors, and no
    exception whoever looks."""
    from datetime import timedelta

    from lgo.db import utcnow
    from lgo.events import PatientFileView
    from lgo.plugins.registrations import PatientFileSection

    if not implements(plugin, hookspecs.lgo_patient_file_sections):
        return
    hook = getattr(plugin_hooks(plugin), hookspecs.lgo_patient_file_sections.__name__)
    for code in ("titulaire", "preparatrice"):
        view = PatientFileView(
            seeded.pharmacy_id, seeded.operators[code], seeded.patients["camille"], utcnow() - timedelta(days=365)
        )
        sections = hook(kernel=kernel, view=view) or []
        assert isinstance(sections, list | tuple), f"lgo_patient_file_sections returned {type(sections).__name__}"
        wrong = [s for s in sections if not isinstance(s, PatientFileSection)]
        assert not wrong, f"lgo_patient_file_sections returned {wrong!r}: PatientFileSection expected"
        anchors = [s.anchor for s in sections]
        assert len(anchors) == len(set(anchors)), f"section anchors given twice: {anchors}"


def check_counter_blocking(kernel: Any, pharmacy_id: int, plugin: Any) -> None:
    """A plugin that blocks the counters (:func:`lgo.hookspecs.lgo_counter_blocking`) hears the answers that free
    them, and what it returns on ``pharmacy_id`` are blocking actions of its own, with data the counter can keep
    (JSON) and a French title."""
    import json

    from lgo.actions import ActionRequired

    name = check_manifest(plugin).name
    if not implements(plugin, hookspecs.lgo_counter_blocking):
        return
    assert implements(plugin, hookspecs.lgo_on_action_answered), (
        "lgo_counter_blocking implemented, lgo_on_action_answered missing: no one could unblock"
    )
    for owner, action in kernel.hooks.counter_blocking(pharmacy_id):
        if owner != name:
            continue
        assert isinstance(action, ActionRequired) and action.plugin == name, f"{action!r}: not an action of {name}"
        assert action.blocking, f"{action.kind}: a blocking action has blocking=True"
        assert action.title_fr.strip(), f"{action.kind}: a blocking window needs a French title"
        json.dumps(action.data)


def check_identity_qualification(kernel: Any, seeded: Any, plugin: Any) -> None:
    """An identity plugin (:func:`lgo.hookspecs.lgo_identity_qualification`) asks for the qualification of a patient
    whose identity is not shareable with windows of its own that it answers, saying what waits; the kernel marks
    them (:func:`lgo.actions.is_identity_request`)."""
    from lgo.actions import ActionRequired, is_identity_request
    from lgo.identity import IdentityNotShareable

    name = check_manifest(plugin).name
    if not implements(plugin, hookspecs.lgo_identity_qualification):
        return
    assert implements(plugin, hookspecs.lgo_on_action_answered), (
        "lgo_identity_qualification implemented, lgo_on_action_answered missing"
    )
    pharmacy, patient = seeded.pharmacy_id, next(iter(seeded.patients.values()))
    if kernel.is_identity_shareable(pharmacy, patient):
        return
    waiting = "Le document de contrôle attend."
    actions = kernel.identity_actions(pharmacy, patient, IdentityNotShareable(patient), waiting)
    assert actions, "no action at all for an identity that is not shareable"
    for action in actions:
        assert isinstance(action, ActionRequired) and is_identity_request(action)
        if action.plugin == name:
            assert waiting in action.message_fr, f"{action.kind}: the message does not say what waits"
            assert action.patient_id == patient


class PluginContract:
    """Inherit in a ``Test…`` class and set :attr:`plugin` (and :attr:`companions`)."""

    plugin: Any = None
    companions: tuple[Any, ...] = ()
    #: The plugin's SQLAlchemy ``MetaData``; by default ``<package>.model.Base.metadata`` when that exists.
    models: Any = None

    def _plugin(self) -> Any:
        if self.plugin is None:  # a misconfigured contract is an error, never a skip
            pytest.fail("PluginContract: set `plugin` in the subclass", pytrace=False)
        return self.plugin

    @pytest.fixture
    def contract_world(self, lgo_make_kernel: Callable[..., Any], lgo_seeded: Any) -> tuple[Any, Any]:
        self._plugin()
        kernel = lgo_make_kernel(self.plugin, *self.companions)
        kernel.enable(lgo_seeded.pharmacy_id, self.plugin.MANIFEST.name, with_dependencies=True)
        return kernel, lgo_seeded

    def test_manifest_is_valid_and_compatible(self) -> None:
        check_manifest(self._plugin())

    def test_settings_defaults_are_valid(self) -> None:
        check_settings_defaults(self._plugin())

    def test_migrations_go_up_and_down(self, contract_world: tuple[Any, Any]) -> None:
        check_migrations_up_and_down(contract_world[0], self.plugin)

    def test_models_match_the_migrations(self, contract_world: tuple[Any, Any]) -> None:
        metadata = self.models if self.models is not None else models_of(self.plugin)
        if metadata is None:
            assert not dict(contract_world[0].hooks.migrations()).get(check_manifest(self.plugin).name), (
                "the plugin has migrations: give its models (`models = MyBase.metadata`) to the contract"
            )
            return
        check_models_match_migrations(contract_world[0], self.plugin, metadata)

    def test_events_do_not_raise_on_the_seeded_pharmacy(self, contract_world: tuple[Any, Any]) -> None:
        check_events_do_not_raise(*contract_world)

    def test_lazy_hooks_name_what_exists(self) -> None:
        check_lazy_hooks(self._plugin())

    def test_counter_windows_and_keys_are_complete(self, contract_world: tuple[Any, Any]) -> None:
        check_counter_registrations(contract_world[0], self.plugin)

    def test_every_table_travels_in_the_export_or_says_why_not(self, contract_world: tuple[Any, Any]) -> None:
        check_portable_tables(contract_world[0], self.plugin)

    def test_patient_file_sections_are_well_formed(self, contract_world: tuple[Any, Any]) -> None:
        check_patient_file_sections(*contract_world, self.plugin)

    def test_counter_blocking_actions_can_be_answered(self, contract_world: tuple[Any, Any]) -> None:
        kernel, seeded = contract_world
        check_events_do_not_raise(kernel, seeded)
        check_counter_blocking(kernel, seeded.pharmacy_id, self.plugin)

    def test_identity_qualification_windows_are_its_own(self, contract_world: tuple[Any, Any]) -> None:
        check_identity_qualification(*contract_world, self.plugin)

    def test_enable_disable_enable_is_idempotent_and_keeps_data(self, contract_world: tuple[Any, Any]) -> None:
        kernel, seeded = contract_world
        check_events_do_not_raise(kernel, seeded)  # so that the plugin has data to keep
        check_toggle_keeps_data(kernel, seeded.pharmacy_id, self.plugin)


class ProviderContract:
    """Base of the provider contracts: set :attr:`capability` and :attr:`provider` (the driver's name).

    The owner of a capability subclasses it with the behaviour of its protocol (sending, fetching...); a vendor
    subclasses the owner's contract with its driver's name."""

    capability: str = ""
    provider: str = ""

    def test_the_driver_is_registered_and_loads(self) -> None:
        if not self.capability:
            pytest.fail("ProviderContract: set `capability` and `provider` in the subclass", pytrace=False)
        from lgo.plugins import providers

        assert self.provider in providers.available(self.capability), (
            f"no driver {self.provider!r} in the entry-point group lgo.providers.{self.capability}"
        )
