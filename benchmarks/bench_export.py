"""``lgo export`` of a whole generated pharmacy against a plain dump of the same database (``sqlite3 .dump``,
``pg_dump``): time and peak memory (RSS) of each, in child processes, at two volumes — the export's peak memory
must not grow with the number of patients (it streams), so a measure compares the two peaks. At the larger volume,
the archive is imported into an empty database (against reading the plain dump back) and exported again: the two
archives must hold the same contents (the issue's round trip), or the benchmark stops.

The PostgreSQL server's own memory is not counted, for either side: both are its clients.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lgo.kernel import Kernel
from measure import Result, progress, thousands
from workload import Scale, generate

#: The issue's realistic volume: 20 000 patients, 300 000 dispensing lines, 5 000 documents.
REALISTIC = Scale(patients=20_000, invoices=100_000, lines=300_000, vaccinations=2_000, documents=3_000, products=3_000)
#: A tenth of the patients and their year, the same catalogue: the export keeps the catalogue (products, lots,
#: team) in memory for the FHIR resources, so only the patients may change between the two peaks compared.
SMALLER = Scale(patients=2_000, invoices=10_000, lines=30_000, vaccinations=200, documents=300, products=3_000)

#: The export's peak memory at the larger volume over the smaller, at most: flat, within what the catalogue (its lots
#: follow the stock) and the allocator add (decision 1500).
GROWTH_TARGET = 1.05

_EXPORT = """
import sys
from pathlib import Path
from lgo.kernel import Kernel
from lgo.portability.exporter import export
kernel = Kernel(sys.argv[1], discover_installed=True)
kernel.start()
export(kernel, int(sys.argv[2]), Path(sys.argv[3]))
"""


_IMPORT = """
import sys
from pathlib import Path
from lgo.kernel import Kernel
from lgo.portability.importer import import_archive
kernel = Kernel(sys.argv[1], discover_installed=True)
kernel.start()
print(import_archive(kernel, Path(sys.argv[2])).pharmacy_id)
"""
#: Entries whose bytes carry the moment of the export or the journal (which has the import's entries more).
_VOLATILE = ("README.TXT", "METADATA.XML", "MANIFEST.XML", "SIGN.XML", "JOURNAL.LOG", "audit_entry.jsonl")


def _child(command: list[str], stdout: Path, stdin: Path | None = None) -> tuple[float, float]:
    """Run ``command`` to its end, its output into ``stdout``: (seconds, peak RSS in MB) of that process alone.

    The peak is read by GNU ``time``, which forks the command itself: a process forked from this (large) one would
    carry this one's peak in its own accounting (Linux keeps the old memory's high-water mark across ``exec``)."""
    errors, peak = stdout.with_suffix(".err"), stdout.with_suffix(".rss")
    timer = shutil.which("time") or "/usr/bin/time"
    wrapped = [timer, "-f", "%M", "-o", str(peak), *command] if Path(timer).is_file() else command
    with stdout.open("wb") as out, errors.open("wb") as err, (stdin or Path(os.devnull)).open("rb") as given:
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, stdin=given, stdout=out, stderr=err)
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


def _restore_command(url: str) -> list[str]:
    """The plain dump read back into an empty database (the baseline of the import)."""
    if url.startswith("sqlite"):
        return [shutil.which("sqlite3") or "sqlite3", url.removeprefix("sqlite:///")]
    from lgo.testing.postgres import find_postgres_bindir

    bindir = find_postgres_bindir()
    beside = Path(bindir) / "psql" if bindir else None
    binary = str(beside) if beside is not None and beside.is_file() else shutil.which("psql") or "psql"
    return [binary, "-q", "-v", "ON_ERROR_STOP=1", url.replace("postgresql+psycopg://", "postgresql://")]


def _contents(archive: Path) -> dict[str, str]:
    """Every file of the archive, inner zips opened, by its SHA-256 (volatile entries left out)."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(archive) as outer:
        for name in outer.namelist():
            if name.endswith(".ZIP"):
                with zipfile.ZipFile(io.BytesIO(outer.read(name))) as inner:
                    for inner_name in inner.namelist():
                        if not inner_name.endswith(_VOLATILE):
                            found[f"{name}/{inner_name}"] = hashlib.sha256(inner.read(inner_name)).hexdigest()
            elif not name.endswith(_VOLATILE):
                found[name] = hashlib.sha256(outer.read(name)).hexdigest()
    return found


def _round_trip(
    database_url: Callable[[str], str | None],
    workdir: Path,
    backend: str,
    archive: Path,
    dump: Path,
    authority: Any,
    volume: str,
) -> list[Result]:
    """Import the archive into an empty database (against reading the plain dump back), export again, and check
    that the two archives hold the same contents (the acceptance's round trip, at the benchmark's volume)."""
    target, restored = database_url(backend), database_url(backend)
    if target is None or restored is None:
        return []
    kernel = Kernel(target, discover_installed=True)
    kernel.upgrade_database()
    kernel.close()
    progress(f"  import de l'archive dans une base vide ({backend})…")
    output = workdir / f"import-{backend}.out"
    import_seconds, import_mb = _child([sys.executable, "-c", _IMPORT, target, str(archive)], output)
    progress(f"  relecture du dump brut dans une base vide ({backend})…")
    restore_seconds, restore_mb = _child(_restore_command(restored), workdir / f"restore-{backend}.out", dump)
    pharmacy_id = int(output.read_text().split()[-1])
    kernel = Kernel(target, discover_installed=True)
    kernel.start()
    with kernel.reading() as session:
        from lgo.domain.pharmacy import Pharmacy

        finess = session.get(Pharmacy, pharmacy_id).finess  # type: ignore[union-attr]
    authority.organisation(finess=finess, tag=f"-{backend}-reimport").store_for(kernel, pharmacy_id)
    kernel.close()
    again = workdir / f"export-again-{backend}"
    again.mkdir()
    progress(f"  nouvel export après l'import ({backend})…")
    _child([sys.executable, "-c", _EXPORT, target, str(pharmacy_id), str(again)], again.with_suffix(".log"))
    before, after = _contents(archive), _contents(next(again.glob("PA*.ZIP")))
    if before != after:
        differing = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
        raise RuntimeError(f"round trip changed the archive's contents: {differing[:20]}")
    progress(f"  aller-retour ({backend}) : les deux archives ont le même contenu ({len(before)} fichiers).")
    return [
        Result(
            f"import_time_{backend}",
            "Import de l'archive dans une base vide (lgo import, vérifications comprises) / relecture du dump brut",
            f"{volume} ; même contenu après export, import, export",
            import_seconds,
            restore_seconds,
            1,
        ),
        Result(
            f"import_rss_{backend}",
            "Mémoire de pointe (RSS, Mo) de l'import / de la relecture du dump brut",
            volume,
            import_mb,
            restore_mb,
            1,
            unit="Mo",
        ),
    ]


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
            if scale is volumes[-1]:
                dump = workdir / f"dump-{backend}-{scale.patients}.sql"
                results += _round_trip(database_url, workdir, backend, archive, dump, authority, volume)
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
                    target=GROWTH_TARGET,
                )
            )
    return results
