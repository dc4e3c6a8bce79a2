"""The counter's benchmark runs with one command on a small file and writes p50/p99 per step for the wave-1
plugins and the kernel alone (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_counter_benchmark_runs_and_writes_its_results(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_counter_web.py"),
            "--patients",
            "300",
            "--rounds",
            "2",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "failed to import" not in result.stderr  # every plugin measured is really loaded
    data = json.loads((tmp_path / "counter_web.json").read_text())
    assert {"ins", "dmp", "vaccination", "eordonnance", "cards"} <= set(data["plugins"])
    assert set(data["steps"]) == {"recherche", "ouverture", "ligne", "écran", "validation", "facture", "toutes"}
    for entry in data["steps"].values():
        assert entry["ratio_p50"] > 0 and entry["noyau seul"]["n"] == entry["modules de la vague 1"]["n"] > 0
    assert "| recherche |" in (tmp_path / "counter_web.md").read_text()
