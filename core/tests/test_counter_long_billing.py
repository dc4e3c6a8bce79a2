"""A billing lasts as long as the person at the counter needs (issue 16, point 1).

On SQLite, ``end_billing`` holds the write lock (``BEGIN IMMEDIATE``); a kernel read made inside it on a second
connection (the cached list of active plugins, expired after 5 s) waited 60 s for its own caller's lock, then failed.
The clock is injected: the billing is "held open" without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from lgo.counter import Counter
from lgo.demo_data import Seeded
from lgo.domain.billing import Invoice
from lgo.domain.dispensing import create_prescription
from lgo.domain.outbox import OutboxMessage
from lgo.kernel import ACTIVE_CACHE_SECONDS, Kernel
from sample_plugins import Enqueuer
from sqlalchemy import event, func, select


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def connections_watched(kernel: Kernel) -> Iterator[dict[str, int]]:
    """Counts how many pooled connections are checked out at once."""
    seen = {"now": 0, "max": 0}

    def checkout(*_: Any) -> None:
        seen["now"] += 1
        seen["max"] = max(seen["max"], seen["now"])

    def checkin(*_: Any) -> None:
        seen["now"] -= 1

    event.listen(kernel.engine, "checkout", checkout)
    event.listen(kernel.engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(kernel.engine, "checkout", checkout)
        event.remove(kernel.engine, "checkin", checkin)


def _prescription(kernel: Kernel, seeded: Seeded) -> int:
    with kernel.transaction() as session:
        return create_prescription(
            session, seeded.pharmacy_id, seeded.patients["jean"], prescriber_name="Dr Démo", prescribed_on=date.today()
        ).id


def test_a_billing_held_open_past_the_plugin_cache_ends_at_once_on_one_connection(
    lgo_database_url: str, lgo_seeded: Seeded
) -> None:
    clock = FakeClock()
    kernel = Kernel(lgo_database_url, strict=True, discover_installed=False, extra_plugins=[Enqueuer()], clock=clock)
    kernel.start()
    try:
        kernel.enable(lgo_seeded.pharmacy_id, "enqueuer")
        counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators["adjoint"])
        billing = counter.start_billing(prescription_id=_prescription(kernel, lgo_seeded))
        counter.add_product(billing, lgo_seeded.products["paracetamol"], 1)
        clock.now += ACTIVE_CACHE_SECONDS * 20  # the pharmacist talked with the patient for a while

        with connections_watched(kernel) as seen:
            result = counter.end_billing(billing)

        assert seen["max"] == 1, "end_billing opened a second connection while holding its transaction"
        with kernel.transaction() as session:
            assert session.get(Invoice, result.invoice_id) is not None
            queued = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.plugin == "enqueuer")
            )
            assert queued == 1  # the plugin's in-transaction hook ran, with the billing
    finally:
        kernel.close()


def test_two_counters_on_one_database_wait_for_each_other_and_both_end(
    lgo_database_url: str, lgo_seeded: Seeded
) -> None:
    """Two counters' kernels (each its own engine, as two processes) overlap two billings held open past the plugin
    cache: on SQLite the second waits briefly for the first's lock, and both end."""
    clocks = [FakeClock(), FakeClock()]
    kernels = [
        Kernel(lgo_database_url, strict=True, discover_installed=False, extra_plugins=[Enqueuer()], clock=c).start()
        for c in clocks
    ]
    try:
        kernels[0].enable(lgo_seeded.pharmacy_id, "enqueuer")
        billings = []
        for kernel, who in zip(kernels, ("adjoint", "titulaire"), strict=True):
            counter = Counter(kernel, lgo_seeded.pharmacy_id, lgo_seeded.operators[who])
            billing = counter.start_billing(prescription_id=_prescription(kernel, lgo_seeded))
            counter.add_product(billing, lgo_seeded.products["paracetamol"], 1)
            billings.append((counter, billing))
        for clock in clocks:
            clock.now += ACTIVE_CACHE_SECONDS * 2
        barrier = threading.Barrier(2)
        outcomes: list[Any] = [None, None]

        def end(i: int) -> None:
            barrier.wait()
            try:
                outcomes[i] = billings[i][0].end_billing(billings[i][1])
            except Exception as exc:  # pragma: no cover - what the assertion below reports
                outcomes[i] = exc

        threads = [threading.Thread(target=end, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert all(not isinstance(o, Exception) and o is not None for o in outcomes), outcomes
        assert outcomes[0].invoice_number != outcomes[1].invoice_number
    finally:
        for kernel in kernels:
            kernel.close()
