"""LGO benchmarks: each measure is a ratio against a baseline measured in the same run.

    python3 dev.py bench                 # or: .venv/bin/python benchmarks/run.py [--quick] [--only NAME …] [--out DIR]

Writes ``results/latest.json`` and ``results/latest.md`` (a table: measure, volume, subject, baseline, ratio, target)
next to this file, or in ``--out``. ``--quick`` runs every measure on tiny volumes (it checks that everything runs:
``tests/test_benchmarks_run.py``). Nothing here asserts a timing: the numbers are for people comparing runs.
PostgreSQL measures start a throwaway server (``lgo.testing.postgres``); without PostgreSQL installed they are left
out, and say so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules, also when run from elsewhere

import bench_counter
import bench_counter_web
import bench_dp
import bench_export
import bench_group
import bench_outbox
import bench_patient_file
import bench_search
import bench_startup
from lgo.kernel import Kernel
from lgo.testing.postgres import PostgresServer, PostgresUnavailable, find_postgres_bindir
from measure import Result, progress, thousands
from workload import Scale, generate


@dataclass(frozen=True)
class Volumes:
    """How much work each measure does: ``--quick`` checks that everything runs, the default measures."""

    #: The pharmacy-year the counter measures run on.
    pharmacy: Scale
    billings: int
    rounds: int
    calls: int
    startup_runs: int
    counters_seconds: float
    search_sizes: tuple[int, ...]
    search_queries: int
    outbox_documents: int
    dp_consultations: int
    #: The web counter's file of patients, and its rounds (6 requests each, for each configuration).
    counter_web: tuple[int, int]
    #: The patient's file: ordonnancier lines and documents of its 12 months, and rounds (for each configuration).
    patient_file: tuple[int, int, int]
    #: One pharmacy of the group, and how many share the database before and after.
    group_pharmacy: Scale
    group_sizes: tuple[int, int]
    #: The pharmacies exported whole: peak memory must not grow from the first to the second.
    export_volumes: tuple[Scale, Scale]
    quick: bool


QUICK = Volumes(
    pharmacy=Scale().times(0.002),
    billings=8,
    rounds=2,
    calls=200,
    startup_runs=2,
    counters_seconds=1.0,
    search_sizes=(100, 400),
    search_queries=20,
    outbox_documents=4,
    dp_consultations=3,
    counter_web=(300, 2),
    patient_file=(24, 6, 2),
    group_pharmacy=Scale().times(0.002),
    group_sizes=(2, 3),
    export_volumes=(Scale().times(0.001), Scale().times(0.004)),  # the same catalogue (40 products)
    quick=True,
)
FULL = Volumes(
    pharmacy=Scale(),
    billings=600,
    rounds=5,
    calls=5000,
    startup_runs=10,
    counters_seconds=20.0,
    search_sizes=(30_000, 300_000),
    search_queries=200,
    outbox_documents=200,
    dp_consultations=20,
    counter_web=(20_000, 40),
    patient_file=(200, 30, 60),
    group_pharmacy=Scale().times(0.02),
    group_sizes=(5, 100),
    export_volumes=(bench_export.SMALLER, bench_export.REALISTIC),
    quick=False,
)


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer | None]:
    if find_postgres_bindir() is None:
        progress("PostgreSQL n'est pas installé : les mesures PostgreSQL sont ignorées.")
        yield None
        return
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        progress(f"PostgreSQL n'a pas démarré ({exc}) : les mesures PostgreSQL sont ignorées.")
        yield None
        return
    try:
        yield server
    finally:
        server.stop()


class Run:
    """One benchmark run: its folder, its PostgreSQL server, its volumes; each ``measure_*`` returns results."""

    def __init__(self, workdir: Path, server: PostgresServer | None, volumes: Volumes) -> None:
        self.workdir = workdir
        self.server = server
        self.volumes = volumes
        self._databases = 0
        self._years: dict[str, tuple[Kernel, int, str] | None] = {}

    def database_url(self, backend: str) -> str | None:
        self._databases += 1
        if backend == "sqlite":
            return f"sqlite:///{self.workdir / f'banc-{self._databases}.sqlite'}"
        if self.server is None:
            return None
        return self.server.create_database(f"banc_{self._databases}")

    def pharmacy_year(self, backend: str) -> tuple[Kernel, int, str] | None:
        """A migrated database holding one generated pharmacy-year (the workload's scale of this run), generated once
        per backend and shared by the counter's measures."""
        if backend not in self._years:
            self._years[backend] = self._generate_year(backend)
        return self._years[backend]

    def close(self) -> None:
        for prepared in self._years.values():
            if prepared is not None:
                prepared[0].close()

    def _generate_year(self, backend: str) -> tuple[Kernel, int, str] | None:
        url = self.database_url(backend)
        if url is None:
            return None
        kernel = Kernel(url, discover_installed=False)
        kernel.upgrade_database()
        kernel.start()
        progress(f"  année d'officine générée ({_label(backend)}) : {self.volumes.pharmacy.volume_fr()}…")
        (year,) = generate(kernel.engine, scale=self.volumes.pharmacy, report=progress)
        _assert_valid(kernel, "après la génération")
        size = f"{_database_megabytes(kernel):.0f} Mo"
        progress(f"  année d'officine générée en {year.seconds:.0f} s ({_label(backend)}, base de {size})")
        return kernel, year.pharmacy_id, f"{self.volumes.pharmacy.volume_fr()} ; {_label(backend)}, base de {size}"

    # --- measures ------------------------------------------------------------------------------------------

    def measure_billing(self) -> list[Result]:
        results = []
        for backend in ("sqlite", "postgresql"):
            prepared = self.pharmacy_year(backend)
            if prepared is None:
                continue
            kernel, pharmacy_id, volume = prepared
            results.append(
                bench_counter.bench_billing(
                    kernel,
                    pharmacy_id,
                    self.volumes.billings,
                    rounds=self.volumes.rounds,
                    backend=backend,
                    volume_fr=f"{volume}, {thousands(self.volumes.billings)} facturations de 2 lignes",
                )
            )
            _assert_valid(kernel, "après les facturations mesurées")
        return results

    def measure_counters(self) -> list[Result]:
        prepared = self.pharmacy_year("postgresql")
        if prepared is None:
            return []
        kernel, pharmacy_id, volume = prepared
        result = bench_counter.bench_concurrent_counters(
            kernel,
            pharmacy_id,
            counters=4,
            seconds=self.volumes.counters_seconds,
            scarce_units=10 if self.volumes.quick else 50,
            volume_fr=f"{volume}, 4 processus pendant {self.volumes.counters_seconds:g} s",
        )
        return [result]

    def measure_search(self) -> list[Result]:
        return bench_search.bench_search(
            self.database_url,
            sizes=self.volumes.search_sizes,
            queries=self.volumes.search_queries,
            rounds=1 if self.volumes.quick else 3,
        )

    def measure_outbox(self) -> list[Result]:
        url = self.database_url("postgresql")
        if url is None:
            return []
        return bench_outbox.bench_outbox_drain(url, self.workdir, count=self.volumes.outbox_documents)

    def measure_group(self) -> list[Result]:
        url = self.database_url("postgresql")
        if url is None:
            return []
        few, many = self.volumes.group_sizes
        return bench_group.bench_group(
            url,
            scale=self.volumes.group_pharmacy,
            few=few,
            many=many,
            queries=5 if self.volumes.quick else 20,
            rounds=1 if self.volumes.quick else 3,
        )

    def measure_segur(self) -> list[Result]:
        return [bench_counter.bench_segur_billing(max(6, self.volumes.billings // 2), self.workdir)]

    def measure_mssante(self) -> list[Result]:
        result = bench_counter.bench_mssante_send(max(6, self.volumes.billings // 2), self.workdir)
        return [result] if result is not None else []

    def measure_dp(self) -> list[Result]:
        result = bench_dp.bench_dp_consultation(self.volumes.dp_consultations, self.workdir)
        return [result] if result is not None else []

    def measure_counter_web(self) -> list[Result]:
        patients, rounds = self.volumes.counter_web
        progress(f"  comptoir web : {thousands(patients)} patients, {rounds} tours, vague 1 puis noyau seul…")
        return bench_counter_web.ratios(bench_counter_web.run(patients, rounds, self.workdir / "comptoir-web"))

    def measure_patient_file(self) -> list[Result]:
        lines, documents, rounds = self.volumes.patient_file
        progress(f"  dossier du patient : {lines} lignes d'ordonnancier, {documents} documents, {rounds} tours…")
        measured = bench_patient_file.run(lines, documents, rounds, self.workdir / "dossier")
        full, alone = measured["pages"]["modules de la vague 1"]["dossier"], measured["pages"]["noyau seul"]["dossier"]
        volume = f"12 mois : {lines} lignes d'ordonnancier, {documents} documents ; SQLite, {rounds} tours"
        return [
            Result(
                f"patient_file_{p}",
                f"Dossier du patient au comptoir ({p}) : modules de la vague 1 / noyau seul",
                volume,
                full[f"{p}_ms"] / 1000,
                alone[f"{p}_ms"] / 1000,
                rounds,
            )
            for p in ("p50", "p99")
        ]

    def measure_dispatch(self) -> list[Result]:
        return [bench_counter.bench_dispatch(self.volumes.calls, self.workdir)]

    def measure_export(self) -> list[Result]:
        return bench_export.bench_export(self.database_url, self.workdir, self.volumes.export_volumes)

    def measure_startup(self) -> list[Result]:
        return [bench_startup.bench_startup(self.volumes.startup_runs, self.workdir)]


MEASURES: dict[str, Callable[[Run], list[Result]]] = {
    "billing": Run.measure_billing,
    "counters": Run.measure_counters,
    "search": Run.measure_search,
    "outbox": Run.measure_outbox,
    "group": Run.measure_group,
    "segur": Run.measure_segur,
    "mssante": Run.measure_mssante,
    "dp": Run.measure_dp,
    "counter_web": Run.measure_counter_web,
    "patient_file": Run.measure_patient_file,
    "dispatch": Run.measure_dispatch,
    "startup": Run.measure_startup,
    "export": Run.measure_export,
}


def _assert_valid(kernel: Kernel, when: str) -> None:
    """The kernel's invariants on the whole database: a measure that broke them would measure nothing worth having."""
    from lgo.testing.invariants import assert_invariants

    assert_invariants(kernel.engine)
    progress(f"  invariants du noyau vérifiés {when}.")


def _database_megabytes(kernel: Kernel) -> float:
    """The size of the database on disk (PostgreSQL: the database; SQLite: the file and its journal)."""
    if kernel.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with kernel.engine.connect() as connection:
            return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()) / 2**20
    path = Path(kernel.database_url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


def _label(backend: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]


def write_results(results: list[Result], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results": [{**asdict(r), "ratio": round(r.ratio, 3), "meets_target": r.meets_target} for r in results],
    }
    json_path = out / "latest.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    lines = [
        "| mesure | volume | sujet | référence | itérations | rapport | cible |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        target = "" if r.target is None else f"≤ {r.target:g} " + ("✔" if r.meets_target else "✘")
        lines.append(
            f"| {r.description_fr} | {r.volume_fr} | {r.subject_seconds:.4f} {r.unit} "
            f"| {r.baseline_seconds:.4f} {r.unit} | {r.iterations} | {r.ratio:.2f} | {target} |"
        )
    md_path = out / "latest.md"
    md_path.write_text(
        f"# Bancs d'essai LGO ({data['date']}, Python {data['python']}, {data['cpus']} processeur(s))\n\n"
        "Chaque rapport compare un sujet à une référence mesurée dans la même exécution (plus bas = mieux).\n\n"
        + "\n".join(lines)
        + "\n"
    )
    return json_path, md_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny volumes (checks that everything runs)")
    parser.add_argument("--only", nargs="+", choices=sorted(MEASURES), help="run only these measures")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    volumes = QUICK if args.quick else FULL
    progress("Bancs d'essai LGO" + (" (rapide)" if args.quick else ""))
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lgo-banc-") as tmp, postgres() as server:
        workdir = Path(tmp)
        os.environ["LGO_HOME"] = str(workdir / "home")
        run = Run(workdir, server, volumes)
        try:
            for name, measure in MEASURES.items():
                if args.only and name not in args.only:
                    continue
                results += measure(run)
        finally:
            run.close()
    json_path, md_path = write_results(results, args.out)
    print(md_path.read_text())
    progress(f"Résultats : {json_path} et {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
