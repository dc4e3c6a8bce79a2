"""A counter killed with SIGKILL in the middle of its billings, again and again: the database must keep every
invariant (no partial invoice, gap-free ordonnancier, stock equal to its movements) and lose no billing the counter
saw validated.

A forked child process bills in a loop through :class:`lgo.counter.Counter` and tells the parent ``ok <invoice
number>`` after each validated billing; a quarter of the billings ask for more than the stock holds and are refused
(their numbers must come back). The parent kills it at a random moment once it bills, counts what it acknowledged, and
checks the database with :mod:`lgo.testing.invariants`. ``torn`` mode is a broken writer on purpose: it commits an
invoice, then would write its lines in a second transaction; killed in between, it leaves exactly what the checker
must catch.

Used by ``core/tests/test_crash_during_billing.py`` (a short run on SQLite and PostgreSQL) and by
``benchmarks/crash_billing.py`` (the long run).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from sqlalchemy import func, insert, select

from lgo.db import utcnow
from lgo.demo_data import seed
from lgo.domain.billing import INVOICE, Invoice
from lgo.domain.dispensing import create_prescription
from lgo.domain.products import product_by_cip13
from lgo.domain.sequences import next_number
from lgo.domain.stock import receive
from lgo.kernel import Kernel
from lgo.testing.invariants import Violation, check

#: Seconds a child has to start and validate its first billing.
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Setup:
    """The demo pharmacy prepared for endless billings: a prescription, stock for a long run, a scarce product."""

    pharmacy_id: int
    operator_id: int
    prescription_id: int
    products: tuple[str, ...]
    scarce: str


def prepare(kernel: Kernel, *, units: int = 1_000_000) -> Setup:
    """Seed the demo pharmacy in a migrated database and receive ``units`` of each product the children sell."""
    with kernel.transaction() as session:
        seeded = seed(session)
        prescription = create_prescription(
            session, seeded.pharmacy_id, seeded.patients["jean"], prescriber_name="Dr Panne", prescribed_on=date.today()
        ).id
        for key in ("paracetamol", "levothyroxine", "metformine"):
            product = product_by_cip13(session, seeded.pharmacy_id, seeded.products[key])
            receive(session, seeded.pharmacy_id, product, lot_number="PANNE", expiry=date(2099, 12, 31), quantity=units)
    return Setup(
        pharmacy_id=seeded.pharmacy_id,
        operator_id=seeded.operators["adjoint"],
        prescription_id=prescription,
        products=tuple(seeded.products[k] for k in ("paracetamol", "levothyroxine", "metformine")),
        scarce=seeded.products["tramadol"],
    )


# --- the child ---------------------------------------------------------------------------------------------------


def _bill_forever(kernel: Kernel, setup: Setup, say: Callable[[str], None]) -> None:
    from lgo.counter import Counter
    from lgo.errors import InsufficientStock

    counter = Counter(kernel, setup.pharmacy_id, setup.operator_id)
    rng = random.Random(os.getpid())
    while True:
        billing = counter.start_billing(prescription_id=setup.prescription_id)
        for cip13 in rng.sample(setup.products, rng.randint(1, len(setup.products))):
            counter.add_product(billing, cip13, rng.randint(1, 3))
        if rng.random() < 0.25:
            counter.add_product(billing, setup.scarce, 50)  # more than the stock: refused, nothing written
        try:
            result = counter.end_billing(billing)
        except InsufficientStock:
            say("refused")
            continue
        say(f"ok {result.invoice_number}")


def _torn_writer(kernel: Kernel, setup: Setup, say: Callable[[str], None]) -> None:
    """Broken on purpose: the invoice committed alone, its lines left for a second transaction that never comes."""
    with kernel.transaction() as session:
        number = next_number(session, setup.pharmacy_id, INVOICE)
        session.execute(
            insert(Invoice).values(
                pharmacy_id=setup.pharmacy_id,
                number=number,
                prescription_id=setup.prescription_id,
                operator_id=setup.operator_id,
                total_cents=232,
                amo_cents=151,
                amc_cents=81,
                patient_cents=0,
                validated_at=utcnow(),
            )
        )
    say(f"ok {number}")
    time.sleep(3600)  # the lines would be written now: the parent kills us first


def _child(mode: str, database_url: str, setup: Setup, channel: Connection, parents_end: Connection) -> None:
    """The forked child: a kernel of its own (the parent's connections are not shared), then bill until killed."""
    # Only the parent reads: if it dies (interrupted run), the child's next message fails and the child ends with it.
    parents_end.close()
    kernel = Kernel(database_url, discover_installed=False).start()
    channel.send("ready")
    (_bill_forever if mode == "bill" else _torn_writer)(kernel, setup, channel.send)


# --- the parent --------------------------------------------------------------------------------------------------


@dataclass
class CrashRun:
    kills: int = 0
    #: Billings the children saw validated before they were killed.
    acknowledged: int = 0
    #: Invoices in the database at the end (each kill may add one validated but not yet acknowledged).
    invoices: int = 0
    refused: int = 0
    violations: list[Violation] = field(default_factory=list)
    #: Kills after which fewer invoices were found than acknowledged (a validated billing lost).
    lost: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.lost

    def summary_fr(self) -> str:
        state = "invariants respectés" if self.ok else f"{len(self.violations) + len(self.lost)} problème(s)"
        return (
            f"{self.kills} SIGKILL, {self.acknowledged} facturation(s) confirmée(s), {self.refused} refusée(s) "
            f"(stock), {self.invoices} facture(s) en base : {state}"
        )


def _spawn(mode: str, database_url: str, setup: Setup) -> tuple[BaseProcess, Connection]:
    # Forked, not a fresh interpreter: the child starts at once with the kernel already imported, so a short run in
    # the test suite is mostly billing and killing, not importing.
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(mode, database_url, setup, sender, receiver), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def _next_message(channel: Connection, deadline: float) -> str | None:
    while time.monotonic() < deadline:
        try:
            if channel.poll(0.2):
                return str(channel.recv())
        except (EOFError, OSError):
            return None
    return None


def _invoices(kernel: Kernel, pharmacy_id: int) -> int:
    with kernel.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).where(Invoice.pharmacy_id == pharmacy_id)) or 0)


def kill_during_billing(
    kernel: Kernel,
    setup: Setup,
    *,
    kills: int,
    seed: int = 25,
    mode: str = "bill",
    max_delay: float = 0.3,
    report: Callable[[str], None] = lambda _message: None,
) -> CrashRun:
    """Start a billing child, kill it with SIGKILL ``kills`` times at random moments once it bills, and check the
    invariants after each kill. Stops at the first broken invariant (the database is then kept as it is)."""
    rng = random.Random(seed)
    run = CrashRun(invoices=_invoices(kernel, setup.pharmacy_id))
    for round_ in range(1, kills + 1):
        before = run.invoices
        kernel.engine.dispose()  # no pooled connection crosses the fork
        child, channel = _spawn(mode, kernel.database_url, setup)
        acknowledged = 0
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while (message := _next_message(channel, deadline)) is not None and not message.startswith("ok"):
                run.refused += message == "refused"
            if message is None:
                raise RuntimeError(f"the billing child never billed (exit code {child.exitcode})")
            acknowledged = 1
            time.sleep(rng.uniform(0, max_delay))  # the kill lands anywhere in the next billings
        finally:
            if child.pid is not None:
                os.kill(child.pid, signal.SIGKILL)
            child.join(30)
        while (message := _next_message(channel, time.monotonic() + 0.5)) is not None:
            acknowledged += message.startswith("ok")  # sent before it died: the counter saw it validated
            run.refused += message == "refused"
        channel.close()
        run.kills += 1
        run.acknowledged += acknowledged
        run.invoices = _invoices(kernel, setup.pharmacy_id)
        if run.invoices - before < acknowledged:
            run.lost.append(f"kill {round_}: {acknowledged} billing(s) acknowledged, {run.invoices - before} written")
        run.violations = check(kernel.engine, setup.pharmacy_id)
        report(f"SIGKILL {round_}/{kills} : {run.summary_fr()}")
        if not run.ok:
            break
    return run
