"""Command line of the workload generator, for QA and the benchmarks (messages in French, progress on stderr).

    python benchmarks/workload --sqlite /tmp/officine.sqlite                  # a large pharmacy-year
    python benchmarks/workload --database-url postgresql+psycopg://… --pharmacies 20 --scale 0.1
    python benchmarks/workload --sqlite /tmp/p.sqlite --patients 300000 --invoices 1000 --lines 2000

The database is migrated first (kernel and installed plugins); the kernel's invariants are checked afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from datetime import date
from pathlib import Path

from workload.pharmacy_year import Scale, generate, volumes


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="workload",
        description="Génère une année d'officine fictive (ou un groupement) dans une base LGO.",
    )
    where = command.add_mutually_exclusive_group(required=True)
    where.add_argument("--database-url", help="base cible (postgresql+psycopg://… ou sqlite:///…)")
    where.add_argument("--sqlite", type=Path, help="fichier SQLite à créer")
    command.add_argument("--scale", type=float, default=1.0, help="facteur des volumes (1 = grande officine)")
    for name in ("patients", "invoices", "lines", "vaccinations", "documents", "products"):
        command.add_argument(f"--{name}", type=int, help=f"nombre exact ({name}), après --scale")
    command.add_argument("--pharmacies", type=int, default=1, help="nombre d'officines (groupement)")
    command.add_argument("--seed", type=int, default=2025, help="graine : mêmes options, mêmes données")
    command.add_argument("--until", type=date.fromisoformat, help="dernier jour de l'année générée (AAAA-MM-JJ)")
    command.add_argument("--no-check", action="store_true", help="ne pas vérifier les invariants du noyau")
    return command


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from lgo.kernel import Kernel
    from lgo.testing.invariants import check
    from sqlalchemy.exc import IntegrityError

    url = args.database_url or f"sqlite:///{args.sqlite.resolve()}"
    scale = Scale().times(args.scale)
    scale = dataclasses.replace(
        scale, **{name: getattr(args, name) for name in dataclasses.asdict(scale) if getattr(args, name) is not None}
    )
    kernel = Kernel(url, discover_installed=True)
    try:
        say("Migrations du noyau et des modules installés…")
        kernel.upgrade_database()
        start = time.perf_counter()
        try:
            made = generate(
                kernel.engine, scale=scale, seed=args.seed, pharmacies=args.pharmacies, until=args.until, report=say
            )
        except IntegrityError as exc:
            say(
                "Erreur : cette base contient déjà une officine générée avec ces numéros FINESS ; "
                "utilisez une base vide."
            )
            say(f"Détail : {str(exc.orig)[:300]}")
            return 1
        say(f"Génération terminée en {time.perf_counter() - start:.1f} s.")
        for table, count in sorted(volumes(made).items()):
            say(f"  {table} : {count:,}".replace(",", "\u202f"))
        if not args.no_check:
            say("Vérification des invariants du noyau…")
            violations = check(kernel.engine)
            if violations:
                say(f"Erreur : {len(violations)} invariant(s) non respecté(s) :")
                for violation in violations:
                    say(f"  - {violation}")
                return 1
            say("Invariants respectés.")
    finally:
        kernel.close()
    return 0
