"""``lgo export`` of a whole generated pharmacy against a plain dump of the same database (``sqlite3 .dump``,
``pg_dump``): time and peak memory (RSS) of each, in child processes, at two volumes — the export's peak memory
must not grow with the number of patients (it streams), so the last measure compares the two peaks.

The PostgreSQL server's own memory is not counted, for either side: both are its clients.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lgo.kernel import Kernel
from measure import Result, progress, thousands
from workload import Scale, generate

#: The issue's realistic volume: 20 000 patients, 300 000 dispensing lines, 5 000 documents.
REALISTIC = Scale(patients=20_000, invoices=100_000, lines=300_000, vaccinations=2_000, documents=3_000, products=3_000)

_EXPORT = """
import sys
from pathlib import Path
from lgo.kernel import Kernel
from lgo.portability.exporter import export
kernel = Kernel(sys.argv[1], discover_installed=True)
kernel.start()
export(kernel, int(sys.argv[2]), Path(sys.argv[3]))
"""


def _child(command: list[str], stdout: Path) -> tuple[float, float]:
    """Run ``command`` to its end, its output into ``stdout``: (seconds, peak RSS in MB) of that process alone.

    The peak is read by GNU ``time``, which forks the command itself: a process forked from this (large) one would
    carry this one's peak in its own accounting (Linux keeps the old memory's high-water mark across ``exec``)."""
    errors, peak = stdout.with_suffix(".err"), stdout.with_suffix(".rss")
    timer = shutil.which("time") or "/usr/bin/time"
    wrapped = [timer, "-f", "%M", "-o", str(peak), *command] if Path(timer).is_file() else command
    with stdout.open("wb") as out, errors.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed: {errors.read_text(errors='replace')[-2000:]}")
    kilobytes = int(peak.read_text().split()[-1]) if peak.is_file() else usage.ru_maxrss
    return seconds, kilobytes / 1024


def _dump_command(url: str) -> list[str]:
    if url.startswith("sqlite"):
        binary = shutil.which("sqlite3")
        path = url.removeprefix("sqlite:///")
        if binary:
            return [binary, path, ".dump"]
        code = "import sqlite3, sys\nfor line in sqlite3.connect(sys.argv[1]).iterdump(): print(line)"
        return [sys.executable, "-c", code, path]
    from lgo.testing.postgres import find_postgres_bindir

    bindir = find_postgres_bindir()
    beside = Path(bindir) / "pg_dump" if bindir else None
    binary = str(beside) if beside is not None and beside.is_file() else shutil.which("pg_dump") or "pg_dump"
    return [binary, "--no-owner", url.replace("postgresql+psycopg://", "postgresql://")]


def bench_export(
    database_url: Callable[[str], str | None], workdir: Path, volumes: tuple[Scale, Scale]
) -> list[Result]:
    from lgo_sandbox.pki import TestAuthority

    results: list[Result] = []
    authority = TestAuthority(workdir / "autorite-export")
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        peaks: dict[int, float] = {}
        for scale in volumes:
            url = database_url(backend)
            if url is None:
                continue
            kernel = Kernel(url, discover_installed=True)
            kernel.upgrade_database()
            kernel.start()
            progress(f"  export : officine générée ({label}) : {scale.volume_fr()}…")
            (year,) = generate(kernel.engine, scale=scale, report=progress)
            authority.organisation(finess=year.finess, tag=f"-{backend}-{scale.patients}").store_for(
                kernel, year.pharmacy_id
            )
            kernel.close()
            folder = workdir / f"export-{backend}-{scale.patients}"
            folder.mkdir()
            progress(f"  export ({label}, {thousands(scale.patients)} patients)…")
            export_seconds, export_mb = _child(
                [sys.executable, "-c", _EXPORT, url, str(year.pharmacy_id), str(folder)], folder.with_suffix(".log")
            )
            progress(f"  dump brut ({label})…")
            dump_seconds, dump_mb = _child(_dump_command(url), workdir / f"dump-{backend}-{scale.patients}.sql")
            archive = next(folder.glob("PA*.ZIP"))
            volume = (
                f"{scale.volume_fr()} ; {label} ; archive de {archive.stat().st_size / 2**20:.0f} Mo, "
                f"dump de {(workdir / f'dump-{backend}-{scale.patients}.sql').stat().st_size / 2**20:.0f} Mo"
            )
            results.append(
                Result(
                    f"export_time_{backend}_{scale.patients}",
                    "Export de portabilité de toute l'officine (lgo export) / dump brut de la base",
                    volume,
                    export_seconds,
                    dump_seconds,
                    1,
                )
            )
            results.append(
                Result(
                    f"export_rss_{backend}_{scale.patients}",
                    "Mémoire de pointe (RSS, Mo) de l'export / du dump brut",
                    volume,
                    export_mb,
                    dump_mb,
                    1,
                    unit="Mo",
                )
            )
            peaks[scale.patients] = export_mb
        if len(peaks) == 2:
            small, large = sorted(peaks)
            results.append(
                Result(
                    f"export_rss_growth_{backend}",
                    f"Mémoire de pointe de l'export : {thousands(large)} patients / {thousands(small)} patients "
                    "(doit rester proche de 1)",
                    f"{label}, ×{large / small:g} patients",
                    peaks[large],
                    peaks[small],
                    1,
                    unit="Mo",
                )
            )
    return results
