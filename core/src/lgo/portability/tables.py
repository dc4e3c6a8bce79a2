"""What a pharmacy's export holds, table by table: the kernel's declarations and the plugins' (``lgo_portable_tables``).

A :class:`PortableTable` names a table, says in French what it and each of its columns mean (the export's data
dictionary is generated from these words, so it stays true), which columns point at which table (foreign keys are
found in the metadata; plugins' plain integer columns are declared), which columns are left out and why (secrets,
caches), and how a value is changed on the way out and back in (a secret decrypted, a setting's secret removed).
A plugin table that must not travel is declared as an :class:`ExcludedTable` with its reason, so that every table is
accounted for (the contract kit checks it).

:class:`Catalogue` puts them together: the tables in an order where every row comes after the rows it points at, and
for each table the way to find the patient a row belongs to (its own ``patient_id``, or the patient of a row it
points at). Rows with a patient travel in that patient's archive; the others in the transverse archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lgo.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select, Table

    from lgo.kernel import Kernel

PATIENT = "patient"
PHARMACY = "pharmacy"

#: French description of the columns many tables share; a table's own words win.
COMMON_COLUMNS_FR: dict[str, str] = {
    "id": "Identifiant de la ligne dans sa table (entier).",
    "pharmacy_id": "Officine à laquelle la ligne appartient (pharmacy.id).",
    "patient_id": "Patient concerné (patient.id).",
    "operator_id": "Opérateur qui a agi (operator.id).",
    "invoice_id": "Facture liée (invoice.id).",
    "product_id": "Produit (product.id).",
    "lot_id": "Lot de stock (stock_lot.id).",
    "document_id": "Document de santé (health_document.id).",
    "prescription_id": "Ordonnance (prescription.id).",
    "created_at": "Date et heure de création (UTC).",
    "updated_at": "Date et heure de la dernière modification (UTC).",
}


def table_of(model: Any) -> Table:
    """The table of a mapped class, typed as a :class:`~sqlalchemy.Table` (``__table__`` is typed loosely)."""
    return model.__table__


@dataclass(frozen=True)
class ColumnTransform:
    """How a column's value leaves the database (``export``) and comes back (``import_``): a secret decrypted with
    this server's key and encrypted again with the other's, a setting's secret fields removed..."""

    export: Callable[[Any], Any]
    import_: Callable[[Any], Any]
    #: What the dictionary says about the value as written in the archive (French).
    described_fr: str = ""


@dataclass(frozen=True)
class PortableTable:
    """A table whose rows of the pharmacy travel in its export (see the module's docstring)."""

    table: Table
    label_fr: str
    #: French description of each column (the :data:`COMMON_COLUMNS_FR` fill in the rest).
    columns_fr: Mapping[str, str] = field(default_factory=dict)
    #: Columns holding the id of a row of another table (``{"document_id": "health_document"}``), besides the
    #: foreign keys of the metadata.
    references: Mapping[str, str] = field(default_factory=dict)
    #: Columns holding the id of a row of the table named in another column: ``(("object_type", "object_id"),)``.
    typed_references: tuple[tuple[str, str], ...] = ()
    #: Columns left out, with the reason (French): secrets, caches, what a new server recomputes.
    excluded: Mapping[str, str] = field(default_factory=dict)
    #: The value written at import for an excluded column that the database requires.
    import_defaults: Mapping[str, Any] = field(default_factory=dict)
    transforms: Mapping[str, ColumnTransform] = field(default_factory=dict)
    #: The column naming the pharmacy (``id`` for the pharmacy itself).
    pharmacy_column: str = "pharmacy_id"
    #: Reference data a patient's rows need to be read (pharmacy, team, catalogue, lots): in the transverse archive
    #: of a single patient's export too.
    shared: bool = False

    @property
    def name(self) -> str:
        return str(self.table.name)

    def exported_columns(self) -> list[str]:
        return [c.name for c in self.table.columns if c.name not in self.excluded]

    def description_fr(self, column: str) -> str:
        return self.columns_fr.get(column) or COMMON_COLUMNS_FR.get(column, "")

    def all_references(self) -> dict[str, str]:
        """Every ``column → referenced table`` (foreign keys and declared references), exported columns only."""
        found: dict[str, str] = {}
        for column in self.table.columns:
            for foreign_key in column.foreign_keys:
                found[column.name] = foreign_key.target_fullname.split(".")[0]
        found.update(self.references)
        if self.pharmacy_column != "id" and self.pharmacy_column in self.table.c:
            found.setdefault(self.pharmacy_column, PHARMACY)  # plugins' plain integer pharmacy_id
        return {column: target for column, target in found.items() if column not in self.excluded}

    @property
    def id_column(self) -> str | None:
        """The single integer primary key (renumbered at import), or None (composite keys)."""
        keys = list(self.table.primary_key.columns)
        return keys[0].name if len(keys) == 1 and keys[0].name == "id" else None


@dataclass(frozen=True)
class ExcludedTable:
    """A plugin table that does not travel (sessions, caches), with the reason the dictionary prints."""

    name: str
    reason_fr: str


@dataclass(frozen=True)
class OwnerPath:
    """How a row of a table finds its patient: its own column (``via`` None), or the patient of the row of
    ``target`` its column ``column`` points at."""

    column: str
    target: str


class Catalogue:
    """Every portable table of the kernel and the loaded plugins, in dependency order."""

    def __init__(
        self,
        tables: Iterable[PortableTable],
        excluded: Iterable[ExcludedTable] = (),
        *,
        owners: Mapping[str, str] | None = None,
    ) -> None:
        by_name: dict[str, PortableTable] = {}
        for table in tables:
            if table.name in by_name:
                raise ValidationError(
                    f"La table « {table.name} » est déclarée deux fois pour l'export.", detail=f"duplicate {table.name}"
                )
            by_name[table.name] = table
        self.by_name = by_name
        self.excluded = {t.name: t for t in excluded}
        #: Which plugin (or "kernel") declared each table.
        self.owners: dict[str, str] = dict(owners or {})
        self.order = self._ordered()
        self.paths: dict[str, list[OwnerPath]] = {}
        for name in self.order:  # dependency order: a referenced table's paths are known when asked for
            self.paths[name] = self._owner_paths(name)

    # --- construction -------------------------------------------------------------------------------------

    @classmethod
    def of(cls, kernel: Kernel) -> Catalogue:
        """The kernel's tables and those the loaded plugins declare (``lgo_portable_tables``)."""
        from lgo.portability.kernel_tables import kernel_excluded, kernel_tables

        tables = list(kernel_tables())
        owners = {t.name: "kernel" for t in tables}
        excluded: list[ExcludedTable] = kernel_excluded()
        for plugin, item in kernel.hooks.portable_tables():
            if isinstance(item, ExcludedTable):
                excluded.append(item)
            else:
                tables.append(item)
                owners[item.name] = plugin
        return cls(tables, excluded, owners=owners)

    def _ordered(self) -> list[str]:
        """Tables so that every referenced table comes first (references outside the catalogue are ignored)."""
        done: list[str] = []
        visiting: set[str] = set()

        def visit(name: str, chain: tuple[str, ...]) -> None:
            if name in done:
                return
            if name in visiting:
                raise ValidationError(
                    "Les tables exportées se référencent en cycle : l'ordre d'import ne peut pas être établi.",
                    detail=" -> ".join((*chain, name)),
                )
            visiting.add(name)
            for target in sorted(set(self.by_name[name].all_references().values())):
                if target != name and target in self.by_name:
                    visit(target, (*chain, name))
            visiting.discard(name)
            done.append(name)

        for name in sorted(self.by_name):
            visit(name, ())
        return done

    def _owner_paths(self, name: str) -> list[OwnerPath]:
        """The ways a row of ``name`` finds its patient, best first: its own ``patient_id``, then the other
        references to patient-owned tables (in column order)."""
        if name == PATIENT:
            return [OwnerPath("id", PATIENT)]
        references = self.by_name[name].all_references()
        paths: list[OwnerPath] = []
        if references.get("patient_id") == PATIENT:
            paths.append(OwnerPath("patient_id", PATIENT))
        for column, target in references.items():
            if column == "patient_id" or target == name or target not in self.by_name:
                continue
            if target == PATIENT or self.paths.get(target):
                paths.append(OwnerPath(column, target))
        return paths

    # --- questions ------------------------------------------------------------------------------------------

    def tables(self) -> list[PortableTable]:
        return [self.by_name[name] for name in self.order]

    def is_patient_owned(self, name: str) -> bool:
        return bool(self.paths[name])

    def owner_expression(
        self, name: str, alias: Any = None, counter: list[int] | None = None
    ) -> tuple[ColumnElement[Any], list[Any]]:
        """The SQL expression of the patient a row of ``name`` belongs to (NULL for a transverse row) and the outer
        joins it needs, from ``alias`` (the table itself by default)."""
        from sqlalchemy import func, null

        counter = [0] if counter is None else counter
        table = self.by_name[name].table
        source = table if alias is None else alias
        paths = self.paths[name]
        if not paths:
            return null(), []
        if name == PATIENT:
            return source.c.id, []
        parts: list[ColumnElement[Any]] = []
        joins: list[Any] = []
        for path in paths:
            if path.target == PATIENT:
                parts.append(source.c[path.column])
                continue
            counter[0] += 1
            target = self.by_name[path.target].table.alias(f"lgo_owner_{counter[0]}")
            joins.append((target, target.c.id == source.c[path.column]))
            inner, inner_joins = self.owner_expression(path.target, target, counter)
            joins.extend(inner_joins)
            parts.append(inner)
        if len(parts) == 1:
            return parts[0], joins
        return func.coalesce(*parts), joins

    def rows_query(self, name: str, pharmacy_id: int, *, window: Window | None = None) -> Select[Any]:
        """The pharmacy's rows of ``name`` with their owner (label ``lgo_owner``), transverse rows first, then by
        patient, then by id; only those of the patients of ``window`` when it is given (and then no transverse
        row)."""
        from sqlalchemy import BigInteger, func, literal

        query, owner = self._select(name, pharmacy_id)
        if window is not None:  # always both bounds: one statement to compile, however many windows
            after, until = literal(window.after, BigInteger()), literal(window.until, BigInteger())
            query = query.where(owner > after, owner <= until)
        return query.order_by(func.coalesce(owner, 0), *self.by_name[name].table.primary_key.columns)

    def transverse_query(self, name: str, pharmacy_id: int) -> Select[Any]:
        """The pharmacy's rows of ``name`` that belong to no patient, by id (``lgo_owner`` is NULL)."""
        query, owner = self._select(name, pharmacy_id)
        if self.is_patient_owned(name):
            query = query.where(owner.is_(None))
        return query.order_by(*self.by_name[name].table.primary_key.columns)

    def _select(self, name: str, pharmacy_id: int) -> tuple[Select[Any], ColumnElement[Any]]:
        """The pharmacy's rows of ``name``, exported columns and their owner (``lgo_owner``), unordered."""
        from sqlalchemy import select

        portable = self.by_name[name]
        table = portable.table
        owner, joins = self.owner_expression(name)
        source: Any = table
        for target, condition in joins:
            source = source.outerjoin(target, condition)
        columns = [table.c[column] for column in portable.exported_columns()]
        query = select(*columns, owner.label("lgo_owner")).select_from(source)
        return query.where(table.c[portable.pharmacy_column] == pharmacy_id), owner


@dataclass(frozen=True)
class Window:
    """The patients whose id is in ``(after, until]``. Consecutive windows from 0 to the largest integer cover every
    id, so a row that points at a patient of another pharmacy still falls in one of them."""

    after: int = 0
    until: int = 2**63 - 1  # the largest integer of SQLite and PostgreSQL (bigint)


def check_declarations(catalogue: Catalogue, own_tables: Iterable[str], existing: Iterable[str] = ()) -> list[str]:
    """Problems of a plugin's declarations (English, for the contract kit): a table of its own neither portable nor
    excluded, a column without a French description, a reference to a table of the database (``existing``) that is
    not exported. A reference to a table that is not there (another plugin's, not installed) is fine: its rows are
    not there either."""
    existing = set(existing)
    problems: list[str] = []
    for name in sorted(own_tables):
        if name not in catalogue.by_name and name not in catalogue.excluded:
            problems.append(f"table {name} is neither a PortableTable nor an ExcludedTable")
    for name in sorted(set(own_tables) & set(catalogue.by_name)):
        table = catalogue.by_name[name]
        if not table.label_fr:
            problems.append(f"table {name} has no French label")
        for column in table.exported_columns():
            if not table.description_fr(column):
                problems.append(f"column {name}.{column} has no French description")
        for column, target in table.all_references().items():
            if target not in catalogue.by_name and (target in existing or not existing):
                problems.append(f"column {name}.{column} points at {target}, which is not exported")
        for column in table.excluded:
            if column not in table.table.c:
                problems.append(f"excluded column {name}.{column} does not exist")
            elif (
                not table.table.c[column].nullable
                and column not in table.import_defaults
                and table.table.c[column].default is None
                and table.table.c[column].server_default is None
            ):
                problems.append(f"excluded column {name}.{column} is required: give it an import default")
    return problems
