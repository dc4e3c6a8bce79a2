"""Server time per counter request (p50, p99): every wave-1 plugin active against the kernel alone, on a database of
20 000 patients (patient search included).

    .venv/bin/python benchmarks/bench_counter_web.py [--patients 20000] [--rounds 40] [--out DIR]

The same database serves both: the kernel alone (no plugin installed in the registry) and the kernel with the
installed wave-1 plugins switched on. Each round is what an operator does at the counter: search a patient by the
beginning of a name, open a billing for them, add a line by name, show the screen, validate, show the invoice. The
requests go through the real Flask application (Flask's test client, signed in as the préparatrice); the time is
measured around each request. Rounds alternate between the two configurations so the machine's noise falls on both.
Writes ``results/counter_web.json`` and ``results/counter_web.md``; asserts nothing. ``benchmarks/run.py`` runs it
too (measure ``counter_web``) and keeps three ratios of it in ``latest.md`` (:func:`ratios`).

The 20 000 patients are inserted in bulk here (SQLAlchemy Core), with names drawn from small lists and the search
hitting a common prefix (a harder case for the search than the workload generator's varied names), their search
words written afterwards as a migration would.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from lgo.demo_data import PASSWORD, seed
from lgo.domain import patient_search
from lgo.domain.patients import Patient
from lgo.kernel import Kernel
from measure import Result, thousands
from sqlalchemy import insert

NAMES = (
    "MARTIN",
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND",
    "DUBOIS",
    "MOREAU",
    "LAURENT",
    "SIMON",
    "MICHEL",
    "LEFEBVRE",
    "LEROY",
    "ROUX",
    "DAVID",
    "BERTRAND",
    "MOREL",
    "FOURNIER",
    "GIRARD",
)
FIRST = ("JEAN", "MARIE", "PIERRE", "ANNE", "LUC", "CLAIRE", "PAUL", "SOPHIE", "LOUIS", "JULIE")
STEPS = ("recherche", "ouverture", "ligne", "écran", "validation", "facture")


def populate(kernel: Kernel, pharmacy_id: int, count: int) -> None:
    rng = random.Random(20)
    rows = []
    for index in range(count):
        name = f"{rng.choice(NAMES)}{'-' + rng.choice(NAMES) if index % 7 == 0 else ''}"
        rows.append(
            {
                "pharmacy_id": pharmacy_id,
                "birth_name": name,
                "first_names": f"{rng.choice(FIRST)} {rng.choice(FIRST)}",
                "sex": rng.choice("MF"),
                "birth_date": f"{rng.randint(1930, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "birth_place_code": "99100",
                "complementary_rate": rng.choice((0, 100)),
            }
        )
    with kernel.engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            connection.execute(insert(Patient), rows[start : start + 2000])
        # Rows inserted without the ORM: their search words are written as a migration would (decision 0013).
        patient_search.rebuild(connection, pharmacy_id)


def _token(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html)
    assert found, name
    return found.group(1)


class Operator:
    """A signed-in préparatrice on the real app; records the time of each request by step."""

    def __init__(self, kernel: Kernel) -> None:
        from lgo_web import create_app

        self.app = create_app(kernel, secure_cookies=False)
        self.client = self.app.test_client()
        self.client.environ_base.update({"HTTP_REFERER": "http://localhost/", "HTTP_HOST": "localhost"})
        page = self.client.get("/connexion").get_data(as_text=True)
        self.client.post(
            "/connexion", data={"code": "preparatrice", "password": PASSWORD, "csrf_token": _token(page, "csrf_token")}
        )
        self.times: dict[str, list[float]] = {step: [] for step in STEPS}

    def _timed(self, step: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        response = call(*args, **kwargs)
        self.times[step].append(time.perf_counter() - start)
        assert response.status_code in (200, 302), (step, response.status_code)
        return response

    def round(self, rng: random.Random) -> None:
        query = f"{rng.choice(NAMES)[:4].lower()} {rng.choice(FIRST)[:2].lower()}"
        home = self._timed("recherche", self.client.get, f"/comptoir/?q={query}").get_data(as_text=True)
        patient = re.search(r'name="patient_id" value="(\d+)"', home)
        assert patient, query
        opened = self._timed(
            "ouverture",
            self.client.post,
            "/comptoir/ouvrir",
            data={"csrf_token": _token(home, "csrf_token"), "patient_id": patient.group(1)},
        )
        page = opened.headers["Location"]
        screen = self.client.get(page).get_data(as_text=True)
        form = {"csrf_token": _token(screen, "csrf_token"), "version": _token(screen, "version")}
        self._timed("ligne", self.client.post, page + "/lignes", data={**form, "entry": "sérum"})
        screen = self._timed("écran", self.client.get, page).get_data(as_text=True)
        form = {"csrf_token": _token(screen, "csrf_token"), "version": _token(screen, "version")}
        self._timed("validation", self.client.post, page + "/valider", data=form)
        self._timed("facture", self.client.get, page)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(patients: int, rounds: int, out: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lgo-bench-comptoir-") as folder:
        url = f"sqlite:///{folder}/comptoir.sqlite"
        full = Kernel(url)
        full.upgrade_database()
        full.start()
        with full.transaction() as session:
            seeded = seed(session)
        from lgo.domain import stock
        from lgo.domain.products import product_by_cip13

        with full.transaction() as session:  # enough stock for every round
            product = product_by_cip13(session, seeded.pharmacy_id, seeded.products["serum"])
            stock.receive(
                session, seeded.pharmacy_id, product, lot_number="BENCH", expiry=date(2099, 1, 1), quantity=10 * rounds
            )
        wave1 = [info.name for info in full.registry.loaded() if info.wave == 1]
        for name in wave1:
            full.enable(seeded.pharmacy_id, name, with_dependencies=True)
        print(f"  {patients} patients insérés…", file=sys.stderr, flush=True)
        populate(full, seeded.pharmacy_id, patients)
        alone = Kernel(url, discover_installed=False).start()
        operators = {"noyau seul": Operator(alone), "modules de la vague 1": Operator(full)}
        rng = random.Random(7)
        for index in range(rounds):
            for operator in operators.values():
                operator.round(rng)
            if index % 10 == 9:
                print(f"  {index + 1}/{rounds} tours", file=sys.stderr, flush=True)
        alone.close()
        full.close()
    result: dict[str, Any] = {"patients": patients, "rounds": rounds, "plugins": wave1, "steps": {}}
    for step in (*STEPS, "toutes"):
        entry = {}
        for label, operator in operators.items():
            values = [t for s in STEPS for t in operator.times[s]] if step == "toutes" else operator.times[step]
            entry[label] = {
                "p50_ms": percentile(values, 0.5) * 1000,
                "p99_ms": percentile(values, 0.99) * 1000,
                "n": len(values),
                "mean_ms": statistics.fmean(values) * 1000,
            }
        entry["ratio_p50"] = entry["modules de la vague 1"]["p50_ms"] / entry["noyau seul"]["p50_ms"]
        entry["ratio_p99"] = entry["modules de la vague 1"]["p99_ms"] / entry["noyau seul"]["p99_ms"]
        result["steps"][step] = entry
    out.mkdir(parents=True, exist_ok=True)
    (out / "counter_web.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    lines = [
        f"# Comptoir web : temps serveur par requête ({patients} patients, {rounds} tours)",
        "",
        "| étape | noyau seul p50 / p99 (ms) | vague 1 p50 / p99 (ms) | rapport p50 | rapport p99 |",
        "|---|---|---|---|---|",
    ]
    for step, entry in result["steps"].items():
        a, b = entry["noyau seul"], entry["modules de la vague 1"]
        lines.append(
            f"| {step} | {a['p50_ms']:.1f} / {a['p99_ms']:.1f} | {b['p50_ms']:.1f} / {b['p99_ms']:.1f} | "
            f"{entry['ratio_p50']:.2f} | {entry['ratio_p99']:.2f} |"
        )
    (out / "counter_web.md").write_text("\n".join(lines) + "\n")
    return result


def ratios(result: dict[str, Any]) -> list[Result]:
    """The measure's ratios for ``latest.md``: every request at p50 and p99, and the patient search at p50, with the
    wave-1 plugins against the kernel alone (seconds per request)."""
    volume = f"{thousands(result['patients'])} patients, SQLite, {result['rounds']} tours de 6 requêtes"
    kept = (
        ("counter_web_p50", "toutes", "p50_ms", "Requêtes du comptoir web (p50) : modules de la vague 1 / noyau seul"),
        ("counter_web_p99", "toutes", "p99_ms", "Requêtes du comptoir web (p99) : modules de la vague 1 / noyau seul"),
        (
            "counter_web_search_p50",
            "recherche",
            "p50_ms",
            "Recherche de patient au comptoir web (p50) : modules de la vague 1 / noyau seul",
        ),
    )
    return [
        Result(
            name,
            description,
            volume,
            result["steps"][step]["modules de la vague 1"][key] / 1000,
            result["steps"][step]["noyau seul"][key] / 1000,
            result["steps"][step]["noyau seul"]["n"],
        )
        for name, step, key, description in kept
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    result = run(args.patients, args.rounds, args.out)
    print((args.out / "counter_web.md").read_text())
    print(f"plugins: {', '.join(result['plugins'])}")


if __name__ == "__main__":
    main()
