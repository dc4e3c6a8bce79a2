"""Real concurrency: several counters (threads with their own connections) on one database."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain import stock
from lgo.domain.billing import Invoice
from lgo.domain.dispensing import Dispensation, create_prescription
from lgo.errors import InsufficientStock
from lgo.kernel import Kernel
from sqlalchemy import select


def _run_together(workers: list[Callable[[], Any]]) -> list[Any]:
    """Start every worker at the same instant (barrier) and collect each result or exception."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = workers[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _prescription(kernel: Kernel, seeded: Seeded) -> int:
    with kernel.transaction() as session:
        return create_prescription(
            session, seeded.pharmacy_id, seeded.patients["jean"], prescriber_name="Dr Démo", prescribed_on=date.today()
        ).id


@pytest.mark.parametrize("round_", range(3))
def test_two_counters_selling_the_last_unit_exactly_one_succeeds(
    lgo_kernel: Kernel, lgo_seeded: Seeded, round_: int
) -> None:
    prescription = _prescription(lgo_kernel, lgo_seeded)
    counters = [
        Counter(lgo_kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators[who]) for who in ("adjoint", "titulaire")
    ]
    billings = []
    for counter in counters:
        billing = counter.start_billing(prescription_id=prescription)
        counter.add_product(billing, lgo_seeded.products["tramadol"], 1)  # the lot holds exactly one unit
        billings.append(billing)

    results = _run_together([lambda c=c, b=b: c.end_billing(b) for c, b in zip(counters, billings, strict=True)])

    successes = [r for r in results if not isinstance(r, Exception)]
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(successes) == 1, results
    assert len(failures) == 1 and isinstance(failures[0], InsufficientStock), failures
    with lgo_kernel.transaction() as session:
        assert stock.on_hand(session, lgo_seeded.lots["TR24D"]) == 0
        assert len(session.scalars(select(Invoice)).all()) == 1


def test_ordonnancier_numbers_have_no_gap_under_concurrent_billings(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    prescription = _prescription(lgo_kernel, lgo_seeded)
    per_counter, counters = 5, 6

    def sell_many(i: int) -> list[int]:
        counter = Counter(lgo_kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"])
        numbers: list[int] = []
        for j in range(per_counter):
            billing = counter.start_billing(prescription_id=prescription)
            counter.add_product(billing, lgo_seeded.products["levothyroxine" if j % 2 else "paracetamol"], 1)
            if (i + j) % 3 == 0:  # some billings fail after taking their numbers: the numbers must come back
                counter.add_product(billing, lgo_seeded.products["tramadol"], 50)
            with contextlib.suppress(InsufficientStock):
                numbers.extend(counter.end_billing(billing).dispensation_numbers)
        return numbers

    results = _run_together([lambda i=i: sell_many(i) for i in range(counters)])
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(n for r in results for n in r)
    assert numbers == list(range(1, len(numbers) + 1))
    with lgo_kernel.transaction() as session:
        stored = sorted(session.scalars(select(Dispensation.number)))
        invoices = sorted(session.scalars(select(Invoice.number)))
    assert stored == numbers
    assert invoices == list(range(1, len(invoices) + 1))
