"""LGO benchmarks: each measure is a ratio against a baseline measured in the same run.

    python3 dev.py bench            # or: .venv/bin/python benchmarks/run.py [--quick] [--out DIR]

Writes ``results/latest.json`` and ``results/latest.md`` (a table) next to this file, or in ``--out``, and the
patient's file's own p50/p99 to ``patient_file.json`` and ``.md`` (``bench_patient_file.py``).
Nothing here asserts a timing: the numbers are for people comparing runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pluggy
from lgo import PROJECT, hookimpl, hookspecs
from lgo.counter import Counter
from lgo.demo_data import seed
from lgo.domain.audit import AuditEntry
from lgo.domain.billing import Invoice, InvoiceLine
from lgo.domain.dispensing import Dispensation, create_prescription
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.domain.sequences import SequenceCounter
from lgo.domain.stock import Movement, receive
from lgo.events import BillingEnded
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from lgo.testing.dists import plugin_module_source, write_distribution
from sqlalchemy import insert, update


@dataclass
class Result:
    name: str
    description_fr: str
    subject_seconds: float
    baseline_seconds: float
    iterations: int

    @property
    def ratio(self) -> float:
        return self.subject_seconds / self.baseline_seconds


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def best_of(repeats: int, func: Callable[[], None]) -> float:
    """The fastest of several runs: the least disturbed by the rest of the machine."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        timings.append(time.perf_counter() - start)
    return min(timings)


# --- 1. billing throughput ------------------------------------------------------------------------------


def bench_billing(billings: int, workdir: Path) -> Result:
    progress(f"  facturation : {billings} facturations par l'API du comptoir…")
    kernel = Kernel(f"sqlite:///{workdir / 'billing.sqlite'}", discover_installed=False)
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
        prescription = create_prescription(
            session, seeded.pharmacy_id, seeded.patients["jean"], prescriber_name="Dr Banc", prescribed_on=date.today()
        ).id
        product = product_by_cip13(session, seeded.pharmacy_id, seeded.products["paracetamol"])
        lot = receive(
            session, seeded.pharmacy_id, product, lot_number="BENCH", expiry=date(2099, 1, 1), quantity=10 * billings
        ).id
    counter = Counter(kernel, seeded.pharmacy_id, seeded.operators["adjoint"])
    cip = seeded.products["paracetamol"]

    def through_counter() -> None:
        for _ in range(billings):
            billing = counter.start_billing(prescription_id=prescription)
            counter.add_product(billing, cip, 1, lot_number="BENCH")
            counter.add_product(billing, cip, 1, lot_number="BENCH")
            counter.end_billing(billing)

    subject = best_of(1, through_counter)

    progress("  facturation : les mêmes lignes par des insertions SQLAlchemy Core brutes…")
    pharmacy, operator, patient = seeded.pharmacy_id, seeded.operators["adjoint"], seeded.patients["jean"]

    def raw_core() -> None:
        number = 10**6
        for _ in range(billings):
            with kernel.engine.begin() as conn:
                number += 1
                conn.execute(
                    update(SequenceCounter)
                    .where(SequenceCounter.pharmacy_id == pharmacy)
                    .values(last_value=SequenceCounter.last_value + 1)
                )
                invoice_id = conn.execute(
                    insert(Invoice).values(
                        pharmacy_id=pharmacy,
                        number=number,
                        patient_id=patient,
                        prescription_id=prescription,
                        operator_id=operator,
                        total_cents=232,
                        amo_cents=151,
                        amc_cents=81,
                        patient_cents=0,
                        validated_at=datetime.now(UTC),
                    )
                ).inserted_primary_key[0]
                for position in (1, 2):
                    conn.execute(
                        insert(InvoiceLine).values(
                            pharmacy_id=pharmacy,
                            invoice_id=invoice_id,
                            position=position,
                            kind="product",
                            product_id=product.id,
                            lot_id=lot,
                            label="x",
                            quantity=1,
                            unit_price_cents=116,
                            reimbursement_rate=65,
                            total_cents=116,
                            amo_cents=75,
                            amc_cents=41,
                            patient_cents=0,
                        )
                    )
                    conn.execute(
                        insert(Movement).values(
                            pharmacy_id=pharmacy,
                            lot_id=lot,
                            quantity=-1,
                            kind="sale",
                            forced=False,
                            reason="",
                            operator_id=operator,
                            invoice_id=invoice_id,
                            at=datetime.now(UTC),
                        )
                    )
                    conn.execute(
                        insert(Dispensation).values(
                            pharmacy_id=pharmacy,
                            number=number * 10 + position,
                            prescription_id=prescription,
                            patient_id=patient,
                            product_id=product.id,
                            lot_id=lot,
                            quantity=1,
                            operator_id=operator,
                            invoice_id=invoice_id,
                            validated_at=datetime.now(UTC),
                            correction_reason="",
                        )
                    )
                conn.execute(
                    insert(AuditEntry).values(
                        pharmacy_id=pharmacy,
                        at=datetime.now(UTC),
                        actor="kernel",
                        action="billing.validated",
                        message_fr="x",
                        details={},
                    )
                )

    baseline = best_of(1, raw_core)
    kernel.close()
    return Result(
        "billing_throughput",
        "Facturation par l'API du comptoir / insertions Core brutes des mêmes lignes",
        subject,
        baseline,
        billings,
    )


# --- 1b. billing with the Ségur plugins --------------------------------------------------------------------


def bench_segur_billing(billings: int, workdir: Path) -> Result:
    """The counter with every installed wave-1 plugin active against the kernel alone: the plugins must defer
    their national-service work to the outbox, so the ratio shows what they add to the pharmacist's wait."""

    def run(discover: bool, name: str) -> tuple[float, int]:
        kernel = Kernel(f"sqlite:///{workdir / name}", discover_installed=discover)
        kernel.upgrade_database()
        kernel.start()
        with kernel.transaction() as session:
            seeded = seed(session)
            prescription = create_prescription(
                session,
                seeded.pharmacy_id,
                seeded.patients["jean"],
                prescriber_name="Dr Banc",
                prescribed_on=date.today(),
            ).id
            for key in ("paracetamol", "grippe"):
                product = product_by_cip13(session, seeded.pharmacy_id, seeded.products[key])
                receive(
                    session,
                    seeded.pharmacy_id,
                    product,
                    lot_number=f"BENCH-{key}",
                    expiry=date(2099, 1, 1),
                    quantity=10 * billings,
                )
        active = 0
        for info in kernel.registry.loaded():
            if info.wave == 1:
                kernel.enable(seeded.pharmacy_id, info.name, with_dependencies=True)
        active = len(kernel.active_plugins(seeded.pharmacy_id))
        counter = Counter(kernel, seeded.pharmacy_id, seeded.operators["titulaire"])

        def bill() -> None:
            for _ in range(billings):
                billing = counter.start_billing(patient_id=seeded.patients["jean"], prescription_id=prescription)
                counter.add_product(billing, seeded.products["paracetamol"], 1, lot_number="BENCH-paracetamol")
                counter.add_product(billing, seeded.products["grippe"], 1, lot_number="BENCH-grippe")
                counter.end_billing(billing)

        seconds = best_of(1, bill)
        kernel.close()
        return seconds, active

    progress(f"  comptoir Ségur : {billings} facturations avec les modules vague 1 actifs, puis noyau seul…")
    subject, active = run(True, "segur.sqlite")
    baseline, _ = run(False, "alone.sqlite")
    return Result(
        "segur_billing",
        f"Facturation avec les {active} modules Ségur actifs / noyau seul (même facturation)",
        subject,
        baseline,
        billings,
    )


# --- 1c. sending a document by MSSanté ---------------------------------------------------------------------


def bench_mssante_send(sends: int, workdir: Path) -> Result | None:
    """What the pharmacist waits for when sending a document by MSSanté (checks, then queuing: the mail server is
    the worker's business) against queuing the same outbox message directly."""
    try:
        import lgo_mssante.plugin
        from lgo_mssante import accounts, service
        from lgo_sandbox.mss.documents import validated_bpm
    except ImportError:
        progress("  MSSanté : module absent, mesure ignorée.")
        return None
    from lgo.domain import outbox
    from lgo.testing.fakes import FakeIdentityPlugin

    identity = FakeIdentityPlugin("ins")
    kernel = Kernel(
        f"sqlite:///{workdir / 'mssante.sqlite'}",
        discover_installed=False,
        extra_plugins=(lgo_mssante.plugin, identity),
    )
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
    pharmacy, pharmacist, patient = seeded.pharmacy_id, seeded.operators["titulaire"], seeded.patients["camille"]
    for name in ("ins", "mssante"):
        kernel.enable(pharmacy, name)
    kernel.select_provider(pharmacy, "mssante", "organisationnelle")
    box = accounts.add_organisational(
        kernel, pharmacy, address="officine@banc.mssante.fr", login="officine@banc.mssante.fr", password="banc"
    )
    accounts.set_habilitation(kernel, pharmacy, box, pharmacist, "Utilisateur")
    identity.qualify(kernel, pharmacy, patient)
    document = validated_bpm(kernel, pharmacy, patient, pharmacist)

    def send() -> None:
        for _ in range(sends):
            service.send_documents(
                kernel,
                pharmacy,
                pharmacist,
                patient,
                [document],
                professionals=["medecin@banc.mssante.fr"],
                to_patient=True,
            )

    def enqueue() -> None:
        for _ in range(sends):
            with kernel.transaction() as session:
                outbox.enqueue(
                    session,
                    pharmacy,
                    plugin="mssante",
                    kind="banc.send",
                    payload={"documents": [document], "recipients": ["medecin@banc.mssante.fr"]},
                )

    progress(f"  MSSanté : {sends} envois mis en file, puis {sends} messages de file bruts…")
    subject, baseline = best_of(1, send), best_of(1, enqueue)
    kernel.close()
    return Result(
        "mssante_send",
        "Envoi d'un document par MSSanté au comptoir (contrôles + mise en file) / mise en file brute du même message",
        subject,
        baseline,
        sends,
    )


# --- 1d. consulting the Dossier Pharmaceutique --------------------------------------------------------------


def bench_dp_consultation(consultations: int, workdir: Path) -> Result | None:
    """A patient's DP of 300 lines from 5 pharmacies (60 of them dispensed here and fed through the outbox): the
    consultation as the counter asks it (habilitation, identity, audit before and after, HTTPS call to the DP sandbox
    with mutual TLS, merge with the ordonnancier, flags against the billing) against reading the same rows raw (the
    same HTTPS call, its JSON, and a plain SQL query of this pharmacy's lines)."""
    try:
        import httpx
        import lgo_dp.plugin
        from lgo_dp import consent, consultation
        from lgo_dp.json_driver import JsonHttpsTransport
        from lgo_dp.transport import DispensedLine, DpPatient, Professional
        from lgo_sandbox.dp import start_dp_sandbox
        from lgo_sandbox.pki import TestAuthority
    except ImportError:
        progress("  DP : module absent, mesure ignorée.")
        return None
    from lgo.api import TlsEndpoint
    from lgo.demo_data import CATALOGUE
    from lgo.identifiers import with_luhn
    from lgo.testing.fakes import FakeIdentityPlugin
    from lgo.worker import Worker
    from sqlalchemy import select

    own_lines, other_pharmacies, per_other = 60, 4, 60
    progress(
        f"  DP : {consultations} consultations d'un DP de {own_lines + other_pharmacies * per_other} lignes "
        f"({other_pharmacies + 1} officines), puis lecture brute des mêmes lignes…"
    )
    identity = FakeIdentityPlugin("ins")
    kernel = Kernel(
        f"sqlite:///{workdir / 'dp.sqlite'}", discover_installed=False, extra_plugins=(lgo_dp.plugin, identity)
    )
    kernel.upgrade_database()
    kernel.start()
    authority = TestAuthority(workdir / "dp-pki")
    server, _sandbox = start_dp_sandbox(authority)
    try:
        with kernel.transaction() as session:
            seeded = seed(session)
            pharmacy, patient, operator = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
            finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
            for key in ("paracetamol", "serum"):
                product = product_by_cip13(session, pharmacy, seeded.products[key])
                receive(session, pharmacy, product, lot_number=f"BANC-{key}", expiry=date(2099, 1, 1), quantity=500)
        for name in ("ins", "dp"):
            kernel.enable(pharmacy, name)
        credential = authority.organisation("DP", finess=finess, organisation="PHARMACIE DU BANC")
        credential.store_for(kernel, pharmacy)
        kernel.select_provider(pharmacy, "dp", "json")
        kernel.save_plugin_settings(pharmacy, "dp", {"endpoint": server.url})
        identity.qualify(kernel, pharmacy, patient)
        consent.create(kernel, pharmacy, operator, patient)
        counter = Counter(kernel, pharmacy, operator)
        for number in range(own_lines):
            billing = counter.start_billing(patient_id=patient)
            counter.add_product(billing, seeded.products["paracetamol" if number % 2 else "serum"], 1)
            counter.end_billing(billing)
        Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy).drain()
        shared = DpPatient.of(kernel.shareable_identity(pharmacy, patient))
        for index in range(other_pharmacies):
            other_finess = with_luhn(f"990000{20 + index}")
            other = authority.organisation("DP", finess=other_finess, organisation=f"PHARMACIE N° {index + 2}")
            driver = JsonHttpsTransport(TlsEndpoint(server.url, other.client(), str(other.ca_path), 10.0))
            lines = [
                DispensedLine(
                    f"{other_finess}-O{n}",
                    date.today() - timedelta(days=(n * 7 + index) % 360),
                    CATALOGUE[n % len(CATALOGUE)].cip13,
                    CATALOGUE[n % len(CATALOGUE)].label,
                    1 + n % 3,
                    f"LOT{index}-{n}",
                )
                for n in range(per_other)
            ]
            driver.feed(shared, lines, idempotency_key=f"banc-{index}")
        with kernel.transaction() as session:
            billed = [
                product_by_cip13(session, pharmacy, seeded.products[key]).id for key in ("paracetamol", "amoxicilline")
            ]
        found = consultation.consult(kernel, pharmacy, operator, patient, product_ids=billed)
        assert len(found.lines) == own_lines + other_pharmacies * per_other and found.pharmacies == 5, found.notice_fr

        def consult() -> None:
            for _ in range(consultations):
                consultation.consult(kernel, pharmacy, operator, patient, product_ids=billed)

        context = credential.client_context()
        body = {
            "patient": {**shared.__dict__, "first_names": list(shared.first_names)},
            "professionnel": Professional("Banc", "pharmacien titulaire").__dict__,
            "depuis": (date.today() - timedelta(days=365)).isoformat(),
        }

        def raw() -> None:
            for _ in range(consultations):
                with httpx.Client(base_url=server.url, verify=context) as client:
                    rows = client.post("/v1/historique", json=body).json()["lignes"]
                with kernel.engine.connect() as connection:
                    mine = connection.execute(
                        select(Dispensation.__table__, Invoice.__table__.c.number)
                        .select_from(Invoice.__table__)
                        .outerjoin(Dispensation.__table__, Dispensation.invoice_id == Invoice.id)
                        .where(Invoice.pharmacy_id == pharmacy, Invoice.patient_id == patient)
                    ).all()
                assert len(rows) == 300 and len(mine) == own_lines

        subject, baseline = best_of(3, consult), best_of(3, raw)
    finally:
        server.stop()
        kernel.close()
    return Result(
        "dp_consultation",
        "Consultation du DP fusionnée au comptoir (300 lignes, 5 officines, signalements, traces) / lecture brute des "
        "mêmes lignes (appel HTTPS du DP et requête SQL)",
        subject,
        baseline,
        consultations,
    )


# --- 2. event dispatch ----------------------------------------------------------------------------------


class Trivial:
    def __init__(self, index: int) -> None:
        self.MANIFEST = Manifest(name=f"trivial_{index}", plugin_api=">=2.0,<3")

    @hookimpl
    def lgo_on_billing_end(self, kernel: Any, event: Any) -> None:
        return None


def bench_dispatch(calls: int, workdir: Path) -> Result:
    progress(f"  événements : {calls} appels avec 8 plugins actifs, par le noyau puis par pluggy nu…")
    plugins = [Trivial(i) for i in range(8)]
    kernel = Kernel(f"sqlite:///{workdir / 'dispatch.sqlite'}", discover_installed=False, extra_plugins=plugins)
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        pharmacy = seed(session).pharmacy_id
    for plugin in plugins:
        kernel.enable(pharmacy, plugin.MANIFEST.name)
    event = BillingEnded(pharmacy, 1, "b", 1, 1, None, None, (), 0, datetime.now(UTC))
    kernel.active_plugins(pharmacy)  # warm the per-pharmacy cache, as a running counter has it

    def through_kernel() -> None:
        for _ in range(calls):
            kernel.hooks.on_billing_end(event)

    bare = pluggy.PluginManager(PROJECT)
    bare.add_hookspecs(hookspecs)
    for plugin in [Trivial(i) for i in range(8)]:
        bare.register(plugin)

    def bare_pluggy() -> None:
        for _ in range(calls):
            bare.hook.lgo_on_billing_end(kernel=kernel, event=event)

    subject = best_of(5, through_kernel)
    baseline = best_of(5, bare_pluggy)
    kernel.close()
    return Result(
        "event_dispatch", "Événement isolé plugin par plugin (8 plugins) / appel pluggy nu", subject, baseline, calls
    )


# --- the patient's file at the counter -------------------------------------------------------------------


def bench_patient_file(lines: int, documents: int, rounds: int, out: Path) -> Result:
    """Opening a patient's file with 12 months of history through the web application, every wave-1 plugin active,
    against the kernel alone on the same database (p50 server time); ``bench_patient_file.py`` also writes p50/p99
    of both, and of the billing screen, to ``patient_file.json`` and ``.md``."""
    import bench_patient_file

    progress(f"  dossier du patient : {lines} lignes d'ordonnancier, {documents} documents, {rounds} tours…")
    measured = bench_patient_file.run(lines, documents, rounds, out)
    pages = measured["pages"]
    return Result(
        "patient_file",
        f"Dossier du patient ({lines} lignes, {documents} documents), p50 : modules de la vague 1 / noyau seul",
        pages["modules de la vague 1"]["dossier"]["p50_ms"] / 1000,
        pages["noyau seul"]["dossier"]["p50_ms"] / 1000,
        rounds,
    )


# --- 3. start-up ----------------------------------------------------------------------------------------


def bench_startup(runs: int, workdir: Path) -> Result:
    progress(f"  démarrage : « lgo --help » avec 8 plugins installés contre « python -c pass » ({runs} fois)…")
    site = workdir / "site"
    for i in range(8):
        write_distribution(
            site,
            f"lgo-bench-{i}",
            modules={f"lgobench_{i}": plugin_module_source(f"bench_{i}")},
            entry_points={"lgo.plugins": {f"bench_{i}": f"lgobench_{i}"}},
        )
    env = {**os.environ, "PYTHONPATH": str(site), "LGO_HOME": str(workdir / "home")}

    def timed(command: list[str]) -> float:
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            timings.append(time.perf_counter() - start)
        return statistics.median(timings)

    # « lgo plugins » reads the pharmacy's database (issue 16): create it first, outside the measure
    subprocess.run([sys.executable, "-m", "lgo.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    listing = subprocess.run([sys.executable, "-m", "lgo.cli", "plugins"], env=env, capture_output=True, text=True)
    assert listing.stdout.count("bench_") == 8, listing.stdout + listing.stderr
    subject = timed([sys.executable, "-m", "lgo.cli", "--help"])
    baseline = timed([sys.executable, "-c", "pass"])
    return Result(
        "cli_startup", "« lgo --help » avec 8 plugins installés / « python -c pass »", subject, baseline, runs
    )


def write_results(results: list[Result], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": [{**asdict(r), "ratio": round(r.ratio, 3)} for r in results],
    }
    json_path = out / "latest.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    lines = ["| mesure | sujet (s) | référence (s) | itérations | rapport |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {r.description_fr} | {r.subject_seconds:.4f} | {r.baseline_seconds:.4f} | {r.iterations} | {r.ratio:.2f} |"
        for r in results
    ]
    md_path = out / "latest.md"
    md_path.write_text(f"# Bancs d'essai LGO ({data['date']}, Python {data['python']})\n\n" + "\n".join(lines) + "\n")
    return json_path, md_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations (checks that everything runs)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    billings, calls, runs = (20, 200, 3) if args.quick else (300, 5000, 10)
    consultations = 3 if args.quick else 20
    progress("Bancs d'essai LGO")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ["LGO_HOME"] = str(workdir / "home")
        measured = [
            bench_billing(billings, workdir),
            bench_segur_billing(billings, workdir),
            bench_mssante_send(billings, workdir),
            bench_dp_consultation(consultations, workdir),
            bench_dispatch(calls, workdir),
            bench_startup(runs, workdir),
            bench_patient_file(*((24, 6, 3) if args.quick else (200, 30, 60)), args.out),
        ]
        results = [r for r in measured if r is not None]
    json_path, md_path = write_results(results, args.out)
    print(md_path.read_text())
    progress(f"Résultats : {json_path} et {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
