"""The benchmarks run with one command and write their results (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_run_and_write_results(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "latest.json").read_text())
    names = {r["name"] for r in data["results"]}
    assert names == {
        "billing_throughput",
        "segur_billing",
        "mssante_send",
        "dp_consultation",
        "event_dispatch",
        "cli_startup",
        "patient_file",
    }
    assert all(r["ratio"] > 0 for r in data["results"])
    assert "| mesure |" in (tmp_path / "latest.md").read_text()
    assert json.loads((tmp_path / "patient_file.json").read_text())["pages"]["noyau seul"]["dossier"]["n"] == 3
