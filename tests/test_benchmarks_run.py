"""The benchmarks run with one command, at a tiny scale, and write every measure with its volume (no timing is
asserted: the numbers are for people comparing runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Every measure of ``benchmarks/run.py`` (the quick run's volumes: search files of 100 and 400 patients).
EXPECTED = {
    "billing_throughput_sqlite",
    "billing_throughput_postgresql",
    "concurrent_counters",
    *(
        f"patient_search_{p}_{backend}_{size}"
        for p in ("p50", "p99")
        for backend in ("sqlite", "postgresql")
        for size in (100, 400)
    ),
    "patient_search_growth_sqlite",
    "patient_search_growth_postgresql",
    "outbox_drain_1",
    "outbox_drain_2",
    "outbox_drain_4",
    *(
        f"group_latency_{query}"
        for query in (
            "patient_search",
            "patient_history",
            "ordonnancier_page",
            "day_invoices",
            "product_stock",
            "audit_journal",
            "outbox_summary",
        )
    ),
    "segur_billing",
    "mssante_send",
    "dp_consultation",
    "counter_web_p50",
    "counter_web_p99",
    "counter_web_search_p50",
    "patient_file_p50",
    "patient_file_p99",
    "event_dispatch",
    "cli_startup",
    *(
        f"export_{what}_{backend}_{patients}"
        for what in ("time", "rss")
        for backend in ("sqlite", "postgresql")
        for patients in (30, 120)
    ),
    "export_rss_growth_sqlite",
    "export_rss_growth_postgresql",
    *(f"import_{what}_{backend}" for what in ("time", "rss") for backend in ("sqlite", "postgresql")),
}
#: The measures the issue sets a target for (ratio at most).
TARGETS = {
    "billing_throughput_sqlite": 2.0,
    "billing_throughput_postgresql": 2.0,
    "event_dispatch": 2.0,
    "cli_startup": 1.5,
    "export_rss_growth_sqlite": 1.05,
    "export_rss_growth_postgresql": 1.05,
}


def test_benchmarks_run_and_write_results(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "latest.json").read_text())
    by_name = {r["name"]: r for r in data["results"]}
    assert set(by_name) == EXPECTED
    assert all(r["ratio"] > 0 and r["volume_fr"] for r in data["results"])
    assert {name: r["target"] for name, r in by_name.items() if r["target"] is not None} == TARGETS
    table = (tmp_path / "latest.md").read_text()
    assert "| mesure | volume |" in table and table.count("\n| ") == len(EXPECTED) + 1
