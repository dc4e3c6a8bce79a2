"""The long run of the SIGKILL-during-billing check: a counter killed at random moments of its billings, many times,
on SQLite and PostgreSQL; after each kill, every invariant of the kernel and no validated billing lost.

    .venv/bin/python benchmarks/crash_billing.py                      # 150 kills on each backend
    .venv/bin/python benchmarks/crash_billing.py --kills 20 --backend sqlite

The test suite runs the same check briefly (``core/tests/test_crash_during_billing.py``). Exit code 1 when an
invariant breaks; a SQLite database is then kept and its location printed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lgo.kernel import Kernel
from lgo.testing.crash import CrashRun, kill_during_billing, prepare
from lgo.testing.postgres import PostgresServer, PostgresUnavailable, find_postgres_bindir


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def crash_run(database_url: str, *, kills: int, seed: int) -> CrashRun:
    kernel = Kernel(database_url, discover_installed=False)
    kernel.upgrade_database()
    kernel.start()
    try:
        return kill_during_billing(kernel, prepare(kernel), kills=kills, seed=seed, report=lambda m: say(f"  {m}"))
    finally:
        kernel.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SIGKILL pendant la facturation, longue série.")
    parser.add_argument("--kills", type=int, default=150, help="nombre de SIGKILL par base")
    parser.add_argument("--backend", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args(argv)
    failed = False
    workdir = Path(tempfile.mkdtemp(prefix="lgo-panne-"))
    for backend in args.backend:
        server: PostgresServer | None = None
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'panne.sqlite'}"
        else:
            if find_postgres_bindir() is None:
                say("PostgreSQL n'est pas installé : série PostgreSQL ignorée.")
                continue
            server = PostgresServer()
            try:
                server.start()
            except PostgresUnavailable as exc:
                say(f"PostgreSQL n'a pas démarré ({exc}) : série PostgreSQL ignorée.")
                continue
            url = server.create_database("panne")
        say(f"{backend} : {args.kills} SIGKILL pendant la facturation…")
        start = time.perf_counter()
        try:
            run = crash_run(url, kills=args.kills, seed=args.seed)
        finally:
            if server is not None:
                server.stop()
        say(f"{backend} : {run.summary_fr()} ({time.perf_counter() - start:.0f} s).")
        if not run.ok:
            failed = True
            for problem in [*map(str, run.violations), *run.lost]:
                say(f"  - {problem}")
            if backend == "sqlite":
                say(f"Base conservée : {url}")
            else:
                say(f"Pour reproduire : --backend postgresql --seed {args.seed} --kills {run.kills}")
    if not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
