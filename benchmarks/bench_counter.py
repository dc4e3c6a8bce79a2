"""The counter: billing through its API against raw inserts of the same rows, with the Ségur plugins against the
kernel alone, sending by MSSanté against raw queuing, an event to 8 plugins against bare pluggy, and several
counters billing at once against one."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pluggy
from lgo import PROJECT, hookimpl, hookspecs
from lgo.counter import Counter
from lgo.demo_data import seed
from lgo.domain.audit import AuditEntry
from lgo.domain.billing import INVOICE, Invoice, InvoiceLine, compute_shares
from lgo.domain.dispensing import ORDONNANCIER, Dispensation, create_prescription
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import Operator, Role
from lgo.domain.products import Product, product_by_cip13
from lgo.domain.sequences import SequenceCounter, next_numbers
from lgo.domain.stock import Movement, on_hand, receive
from lgo.errors import InsufficientStock
from lgo.events import BillingEnded
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from measure import Result, best_of, paired, progress, thousands
from sqlalchemy import case, func, insert, select, update

# --- billing through the counter API against raw Core inserts --------------------------------------------------

_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class BillingContext:
    """What one billing needs in an existing database: a pharmacy's pharmacist, patient, prescription and a lot."""

    pharmacy_id: int
    operator_id: int
    patient_id: int
    prescription_id: int
    product_id: int
    cip13: str
    lot_id: int
    lot_number: str
    price_cents: int
    reimbursement_rate: int
    complementary_rate: int


def prepare_billing(
    kernel: Kernel, pharmacy_id: int, units: int, lot_number: str = "BANC-1", product_rank: int = 0
) -> BillingContext:
    """A prescription for one of the pharmacy's patients and a lot of ``units`` boxes of a reimbursed product (the
    ``product_rank``-th one, so that several counters may sell different products)."""
    with kernel.transaction() as session:
        operator = session.scalars(
            select(Operator)
            .where(Operator.pharmacy_id == pharmacy_id, Operator.role.in_([Role.TITULAIRE, Role.ADJOINT]))
            .order_by(Operator.id)
        ).first()
        patient = session.scalars(
            select(Patient).where(Patient.pharmacy_id == pharmacy_id).order_by(Patient.id)
        ).first()
        products = session.scalars(
            select(Product)
            .where(Product.pharmacy_id == pharmacy_id, Product.reimbursement_rate > 0)
            .order_by(Product.id)
        ).all()
        product = products[product_rank % len(products)] if products else None
        assert operator is not None and patient is not None and product is not None, "empty pharmacy"
        prescription = create_prescription(
            session, pharmacy_id, patient.id, prescriber_name="Dr Banc", prescribed_on=date.today()
        )
        lot = receive(session, pharmacy_id, product, lot_number=lot_number, expiry=date(2099, 1, 1), quantity=units)
        return BillingContext(
            pharmacy_id=pharmacy_id,
            operator_id=operator.id,
            patient_id=patient.id,
            prescription_id=prescription.id,
            product_id=product.id,
            cip13=product.cip13,
            lot_id=lot.id,
            lot_number=lot_number,
            price_cents=product.price_cents,
            reimbursement_rate=product.reimbursement_rate,
            complementary_rate=patient.complementary_rate,
        )


def bill_through_counter(kernel: Kernel, context: BillingContext, billings: int) -> None:
    counter = Counter(kernel, context.pharmacy_id, context.operator_id)
    for _ in range(billings):
        billing = counter.start_billing(prescription_id=context.prescription_id)
        counter.add_product(billing, context.cip13, 1, lot_number=context.lot_number)
        counter.add_product(billing, context.cip13, 1, lot_number=context.lot_number)
        counter.end_billing(billing)


def bill_with_raw_inserts(kernel: Kernel, context: BillingContext, billings: int) -> None:
    """The rows of :func:`bill_through_counter` (invoice, 2 lines, 2 movements, 2 ordonnancier entries, the audit
    entry and the numbering), each written by one SQLAlchemy Core statement in one transaction per billing. The
    numbers are the database's own, so that the data stays valid for the measures that follow."""
    with kernel.engine.connect() as connection:
        counters = dict(
            connection.execute(
                select(SequenceCounter.name, SequenceCounter.last_value).where(
                    SequenceCounter.pharmacy_id == context.pharmacy_id
                )
            ).all()
        )
    invoice_number, entry_number = counters.get(INVOICE, 0), counters.get(ORDONNANCIER, 0)
    share = compute_shares(context.price_cents, context.reimbursement_rate, context.complementary_rate)
    bump = (
        update(SequenceCounter)
        .where(SequenceCounter.pharmacy_id == context.pharmacy_id, SequenceCounter.name.in_([INVOICE, ORDONNANCIER]))
        .values(last_value=SequenceCounter.last_value + case((SequenceCounter.name == INVOICE, 1), else_=2))
    )
    for _ in range(billings):
        invoice_number += 1
        with kernel.engine.begin() as connection:
            connection.execute(bump)
            now = datetime.now(UTC)
            invoice_id = connection.execute(
                insert(Invoice).values(
                    pharmacy_id=context.pharmacy_id,
                    number=invoice_number,
                    patient_id=context.patient_id,
                    prescription_id=context.prescription_id,
                    operator_id=context.operator_id,
                    total_cents=2 * share.total_cents,
                    amo_cents=2 * share.amo_cents,
                    amc_cents=2 * share.amc_cents,
                    patient_cents=2 * share.patient_cents,
                    validated_at=now,
                )
            ).inserted_primary_key[0]
            for position in (1, 2):
                entry_number += 1
                connection.execute(
                    insert(InvoiceLine).values(
                        pharmacy_id=context.pharmacy_id,
                        invoice_id=invoice_id,
                        position=position,
                        kind="product",
                        product_id=context.product_id,
                        lot_id=context.lot_id,
                        label="x",
                        quantity=1,
                        unit_price_cents=context.price_cents,
                        reimbursement_rate=context.reimbursement_rate,
                        total_cents=share.total_cents,
                        amo_cents=share.amo_cents,
                        amc_cents=share.amc_cents,
                        patient_cents=share.patient_cents,
                    )
                )
                connection.execute(
                    insert(Movement).values(
                        pharmacy_id=context.pharmacy_id,
                        lot_id=context.lot_id,
                        quantity=-1,
                        kind="sale",
                        forced=False,
                        reason="",
                        operator_id=context.operator_id,
                        invoice_id=invoice_id,
                        at=now,
                    )
                )
                connection.execute(
                    insert(Dispensation).values(
                        pharmacy_id=context.pharmacy_id,
                        number=entry_number,
                        prescription_id=context.prescription_id,
                        patient_id=context.patient_id,
                        product_id=context.product_id,
                        lot_id=context.lot_id,
                        quantity=1,
                        operator_id=context.operator_id,
                        invoice_id=invoice_id,
                        validated_at=now,
                        correction_reason="",
                    )
                )
            connection.execute(
                insert(AuditEntry).values(
                    pharmacy_id=context.pharmacy_id,
                    at=now,
                    actor="kernel",
                    action="billing.validated",
                    message_fr="x",
                    operator_id=context.operator_id,
                    patient_id=context.patient_id,
                    object_type="invoice",
                    object_id=str(invoice_id),
                    details={},
                )
            )


def bench_billing(
    kernel: Kernel, pharmacy_id: int, billings: int, *, rounds: int, backend: str, volume_fr: str
) -> Result:
    """Billing through the counter API against raw Core inserts, in alternating rounds on the same database."""
    progress(f"  facturation ({backend}) : {billings} facturations par l'API du comptoir et autant en Core brut…")
    context = prepare_billing(kernel, pharmacy_id, units=4 * billings * (rounds + 1))
    per_round = max(1, billings // rounds)
    bill_through_counter(kernel, context, 2)  # warm the caches (compiled statements, active plugins)
    subject, baseline = paired(
        rounds,
        lambda: bill_through_counter(kernel, context, per_round),
        lambda: bill_with_raw_inserts(kernel, context, per_round),
    )
    return Result(
        f"billing_throughput_{backend}",
        f"Facturation par l'API du comptoir / insertions Core brutes des mêmes lignes ({_LABELS[backend]})",
        volume_fr,
        subject,
        baseline,
        per_round,
        target=2.0,
    )


# --- several counters at once -------------------------------------------------------------------------------


def _counter_process(
    url: str, pharmacy_id: int, operator_id: int, context: BillingContext, scarce: tuple[str, str], seconds: float,
    barrier: Any, results: Any, index: int,
) -> None:  # fmt: skip
    """One counter (a process of its own, as at a real counter): bills its own product for ``seconds``; one billing in
    four also asks for one box of the scarce product that every counter sells, which runs out."""
    os.environ.setdefault("LGO_HOME", str(Path.home()))
    kernel = Kernel(url, discover_installed=False)
    kernel.start()
    counter = Counter(kernel, pharmacy_id, operator_id)
    billed = refused = 0
    barrier.wait()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        billing = counter.start_billing(prescription_id=context.prescription_id)
        counter.add_product(billing, context.cip13, 1, lot_number=context.lot_number)
        if (billed + refused) % 4:
            counter.add_product(billing, context.cip13, 1, lot_number=context.lot_number)
            counter.end_billing(billing)
            billed += 1
            continue
        counter.add_product(billing, scarce[0], 1, lot_number=scarce[1])
        try:
            counter.end_billing(billing)
            billed += 1
        except InsufficientStock:
            refused += 1  # the last box went to another counter: this billing is taken again without it
            billing.lines.pop()
            counter.end_billing(billing)
            billed += 1
    results.put((index, billed, refused, time.perf_counter() - start))
    kernel.close()


def bench_concurrent_counters(
    kernel: Kernel, pharmacy_id: int, *, counters: int, seconds: float, scarce_units: int, volume_fr: str
) -> Result:
    """``counters`` processes billing at once on PostgreSQL against one alone: seconds per billing of all of them
    together / of one (below 1: they bill faster together). Each billing asks for one box of a product of which only
    ``scarce_units`` exist: exactly that many are sold, never one more."""
    progress(f"  comptoirs simultanés : 1 puis {counters} comptoirs facturent pendant {seconds:g} s chacun…")
    contexts = [
        prepare_billing(kernel, pharmacy_id, units=10**6, lot_number=f"BANC-CONC-{i}", product_rank=i)
        for i in range(counters)
    ]
    with kernel.transaction() as session:
        operators = list(
            session.scalars(select(Operator.id).where(Operator.pharmacy_id == pharmacy_id).order_by(Operator.id))
        )
    spawn = multiprocessing.get_context("spawn")

    def run(count: int, scarce_lot: str) -> tuple[int, float, int]:
        with kernel.transaction() as session:
            sold_by_counters = {c.product_id for c in contexts}
            other = session.scalars(
                select(Product)
                .where(Product.pharmacy_id == pharmacy_id, Product.id.not_in(sold_by_counters))
                .order_by(Product.id)
            ).first()
            assert other is not None
            lot = receive(
                session, pharmacy_id, other, lot_number=scarce_lot, expiry=date(2099, 1, 1), quantity=scarce_units
            )
            scarce_cip, scarce_lot_id = other.cip13, lot.id
        barrier, results = spawn.Barrier(count), spawn.Queue()
        processes = [
            spawn.Process(
                target=_counter_process,
                args=(
                    kernel.database_url,
                    pharmacy_id,
                    operators[i % len(operators)],
                    contexts[i],
                    (scarce_cip, scarce_lot),
                    seconds,
                    barrier,
                    results,
                    i,
                ),
            )
            for i in range(count)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=seconds + 300) for _ in processes]
        for process in processes:
            process.join(60)
        billed = sum(o[1] for o in outcomes)
        elapsed = max(o[3] for o in outcomes)
        with kernel.transaction() as session:
            left = on_hand(session, scarce_lot_id)
            sold = -int(
                session.scalar(
                    select(func.coalesce(func.sum(Movement.quantity), 0)).where(
                        Movement.lot_id == scarce_lot_id, Movement.quantity < 0
                    )
                )
                or 0
            )
        if left < 0 or sold > scarce_units:
            raise AssertionError(f"oversold: {sold} sold of {scarce_units}, {left} left")
        return billed, elapsed, sold

    alone, alone_seconds, _ = run(1, "BANC-RARE-1")
    together, together_seconds, sold = run(counters, f"BANC-RARE-{counters}")
    progress(
        f"    1 comptoir : {alone} facturations ; {counters} comptoirs : {together} facturations ; "
        f"dernières boîtes : {sold} vendues sur {scarce_units}, aucune de trop"
    )
    return Result(
        "concurrent_counters",
        f"{counters} comptoirs simultanés / 1 comptoir : secondes par facturation (débit inverse), "
        f"dernière boîte jamais survendue ({sold}/{scarce_units})",
        volume_fr,
        together_seconds / together,
        alone_seconds / alone,
        together,
    )


# --- billing with the Ségur plugins -------------------------------------------------------------------------


def bench_segur_billing(billings: int, workdir: Path) -> Result:
    """The counter with every installed wave-1 plugin active against the kernel alone: the plugins must defer
    their national-service work to the outbox, so the ratio shows what they add to the pharmacist's wait."""

    def prepare(discover: bool, name: str) -> tuple[Kernel, Any, int, int]:
        kernel = Kernel(f"sqlite:///{workdir / name}", discover_installed=discover)
        kernel.upgrade_database()
        kernel.start()
        with kernel.transaction() as session:
            seeded = seed(session)
            prescription = create_prescription(
                session,
                seeded.pharmacy_id,
                seeded.patients["jean"],
                prescriber_name="Dr Banc",
                prescribed_on=date.today(),
            ).id
            for key in ("paracetamol", "grippe"):
                product = product_by_cip13(session, seeded.pharmacy_id, seeded.products[key])
                receive(
                    session,
                    seeded.pharmacy_id,
                    product,
                    lot_number=f"BENCH-{key}",
                    expiry=date(2099, 1, 1),
                    quantity=20 * billings,
                )
        for info in kernel.registry.loaded():
            if info.wave == 1:
                kernel.enable(seeded.pharmacy_id, info.name, with_dependencies=True)
        return kernel, seeded, prescription, len(kernel.active_plugins(seeded.pharmacy_id))

    def bill(kernel: Kernel, seeded: Any, prescription: int, count: int) -> None:
        counter = Counter(kernel, seeded.pharmacy_id, seeded.operators["titulaire"])
        for _ in range(count):
            billing = counter.start_billing(patient_id=seeded.patients["jean"], prescription_id=prescription)
            counter.add_product(billing, seeded.products["paracetamol"], 1, lot_number="BENCH-paracetamol")
            counter.add_product(billing, seeded.products["grippe"], 1, lot_number="BENCH-grippe")
            counter.end_billing(billing)

    progress(f"  comptoir Ségur : {billings} facturations avec les modules vague 1 actifs, puis noyau seul…")
    segur = prepare(True, "segur.sqlite")
    alone = prepare(False, "alone.sqlite")
    rounds = 3
    per_round = max(1, billings // rounds)
    subject, baseline = paired(
        rounds, lambda: bill(*segur[:3], per_round), lambda: bill(*alone[:3], per_round)
    )  # fmt: skip
    for kernel in (segur[0], alone[0]):
        kernel.close()
    return Result(
        "segur_billing",
        f"Facturation avec les {segur[3]} modules Ségur actifs / noyau seul (même facturation)",
        "officine de démonstration, SQLite",
        subject,
        baseline,
        per_round,
    )


# --- sending a document by MSSanté -------------------------------------------------------------------------


def bench_mssante_send(sends: int, workdir: Path) -> Result | None:
    """What the pharmacist waits for when sending a document by MSSanté (checks, then queuing: the mail server is
    the worker's business) against queuing the same outbox message directly."""
    try:
        import lgo_mssante.plugin
        from lgo_mssante import accounts, service
        from lgo_sandbox.mss.documents import validated_bpm
    except ImportError:
        progress("  MSSanté : module absent, mesure ignorée.")
        return None
    from lgo.domain import outbox
    from lgo.testing.fakes import FakeIdentityPlugin

    identity = FakeIdentityPlugin("ins")
    kernel = Kernel(
        f"sqlite:///{workdir / 'mssante.sqlite'}",
        discover_installed=False,
        extra_plugins=(lgo_mssante.plugin, identity),
    )
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
    pharmacy, pharmacist, patient = seeded.pharmacy_id, seeded.operators["titulaire"], seeded.patients["camille"]
    for name in ("ins", "mssante"):
        kernel.enable(pharmacy, name)
    kernel.select_provider(pharmacy, "mssante", "organisationnelle")
    box = accounts.add_organisational(
        kernel, pharmacy, address="officine@banc.mssante.fr", login="officine@banc.mssante.fr", password="banc"
    )
    accounts.set_habilitation(kernel, pharmacy, box, pharmacist, "Utilisateur")
    identity.qualify(kernel, pharmacy, patient)
    document = validated_bpm(kernel, pharmacy, patient, pharmacist)

    def send() -> None:
        for _ in range(sends):
            service.send_documents(
                kernel,
                pharmacy,
                pharmacist,
                patient,
                [document],
                professionals=["medecin@banc.mssante.fr"],
                to_patient=True,
            )

    def enqueue() -> None:
        for _ in range(sends):
            with kernel.transaction() as session:
                outbox.enqueue(
                    session,
                    pharmacy,
                    plugin="mssante",
                    kind="banc.send",
                    payload={"documents": [document], "recipients": ["medecin@banc.mssante.fr"]},
                )

    progress(f"  MSSanté : {sends} envois mis en file, puis {sends} messages de file bruts…")
    subject, baseline = paired(3, send, enqueue)
    kernel.close()
    return Result(
        "mssante_send",
        "Envoi d'un document par MSSanté au comptoir (contrôles + mise en file) / mise en file brute du même message",
        "officine de démonstration, SQLite",
        subject,
        baseline,
        sends,
    )


# --- event dispatch ----------------------------------------------------------------------------------------


class Trivial:
    def __init__(self, index: int) -> None:
        self.MANIFEST = Manifest(name=f"trivial_{index}", plugin_api=">=2.0,<3")

    @hookimpl
    def lgo_on_billing_end(self, kernel: Any, event: Any) -> None:
        return None


def bench_dispatch(calls: int, workdir: Path) -> Result:
    progress(f"  événements : {calls} appels avec 8 plugins actifs, par le noyau puis par pluggy nu…")
    plugins = [Trivial(i) for i in range(8)]
    kernel = Kernel(f"sqlite:///{workdir / 'dispatch.sqlite'}", discover_installed=False, extra_plugins=plugins)
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        pharmacy = seed(session).pharmacy_id
    for plugin in plugins:
        kernel.enable(pharmacy, plugin.MANIFEST.name)
    event = BillingEnded(pharmacy, 1, "b", 1, 1, None, None, (), 0, datetime.now(UTC))
    kernel.active_plugins(pharmacy)  # warm the per-pharmacy cache, as a running counter has it

    def through_kernel() -> None:
        for _ in range(calls):
            kernel.hooks.on_billing_end(event)

    bare = pluggy.PluginManager(PROJECT)
    bare.add_hookspecs(hookspecs)
    for plugin in [Trivial(i) for i in range(8)]:
        bare.register(plugin)

    def bare_pluggy() -> None:
        for _ in range(calls):
            bare.hook.lgo_on_billing_end(kernel=kernel, event=event)

    subject, baseline = paired(5, through_kernel, bare_pluggy)
    kernel.close()
    return Result(
        "event_dispatch",
        "Événement isolé plugin par plugin (8 plugins) / appel pluggy nu",
        f"{thousands(calls)} appels",
        subject,
        baseline,
        calls,
        target=2.0,
    )


__all__ = [
    "BillingContext",
    "bench_billing",
    "bench_concurrent_counters",
    "bench_dispatch",
    "bench_mssante_send",
    "bench_segur_billing",
    "best_of",
    "bill_through_counter",
    "bill_with_raw_inserts",
    "next_numbers",
    "prepare_billing",
]
