"""The patient's file benchmark runs with one command on a small history and writes p50/p99 of the file and of the
billing screen, for the wave-1 plugins and the kernel alone (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_patient_file_benchmark_runs_and_writes_its_results(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_patient_file.py"),
            "--lines",
            "12",
            "--documents",
            "6",
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
    assert "failed to import" not in result.stderr
    data = json.loads((tmp_path / "patient_file.json").read_text())
    assert {"ins", "dmp", "vaccination", "mssante", "entretiens"} <= set(data["plugins"])
    for label in ("noyau seul", "modules de la vague 1"):
        assert set(data["pages"][label]) == {"dossier", "facturation"}
        assert data["pages"][label]["dossier"]["n"] == 2
    assert data["ratio_p50_modules_vs_noyau"] > 0
    assert "| dossier |" in (tmp_path / "patient_file.md").read_text()
