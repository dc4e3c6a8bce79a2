#!/usr/bin/env python3
"""Run by the tox environment ``production``: with the production packages alone (no ``lgo-sandbox``, no test
dependencies), ``lgo demo`` answers one French line saying what to install, and no traceback.

Exit 0 when it does, 1 otherwise (with what was printed)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def main() -> int:
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run(
            ["lgo", "demo"], capture_output=True, text=True, env={**os.environ, "LGO_HOME": home}, timeout=300
        )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    fine = (
        result.returncode == 1 and len(lines) == 1 and "lgo-core[demo]" in lines[0] and "Traceback" not in result.stderr
    )
    if not fine:
        print(f"lgo demo sans bacs à sable (code {result.returncode}) :\n{result.stdout}{result.stderr}")
        return 1
    print(f"lgo demo sans bacs à sable : « {lines[0]} »")
    return 0


if __name__ == "__main__":
    sys.exit(main())
