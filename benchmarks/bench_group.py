"""A group of pharmacies in one PostgreSQL database: the same pharmacies' everyday queries with 5 pharmacies in the
database, then with 100 (95 more generated alongside). A pharmacy's latency must not depend on how many others share
the database: every query of a pharmacy goes through an index that starts with ``pharmacy_id`` (decision 1401).

The queries are those of a counter and of the back office: a patient found by name, a patient's ordonnancier, the
last page of the ordonnancier, the day's invoices, a product's stock, the audit journal, the outbox summary.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

from lgo.domain import audit, outbox, stock
from lgo.domain.billing import Invoice
from lgo.domain.dispensing import Dispensation
from lgo.domain.patient_search import search
from lgo.domain.patients import Patient
from lgo.domain.products import Product
from lgo.kernel import Kernel
from measure import Result, percentile, progress, thousands
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from workload import Scale, generate


@dataclass(frozen=True)
class Sample:
    """What one pharmacy's queries are about (drawn from its own rows)."""

    pharmacy_id: int
    name_prefixes: list[str]
    patient_ids: list[int]
    product_ids: list[int]
    days: list[datetime]


def _sample(session: Session, pharmacy_id: int, rng: random.Random, size: int) -> Sample:
    def pick(query: Any) -> list[Any]:
        rows = list(session.scalars(query.limit(2000)))
        return [rng.choice(rows) for _ in range(size)] if rows else []

    names = pick(select(Patient.birth_name).where(Patient.pharmacy_id == pharmacy_id))
    patients = pick(select(Dispensation.patient_id).where(Dispensation.pharmacy_id == pharmacy_id))
    products = pick(select(Product.id).where(Product.pharmacy_id == pharmacy_id))
    dates = pick(select(Invoice.validated_at).where(Invoice.pharmacy_id == pharmacy_id))
    return Sample(
        pharmacy_id,
        [name.split("-")[0].split(" ")[0][:4] for name in names],
        patients,
        products,
        [datetime.combine(at.date(), clock(0), tzinfo=UTC) for at in dates],
    )


def _queries() -> dict[str, tuple[str, Callable[[Session, Sample, int], object]]]:
    def by_name(session: Session, s: Sample, i: int) -> object:
        return search(session, s.pharmacy_id, s.name_prefixes[i])

    def patient_history(session: Session, s: Sample, i: int) -> object:
        return session.scalars(
            select(Dispensation)
            .where(Dispensation.pharmacy_id == s.pharmacy_id, Dispensation.patient_id == s.patient_ids[i])
            .order_by(Dispensation.number.desc())
            .limit(50)
        ).all()

    def ordonnancier_page(session: Session, s: Sample, i: int) -> object:
        return session.scalars(
            select(Dispensation)
            .where(Dispensation.pharmacy_id == s.pharmacy_id)
            .order_by(Dispensation.number.desc())
            .limit(50)
        ).all()

    def day_invoices(session: Session, s: Sample, i: int) -> object:
        day = s.days[i]
        return session.execute(
            select(func.count(), func.coalesce(func.sum(Invoice.total_cents), 0)).where(
                Invoice.pharmacy_id == s.pharmacy_id,
                Invoice.validated_at >= day,
                Invoice.validated_at < day + timedelta(days=1),
            )
        ).one()

    def product_stock(session: Session, s: Sample, i: int) -> object:
        return stock.product_on_hand(session, s.product_ids[i])

    def audit_journal(session: Session, s: Sample, i: int) -> object:
        return audit.recent(session, s.pharmacy_id, 50)

    def outbox_summary(session: Session, s: Sample, i: int) -> object:
        return outbox.counts(session, s.pharmacy_id)

    return {
        "patient_search": ("recherche d'un patient par son nom", by_name),
        "patient_history": ("ordonnancier d'un patient (50 dernières lignes)", patient_history),
        "ordonnancier_page": ("dernière page de l'ordonnancier", ordonnancier_page),
        "day_invoices": ("factures d'une journée (nombre, total)", day_invoices),
        "product_stock": ("stock d'un produit (somme des mouvements)", product_stock),
        "audit_journal": ("journal d'audit (50 dernières entrées)", audit_journal),
        "outbox_summary": ("file d'envoi (messages par état)", outbox_summary),
    }


def _latencies(kernel: Kernel, samples: list[Sample], rounds: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {name: [] for name in _queries()}
    for _ in range(rounds):
        for name, (_label, query) in _queries().items():
            for sample in samples:
                for i in range(len(sample.days)):
                    with kernel.reading() as session:
                        start = time.perf_counter()
                        query(session, sample, i)
                        found[name].append(time.perf_counter() - start)
    return found


def bench_group(
    url: str, *, scale: Scale, few: int = 5, many: int = 100, queries: int = 20, rounds: int = 2
) -> list[Result]:
    """Per query: p50 with ``many`` pharmacies in the database / p50 with ``few`` (the same ``few`` pharmacies)."""
    kernel = Kernel(url, discover_installed=False)
    kernel.upgrade_database()
    kernel.start()
    try:
        progress(f"  groupe : {few} officines ({scale.volume_fr()} chacune) dans une base PostgreSQL…")
        years = generate(kernel.engine, scale=scale, pharmacies=few)
        rng = random.Random(2025)
        with kernel.reading() as session:
            samples = [_sample(session, year.pharmacy_id, rng, queries) for year in years]
        _latencies(kernel, samples, 1)  # warm the caches
        alone = _latencies(kernel, samples, rounds)
        progress(f"  groupe : {many - few} officines de plus dans la même base…")
        generate(kernel.engine, scale=scale, pharmacies=many - few, first_index=few + 1, report=_every(10))
        _latencies(kernel, samples, 1)
        crowded = _latencies(kernel, samples, rounds)
        with kernel.reading() as session:
            lines = session.scalar(select(func.count()).select_from(Dispensation)) or 0
    finally:
        kernel.close()
    volume = f"{few} puis {many} officines de {scale.volume_fr()} ; {thousands(lines)} lignes d'ordonnancier en tout"
    results = []
    for name, (label, _query) in _queries().items():
        subject, baseline = percentile(crowded[name], 0.5), percentile(alone[name], 0.5)
        progress(f"    {label} : p50 {baseline * 1000:.2f} ms à {few}, {subject * 1000:.2f} ms à {many}")
        results.append(
            Result(
                f"group_latency_{name}",
                f"Requête d'une officine, {label} (p50) : {many} officines dans la base / {few}",
                volume,
                subject,
                baseline,
                len(crowded[name]),
            )
        )
    return results


def _every(step: int) -> Callable[[str], None]:
    seen = {"n": 0}

    def report(message: str) -> None:
        if message.startswith("Officine") and "écrite" in message:
            seen["n"] += 1
            if seen["n"] % step == 0:
                progress(f"    {message}")

    return report
