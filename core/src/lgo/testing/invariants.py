"""The kernel's invariants, checked on a whole database: what must hold after any sequence of billings, crashes,
retries and bulk loads.

* numbering: the ordonnancier and the invoices of each pharmacy are numbered 1..n without a gap or a repeat, and
  the sequence counters stand at n;
* money: an invoice equals the sum of its lines, each share included, and the shares add up to the total;
* stock: every product line sold from a lot has its sale movements (same invoice, lot, units), every sale movement
  belongs to an invoice, and no lot holds fewer than zero units unless a forced sale (with its reason) explains it;
* ordonnancier: an invoice on a prescription has one ordonnancier entry per product line, for its patient;
* audit: each invoice has its ``billing.validated`` entry;
* outbox: each status is coherent (delivered with its date, dead with its error, at most ``max_attempts``);
* scope: a line, a movement, an entry belongs to the pharmacy of its invoice, lot or patient;
* search: the search words of each patient are those of its names.

Each rule is one aggregate query (fast on a pharmacy-year). :func:`check` returns the violations, each in English
for the log; :func:`assert_invariants` raises with all of them. Used by the tests, the workload generator and the
crash benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, String, and_, case, cast, func, or_, select
from sqlalchemy.sql import Select

from lgo.domain.audit import AuditEntry
from lgo.domain.billing import INVOICE, Invoice, InvoiceLine, LineKind
from lgo.domain.dispensing import ORDONNANCIER, Dispensation
from lgo.domain.outbox import OutboxMessage, OutboxStatus
from lgo.domain.patient_search import PatientSearchTerm, rows_of
from lgo.domain.patients import Patient
from lgo.domain.sequences import SequenceCounter
from lgo.domain.stock import Lot, Movement, MovementKind

#: At most this many examples of one broken rule are reported.
EXAMPLES = 5


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


class InvariantError(AssertionError):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(f"{len(violations)} invariant(s) broken:\n" + "\n".join(f"  - {v}" for v in violations))
        self.violations = violations


Rule = Callable[[Connection, int | None], Iterator[Violation]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(func: Rule) -> Rule:
        RULES[name] = func
        return func

    return register


AnySelect = Select[*tuple[Any, ...]]
S = TypeVar("S", bound=AnySelect)


def _scoped(query: S, column: Any, pharmacy_id: int | None) -> S:
    return query if pharmacy_id is None else query.where(column == pharmacy_id)


def _rows(connection: Connection, query: AnySelect) -> list[Any]:
    # The first examples, but no LIMIT in the SQL: with one, PostgreSQL's planner expects violations early and picks a
    # nested loop over two whole tables (minutes on a pharmacy-year), while a sound database has none to find.
    with connection.execute(query) as result:
        return list(result.fetchmany(EXAMPLES))


# --- numbering --------------------------------------------------------------------------------------------------


def _gap_free(
    connection: Connection, pharmacy_id: int | None, rule_name: str, table: Any, sequence: str
) -> Iterator[Violation]:
    numbers = _scoped(
        select(
            table.pharmacy_id,
            func.count().label("n"),
            func.count(table.number.distinct()).label("distinct"),
            func.min(table.number).label("low"),
            func.max(table.number).label("high"),
        ).group_by(table.pharmacy_id),
        table.pharmacy_id,
        pharmacy_id,
    )
    counters = {
        row.pharmacy_id: row.last_value
        for row in connection.execute(
            _scoped(
                select(SequenceCounter.pharmacy_id, SequenceCounter.last_value).where(SequenceCounter.name == sequence),
                SequenceCounter.pharmacy_id,
                pharmacy_id,
            )
        )
    }
    for row in connection.execute(numbers):
        if not (row.low == 1 and row.high == row.n == row.distinct):
            yield Violation(
                rule_name,
                f"pharmacy {row.pharmacy_id}: {row.n} numbers, {row.distinct} distinct, from {row.low} to {row.high}",
            )
        if counters.get(row.pharmacy_id, row.high) != row.high:
            yield Violation(
                rule_name,
                f"pharmacy {row.pharmacy_id}: sequence {sequence!r} at {counters[row.pharmacy_id]}, last number "
                f"{row.high}",
            )


@rule("ordonnancier.gap_free")
def _ordonnancier_numbers(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    yield from _gap_free(connection, pharmacy_id, "ordonnancier.gap_free", Dispensation, ORDONNANCIER)


@rule("invoice.gap_free")
def _invoice_numbers(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    yield from _gap_free(connection, pharmacy_id, "invoice.gap_free", Invoice, INVOICE)


# --- money ------------------------------------------------------------------------------------------------------


@rule("invoice.equals_its_lines")
def _invoice_totals(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    sums = (
        select(
            InvoiceLine.invoice_id,
            func.count().label("lines"),
            func.sum(InvoiceLine.total_cents).label("total"),
            func.sum(InvoiceLine.amo_cents).label("amo"),
            func.sum(InvoiceLine.amc_cents).label("amc"),
            func.sum(InvoiceLine.patient_cents).label("patient"),
            func.max(InvoiceLine.position).label("last_position"),
        )
        .group_by(InvoiceLine.invoice_id)
        .subquery()
    )
    query = _scoped(
        select(Invoice.id, Invoice.number, sums.c.lines)
        .outerjoin(sums, sums.c.invoice_id == Invoice.id)
        .where(
            or_(
                sums.c.lines.is_(None),
                sums.c.total != Invoice.total_cents,
                sums.c.amo != Invoice.amo_cents,
                sums.c.amc != Invoice.amc_cents,
                sums.c.patient != Invoice.patient_cents,
                sums.c.last_position != sums.c.lines,
                Invoice.amo_cents + Invoice.amc_cents + Invoice.patient_cents != Invoice.total_cents,
            )
        ),
        Invoice.pharmacy_id,
        pharmacy_id,
    )
    for row in _rows(connection, query):
        yield Violation("invoice.equals_its_lines", f"invoice {row.id} (n° {row.number}, {row.lines} line(s))")


@rule("invoice_line.amounts")
def _line_amounts(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    query = _scoped(
        select(InvoiceLine.id, InvoiceLine.invoice_id).where(
            or_(
                InvoiceLine.total_cents != InvoiceLine.quantity * InvoiceLine.unit_price_cents,
                InvoiceLine.amo_cents + InvoiceLine.amc_cents + InvoiceLine.patient_cents != InvoiceLine.total_cents,
            )
        ),
        InvoiceLine.pharmacy_id,
        pharmacy_id,
    )
    for row in _rows(connection, query):
        yield Violation("invoice_line.amounts", f"line {row.id} of invoice {row.invoice_id}")


# --- stock ------------------------------------------------------------------------------------------------------


@rule("stock.sales_match_lines")
def _sales_match_lines(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    sold = (
        select(
            InvoiceLine.invoice_id.label("invoice_id"),
            InvoiceLine.lot_id.label("lot_id"),
            func.sum(InvoiceLine.quantity).label("units"),
        )
        .where(InvoiceLine.kind == LineKind.PRODUCT, InvoiceLine.lot_id.is_not(None))
        .group_by(InvoiceLine.invoice_id, InvoiceLine.lot_id)
    )
    moved = (
        select(
            Movement.invoice_id.label("invoice_id"),
            Movement.lot_id.label("lot_id"),
            (-func.sum(Movement.quantity)).label("units"),
        )
        .where(Movement.kind == MovementKind.SALE)
        .group_by(Movement.invoice_id, Movement.lot_id)
    )
    sold_q, moved_q = sold.subquery(), moved.subquery()
    # Both directions: a line without its movement, and a movement without its line.
    for left, right, what in ((sold_q, moved_q, "sold"), (moved_q, sold_q, "moved")):
        query = (
            select(left.c.invoice_id, left.c.lot_id, left.c.units, right.c.units.label("other"))
            .outerjoin(right, and_(right.c.invoice_id == left.c.invoice_id, right.c.lot_id == left.c.lot_id))
            .join(Invoice, Invoice.id == left.c.invoice_id, isouter=True)
            .where(or_(right.c.units.is_(None), right.c.units != left.c.units, left.c.invoice_id.is_(None)))
        )
        query = _scoped(query, Invoice.pharmacy_id, pharmacy_id)
        for row in _rows(connection, query):
            yield Violation(
                "stock.sales_match_lines",
                f"invoice {row.invoice_id}, lot {row.lot_id}: {row.units} unit(s) {what}, {row.other} in return",
            )


@rule("stock.no_unexplained_negative")
def _no_negative_stock(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    query = _scoped(
        select(Lot.id, Lot.lot_number, func.sum(Movement.quantity).label("on_hand"))
        .join(Movement, Movement.lot_id == Lot.id)
        .group_by(Lot.id, Lot.lot_number)
        .having(
            and_(
                func.sum(Movement.quantity) < 0,
                func.sum(case((Movement.forced, 1), else_=0)) == 0,
            )
        ),
        Lot.pharmacy_id,
        pharmacy_id,
    )
    for row in _rows(connection, query):
        yield Violation("stock.no_unexplained_negative", f"lot {row.id} ({row.lot_number}): {row.on_hand} on hand")


@rule("stock.forced_sales_have_a_reason")
def _forced_reason(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    query = _scoped(
        select(Movement.id).where(Movement.forced, func.trim(Movement.reason) == ""), Movement.pharmacy_id, pharmacy_id
    )
    for row in _rows(connection, query):
        yield Violation("stock.forced_sales_have_a_reason", f"movement {row.id}")


# --- ordonnancier -----------------------------------------------------------------------------------------------


@rule("ordonnancier.one_entry_per_prescribed_line")
def _dispensations(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    lines = (
        select(InvoiceLine.invoice_id, func.count().label("n"), func.sum(InvoiceLine.quantity).label("units"))
        .where(InvoiceLine.kind == LineKind.PRODUCT, InvoiceLine.lot_id.is_not(None))
        .group_by(InvoiceLine.invoice_id)
        .subquery()
    )
    entries = (
        select(
            Dispensation.invoice_id,
            func.count().label("n"),
            func.sum(Dispensation.quantity).label("units"),
            func.min(Dispensation.patient_id).label("low_patient"),
            func.max(Dispensation.patient_id).label("high_patient"),
        )
        .where(Dispensation.corrects_id.is_(None))
        .group_by(Dispensation.invoice_id)
        .subquery()
    )
    expected = case(
        (and_(Invoice.prescription_id.is_not(None), Invoice.patient_id.is_not(None)), func.coalesce(lines.c.n, 0)),
        else_=0,
    )
    query = _scoped(
        select(Invoice.id, Invoice.number, expected.label("expected"), entries.c.n)
        .outerjoin(lines, lines.c.invoice_id == Invoice.id)
        .outerjoin(entries, entries.c.invoice_id == Invoice.id)
        .where(
            or_(
                func.coalesce(entries.c.n, 0) != expected,
                and_(entries.c.n.is_not(None), entries.c.units != lines.c.units),
                entries.c.low_patient != Invoice.patient_id,
                entries.c.high_patient != Invoice.patient_id,
            )
        ),
        Invoice.pharmacy_id,
        pharmacy_id,
    )
    for row in _rows(connection, query):
        yield Violation(
            "ordonnancier.one_entry_per_prescribed_line",
            f"invoice {row.id} (n° {row.number}): {row.expected} entries expected, {row.n or 0} written",
        )


# --- audit ------------------------------------------------------------------------------------------------------


@rule("audit.one_entry_per_invoice")
def _audit(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    audited = (
        select(AuditEntry.object_id, func.count().label("n"))
        .where(AuditEntry.action == "billing.validated", AuditEntry.object_type == "invoice")
        .group_by(AuditEntry.object_id)
        .subquery()
    )
    as_text = cast(Invoice.id, String)
    query = _scoped(
        select(Invoice.id, audited.c.n)
        .outerjoin(audited, audited.c.object_id == as_text)
        .where(func.coalesce(audited.c.n, 0) != 1),
        Invoice.pharmacy_id,
        pharmacy_id,
    )
    for row in _rows(connection, query):
        yield Violation("audit.one_entry_per_invoice", f"invoice {row.id}: {row.n or 0} billing.validated entries")


# --- outbox -----------------------------------------------------------------------------------------------------


@rule("outbox.coherent_status")
def _outbox(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    query = _scoped(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts).where(
            or_(
                OutboxMessage.attempts > OutboxMessage.max_attempts,
                and_(OutboxMessage.status == OutboxStatus.DELIVERED, OutboxMessage.delivered_at.is_(None)),
                and_(OutboxMessage.status != OutboxStatus.DELIVERED, OutboxMessage.delivered_at.is_not(None)),
                and_(OutboxMessage.status == OutboxStatus.DEAD, OutboxMessage.last_error.is_(None)),
                and_(OutboxMessage.status == OutboxStatus.IN_FLIGHT, OutboxMessage.lease_until.is_(None)),
                and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.lease_until.is_not(None)),
            )
        ),
        OutboxMessage.pharmacy_id,
        pharmacy_id,
    )
    for row in _rows(connection, query):
        yield Violation("outbox.coherent_status", f"message {row.id}: {row.status}, {row.attempts} attempt(s)")


# --- scope ------------------------------------------------------------------------------------------------------


@rule("scope.same_pharmacy")
def _scope(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    pairs: list[tuple[str, Any, Any, Any]] = [
        ("invoice_line→invoice", InvoiceLine, Invoice, InvoiceLine.invoice_id == Invoice.id),
        ("stock_movement→stock_lot", Movement, Lot, Movement.lot_id == Lot.id),
        ("dispensation→patient", Dispensation, Patient, Dispensation.patient_id == Patient.id),
        ("invoice→patient", Invoice, Patient, Invoice.patient_id == Patient.id),
    ]
    for label, child, parent, join in pairs:
        query = _scoped(
            select(child.id, child.pharmacy_id, parent.pharmacy_id.label("parent_pharmacy"))
            .join(parent, join)
            .where(child.pharmacy_id != parent.pharmacy_id),
            child.pharmacy_id,
            pharmacy_id,
        )
        for row in _rows(connection, query):
            yield Violation(
                "scope.same_pharmacy", f"{label}: row {row.id} in pharmacy {row.pharmacy_id}, {row.parent_pharmacy}"
            )


# --- search words -----------------------------------------------------------------------------------------------


@rule("patient_search.words_match_names")
def _search_words(connection: Connection, pharmacy_id: int | None) -> Iterator[Violation]:
    stored: dict[int, set[tuple[str, str]]] = {}
    terms = _scoped(
        select(PatientSearchTerm.patient_id, PatientSearchTerm.term, PatientSearchTerm.sort_key),
        PatientSearchTerm.pharmacy_id,
        pharmacy_id,
    )
    for patient_id, term, sort_key in connection.execute(terms):
        stored.setdefault(patient_id, set()).add((term, sort_key))
    patients = _scoped(
        select(
            Patient.id,
            Patient.pharmacy_id,
            Patient.birth_name,
            Patient.first_names,
            Patient.used_name,
            Patient.used_first_name,
        ),
        Patient.pharmacy_id,
        pharmacy_id,
    )
    wrong = 0
    for row in connection.execute(patients):
        expected = {(r["term"], r["sort_key"]) for r in rows_of(row)}
        if stored.pop(row.id, set()) != expected:
            wrong += 1
            if wrong <= EXAMPLES:
                yield Violation("patient_search.words_match_names", f"patient {row.id}: search words out of step")
    for patient_id in list(stored)[:EXAMPLES]:
        yield Violation("patient_search.words_match_names", f"words of patient {patient_id}, who is not there")


# --- entry points -----------------------------------------------------------------------------------------------


def check(
    bind: Engine | Connection, pharmacy_id: int | None = None, *, rules: list[str] | None = None
) -> list[Violation]:
    """Every violation of the kernel's invariants (in one pharmacy when given)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return check(connection, pharmacy_id, rules=rules)
    found: list[Violation] = []
    for name, func_ in RULES.items():
        if rules is None or name in rules:
            found.extend(func_(bind, pharmacy_id))
    return found


def assert_invariants(bind: Engine | Connection, pharmacy_id: int | None = None) -> None:
    violations = check(bind, pharmacy_id)
    if violations:
        raise InvariantError(violations)
