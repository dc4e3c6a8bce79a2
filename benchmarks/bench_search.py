"""Patient search at the counter on a generated file: the kernel's search against a raw indexed SQL query of the same
criteria, p50 and p99, at two sizes of file, on SQLite and PostgreSQL.

The subject is :func:`lgo.domain.patient_search.search` as the counter calls it (a reading unit of work, patients
loaded as objects); the baseline is the query a developer would write by hand with an index on the same column
(birth name by prefix, birth date, NIR) returning the same rows. What is typed is drawn from the file: the
beginning of a birth name, a birth name and the beginning of a first name, a birth date, a carte Vitale NIR.
A third ratio, the kernel's p50 on the large file against the small one, shows that the cost does not grow with the
number of patients.

    .venv/bin/python benchmarks/bench_search.py [--quick]     # alone; run.py calls :func:`bench_search`
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lgo.domain.patient_search import search
from lgo.domain.patients import Patient
from lgo.kernel import Kernel
from measure import Result, percentile, progress, thousands
from sqlalchemy import Engine, select, text
from workload import Scale, generate

#: A file of patients and little else: the search reads only patients and their search words.
PATIENTS_ONLY = Scale(patients=0, invoices=20, lines=40, vaccinations=1, documents=1, products=40)


@dataclass(frozen=True)
class Typed:
    """One search: what the pharmacist types, and the raw query's criteria for the same patients."""

    text: str
    kind: str
    raw: str
    params: dict[str, Any]


def _next_prefix(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _queries(engine: Engine, pharmacy_id: int, count: int, seed: int) -> list[Typed]:
    """Searches drawn from the file, a quarter of each kind."""
    rng = random.Random(seed)
    collate = ' COLLATE "C"' if engine.dialect.name == "postgresql" else ""
    columns = "id, pharmacy_id, birth_name, first_names, used_first_name, used_name, sex, birth_date, " + (
        "birth_place_code, vitale_nir, vitale_rank, complementary_rate, created_at, updated_at"
    )
    everything = f"SELECT {columns} FROM patient WHERE pharmacy_id = :pharmacy"
    by_name = (
        f"SELECT {columns} FROM patient WHERE pharmacy_id = :pharmacy AND birth_name{collate} >= :low "
        f"AND birth_name{collate} < :high ORDER BY birth_name{collate}, id LIMIT 20"
    )
    with engine.connect() as connection:
        people = connection.execute(
            select(Patient.birth_name, Patient.first_names, Patient.birth_date_text, Patient.vitale_nir)
            .where(Patient.pharmacy_id == pharmacy_id)
            .order_by(Patient.id)
        ).all()
    typed: list[Typed] = []
    for n in range(count):
        person = rng.choice(people)
        kind = ("nom", "nom prénom", "date", "NIR")[n % 4]
        name = person.birth_name.split(" ")[0].split("-")[0]
        if (
            kind == "nom"
            or (kind == "NIR" and not person.vitale_nir)
            or (kind == "date" and "-00" in person.birth_date)
        ):
            prefix = name[: max(3, min(len(name), 5))]
            low = prefix
            typed.append(
                Typed(prefix.lower(), "nom", by_name, {"pharmacy": pharmacy_id, "low": low, "high": _next_prefix(low)})
            )
        elif kind == "nom prénom":
            first = person.first_names.split(" ")[0][:3]
            raw = by_name.replace(
                "ORDER BY", f"AND first_names{collate} >= :first AND first_names{collate} < :first_high ORDER BY"
            )
            params = {
                "pharmacy": pharmacy_id,
                "low": name,
                "high": _next_prefix(name),
                "first": first,
                "first_high": _next_prefix(first),
            }
            typed.append(Typed(f"{name.lower()} {first.lower()}", kind, raw, params))
        elif kind == "date":
            year, month, day = person.birth_date.split("-")
            raw = f"{everything} AND birth_date = :born ORDER BY id LIMIT 20"
            typed.append(
                Typed(f"{day}/{month}/{year}", kind, raw, {"pharmacy": pharmacy_id, "born": person.birth_date})
            )
        else:
            raw = f"{everything} AND vitale_nir = :nir ORDER BY id LIMIT 20"
            typed.append(Typed(person.vitale_nir, kind, raw, {"pharmacy": pharmacy_id, "nir": person.vitale_nir}))
    return typed


def _baseline_index(engine: Engine) -> None:
    """The hand-written query's own index (the kernel's indexes serve the birth date and the NIR)."""
    collate = ' COLLATE "C"' if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS banc_patient_birth_name ON patient (pharmacy_id, birth_name{collate})")
        )
        connection.execute(text("ANALYZE"))


@dataclass
class Timings:
    subject: list[float]
    baseline: list[float]


def _time(kernel: Kernel, pharmacy_id: int, queries: Sequence[Typed], rounds: int) -> Timings:
    today = date.today()
    timings = Timings([], [])
    for _ in range(rounds):
        for query in queries:
            # Alternate subject and baseline query by query: a busy moment of the machine hits both alike.
            start = time.perf_counter()
            with kernel.reading() as session:
                found = search(session, pharmacy_id, query.text, today=today)
            timings.subject.append(time.perf_counter() - start)
            start = time.perf_counter()
            with kernel.engine.connect() as connection:
                rows = connection.execute(text(query.raw), query.params).all()
            timings.baseline.append(time.perf_counter() - start)
            if not found or not rows:
                raise AssertionError(f"search {query.text!r} ({query.kind}) found nothing: the measure is wrong")
    return timings


def file_of(database_url: str, patients: int, *, seed: int = 2025) -> tuple[Kernel, int]:
    """A migrated database holding one pharmacy with ``patients`` patients (and a few sales)."""
    kernel = Kernel(database_url, discover_installed=False)
    kernel.upgrade_database()
    kernel.start()
    (year,) = generate(
        kernel.engine,
        scale=dataclasses.replace(PATIENTS_ONLY, patients=patients),
        seed=seed,
        report=progress,
    )
    _baseline_index(kernel.engine)
    return kernel, year.pharmacy_id


def bench_search(
    database_url: Callable[[str], str | None],
    *,
    sizes: Sequence[int] = (30_000, 300_000),
    queries: int = 200,
    rounds: int = 3,
) -> list[Result]:
    """Per backend and size: ``patient_search_p50`` and ``patient_search_p99`` (kernel against raw SQL); per backend:
    ``patient_search_growth`` (the kernel's p50 on the largest file against the smallest). ``database_url(backend)``
    gives a fresh database, or ``None`` when that backend is not available."""
    results: list[Result] = []
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        medians: dict[int, float] = {}
        for size in sizes:
            url = database_url(backend)
            if url is None:
                break
            progress(f"  recherche de patients : fichier de {thousands(size)} patients ({label})…")
            kernel, pharmacy_id = file_of(url, size)
            try:
                typed = _queries(kernel.engine, pharmacy_id, queries, seed=size)
                _time(kernel, pharmacy_id, typed[:20], 1)  # warm the caches and the statement cache
                timings = _time(kernel, pharmacy_id, typed, rounds)
            finally:
                kernel.close()
            volume = f"{thousands(size)} patients, {label}, {len(typed)} recherches × {rounds}"
            for name, fraction in (("p50", 0.5), ("p99", 0.99)):
                results.append(
                    Result(
                        f"patient_search_{name}_{backend}_{size}",
                        f"Recherche de patient ({name}) : noyau / requête SQL indexée brute des mêmes critères",
                        volume,
                        percentile(timings.subject, fraction),
                        percentile(timings.baseline, fraction),
                        len(timings.subject),
                    )
                )
            medians[size] = percentile(timings.subject, 0.5)
        if len(medians) == len(sizes) and len(sizes) > 1:
            small, large = min(sizes), max(sizes)
            results.append(
                Result(
                    f"patient_search_growth_{backend}",
                    f"Recherche de patient (p50 du noyau) : {thousands(large)} patients / {thousands(small)} patients",
                    f"{label}, ×{large // small} patients",
                    medians[large],
                    medians[small],
                    queries * rounds,
                )
            )
    return results


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Recherche de patients : noyau contre SQL brut.")
    parser.add_argument("--quick", action="store_true", help="petits fichiers (vérifie que tout fonctionne)")
    args = parser.parse_args(argv)
    sizes, queries = ((300, 3000), 40) if args.quick else ((30_000, 300_000), 200)
    from lgo.testing.postgres import PostgresServer

    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as server:
        made = iter(range(1000))

        def database_url(backend: str) -> str:
            n = next(made)
            return f"sqlite:///{tmp}/search-{n}.sqlite" if backend == "sqlite" else server.create_database(f"s{n}")

        for result in bench_search(database_url, sizes=sizes, queries=queries):
            print(
                f"{result.name}: {result.ratio:.2f} ({result.subject_seconds * 1000:.2f} ms / "
                f"{result.baseline_seconds * 1000:.2f} ms, {result.volume_fr})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
