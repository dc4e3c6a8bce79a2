#!/usr/bin/env python3
"""No block of code written twice in the shipped code: pylint's ``symilar`` over the kernel, ``lgo_web`` and the
plugins, checked in CI (decision 0010).

    .venv/bin/python tools/repeats.py    # exit 1, with the blocks, when a block of 6 lines or more repeats

Shipped code is what a pharmacy installs: the tests, the migrations (one frozen file per schema step) and the
plugins' ``testing`` contract kits are not, nor the sandboxes. Comments, docstrings and imports do not count; the
rest must not repeat line for line. Blocks of the same shape with other names and values (declarations, calls of
one function with other arguments) are not repeats: decision 0010 says which remain and why.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_LINES = 6
#: Where shipped packages live in the workspace.
SOURCES = ("core/src", "web/src", "plugins/*/src")
#: Not shipped, or not written by hand as code: folders and module names left out.
NOT_SHIPPED = {"tests", "migrations", "testing"}
SYMILAR = Path(sys.executable).parent / "symilar"


@dataclass(frozen=True)
class Report:
    duplicated_lines: int
    text: str


def shipped_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for pattern in SOURCES:
        for source in sorted(root.glob(pattern)):
            for path in sorted(source.rglob("*.py")):
                parts = set(path.relative_to(source).with_suffix("").parts)
                if not parts & NOT_SHIPPED:
                    files.append(path)
    return files


def check(root: Path = ROOT) -> Report:
    """symilar's report on the shipped files under ``root``."""
    files = [str(path.relative_to(root)) for path in shipped_files(root)]
    if not files:
        raise SystemExit(f"Aucun fichier de code livré sous {root}")
    options = ["-d", str(MIN_LINES), "--ignore-comments", "--ignore-docstrings", "--ignore-imports"]
    done = subprocess.run([str(SYMILAR), *options, *files], cwd=root, capture_output=True, text=True, check=False)
    total = re.search(r"^TOTAL lines=\d+ duplicates=(\d+)", done.stdout, re.MULTILINE)
    if total is None:
        raise SystemExit(f"symilar n'a pas donné son total (code {done.returncode}) : {done.stderr or done.stdout}")
    return Report(int(total.group(1)), done.stdout)


def main() -> int:
    report = check()
    if report.duplicated_lines:
        print(report.text)
        print(
            f"Du code livré est écrit deux fois ({report.duplicated_lines} lignes en blocs de {MIN_LINES} lignes ou "
            "plus, ci-dessus) : mettez-le en un seul endroit (le noyau et lgo.api pour ce que partagent les modules).",
            file=sys.stderr,
        )
        return 1
    print(f"Aucun bloc de {MIN_LINES} lignes ou plus n'est écrit deux fois dans le code livré.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
