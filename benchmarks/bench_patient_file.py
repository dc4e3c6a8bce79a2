"""Server time to open a patient's file at the counter (p50, p99): a patient with 12 months of history — 200
ordonnancier lines, 30 documents (20 produced here, 10 received by MSSanté), interviews, DMP accesses and INS history —
with every wave-1 plugin active, against the kernel alone on the same database, and the billing screen of the same
patient as a familiar reference.

    .venv/bin/python benchmarks/bench_patient_file.py [--lines 200] [--documents 30] [--rounds 60] [--out DIR]

The requests go through the real Flask application (test client, signed in as the titulaire); the time is measured
around each request; rounds alternate between the configurations so the machine's noise falls on all of them. The
file reads the database only (what needs the DMP comes as fragments, fetched by the browser afterwards and not
counted here). Writes ``results/patient_file.json`` and ``results/patient_file.md``; asserts nothing.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from lgo.demo_data import PASSWORD, seed
from lgo.kernel import Kernel

PAGES = ("dossier", "facturation")


def _token(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html)
    assert found, name
    return found.group(1)


def history(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int, lines: int, documents: int) -> None:
    """12 months of a regular patient: ``lines`` ordonnancier lines on prescriptions of 4 lines, ``documents``
    documents (two thirds produced here, one third received by MSSanté when the plugin is there), DMP accesses."""
    from lgo import documents as kernel_documents
    from lgo.documents import cda
    from lgo.domain import audit
    from lgo.domain.dispensing import Dispensation, create_prescription
    from lgo.domain.products import Product
    from lgo.domain.sequences import next_number
    from lgo.identity import OID_TEST, SharedIdentity
    from lgo_sandbox.pdf import simple_pdf
    from sqlalchemy import select

    rng = random.Random(12)
    now = datetime.now(UTC)
    identity = SharedIdentity(patient_id, "285039910012345", OID_TEST, "MARTIN-DEMO", ("CAMILLE",), "F", "1985-03-14")
    with kernel.transaction() as session:
        products = list(session.scalars(select(Product).where(Product.pharmacy_id == pharmacy_id)))
        for start in range(0, lines, 4):
            when = now - timedelta(days=rng.randint(1, 360), minutes=rng.randint(0, 600))
            prescription = create_prescription(
                session,
                pharmacy_id,
                patient_id,
                prescriber_name="Dr Anne Médecin-Démo",
                prescribed_on=min(when.date(), date.today()),
            )
            for _ in range(min(4, lines - start)):
                product = rng.choice(products)
                session.add(
                    Dispensation(
                        pharmacy_id=pharmacy_id,
                        number=next_number(session, pharmacy_id, "ordonnancier"),
                        prescription_id=prescription.id,
                        patient_id=patient_id,
                        product_id=product.id,
                        quantity=rng.randint(1, 3),
                        operator_id=operator_id,
                        validated_at=when,
                    )
                )
        produced = documents - documents // 3
        for index in range(produced):
            document = kernel_documents.create_draft(
                session,
                pharmacy_id=pharmacy_id,
                patient_id=patient_id,
                author_operator_id=operator_id,
                type_code="78601-2",
                type_display="CR d'entretien pharmaceutique",
                title=f"Compte rendu d'entretien n° {index + 1}",
                source_plugin="entretiens",
            )
            header = cda.header_for_document(session, document, identity)
            kernel_documents.set_content(document, cda.wrap_pdf(header, simple_pdf([f"Compte rendu {index}"])))
        for index in range(40):
            audit.record(
                session,
                pharmacy_id,
                "dmp.consult.list",
                f"Consultation de la liste des documents du DMP (n° {index}).",
                actor="dmp",
                operator_id=operator_id,
                patient_id=patient_id,
            )
    if kernel.registry.get("mssante") is not None:
        _received(kernel, pharmacy_id, patient_id, documents // 3, identity)


def _received(kernel: Kernel, pharmacy_id: int, patient_id: int, count: int, identity: Any) -> None:
    from lgo_mssante.model import AccountKind, Direction, MessageStatus, MssAccount, MssMessage, MssReceivedDocument
    from lgo_sandbox.mss.documents import professional_cda

    with kernel.transaction() as session:
        account = MssAccount(
            pharmacy_id=pharmacy_id,
            kind=AccountKind.ORGANISATIONAL,
            address="officine@bench.mssante.fr",
            login="officine@bench.mssante.fr",
            password_encrypted="-",
        )
        session.add(account)
        session.flush()
        for index in range(count):
            message = MssMessage(
                pharmacy_id=pharmacy_id,
                account_id=account.id,
                direction=Direction.IN,
                message_id=f"<bench-{index}@bench>",
                peer="anne.medecin-demo@medecin.mssante.fr",
                subject="XDM/1.0/DDM+Compte rendu MARTIN-DEMO CAMILLE 14/03/1985",
                patient_id=patient_id,
                status=MessageStatus.INTEGRATED,
            )
            session.add(message)
            session.flush()
            session.add(
                MssReceivedDocument(
                    pharmacy_id=pharmacy_id,
                    message_id=message.id,
                    patient_id=patient_id,
                    unique_id=f"2.25.{index}",
                    type_code="78601-2",
                    title=f"Compte rendu du médecin n° {index + 1}",
                    content=professional_cda(identity),
                )
            )


class Operator:
    """A signed-in titulaire on the real app; records the time of each page."""

    def __init__(self, kernel: Kernel, patient_id: int) -> None:
        from lgo_web import create_app

        self.app = create_app(kernel, secure_cookies=False)
        self.client = self.app.test_client()
        self.client.environ_base.update({"HTTP_REFERER": "http://localhost/", "HTTP_HOST": "localhost"})
        page = self.client.get("/connexion").get_data(as_text=True)
        self.client.post(
            "/connexion", data={"code": "titulaire", "password": PASSWORD, "csrf_token": _token(page, "csrf_token")}
        )
        home = self.client.get("/comptoir/").get_data(as_text=True)
        opened = self.client.post(
            "/comptoir/ouvrir", data={"csrf_token": _token(home, "csrf_token"), "patient_id": str(patient_id)}
        )
        self.billing = opened.headers["Location"]
        self.file = f"/comptoir/patients/{patient_id}/dossier?draft_id={self.billing.rsplit('/', 1)[-1]}"
        self.times: dict[str, list[float]] = {page: [] for page in PAGES}

    def _timed(self, page: str, url: str) -> str:
        start = time.perf_counter()
        response = self.client.get(url)
        self.times[page].append(time.perf_counter() - start)
        assert response.status_code == 200, (page, response.status_code)
        return response.get_data(as_text=True)

    def round(self) -> None:
        html = self._timed("dossier", self.file)
        assert "Délivrances des 12 derniers mois" in html
        self._timed("facturation", self.billing)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(values, 0.5) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "mean_ms": statistics.fmean(values) * 1000,
        "n": len(values),
    }


def run(lines: int, documents: int, rounds: int, out: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lgo-bench-dossier-") as folder:
        url = f"sqlite:///{folder}/dossier.sqlite"
        full = Kernel(url)
        full.upgrade_database()
        full.start()
        with full.transaction() as session:
            seeded = seed(session)
        wave1 = [info.name for info in full.registry.loaded() if info.wave == 1]
        for name in wave1:
            full.enable(seeded.pharmacy_id, name, with_dependencies=True)
        patient, titulaire = seeded.patients["camille"], seeded.operators["titulaire"]
        print(f"  historique : {lines} lignes, {documents} documents…", file=sys.stderr, flush=True)
        history(full, seeded.pharmacy_id, patient, titulaire, lines, documents)
        alone = Kernel(url, discover_installed=False).start()
        operators = {"noyau seul": Operator(alone, patient), "modules de la vague 1": Operator(full, patient)}
        for operator in operators.values():  # warm-up: templates compiled, caches filled
            operator.round()
            operator.times = {page: [] for page in PAGES}
        for index in range(rounds):
            for operator in operators.values():
                operator.round()
            if index % 20 == 19:
                print(f"  {index + 1}/{rounds} tours", file=sys.stderr, flush=True)
        alone.close()
        full.close()
    measured = {label: {page: _stats(op.times[page]) for page in PAGES} for label, op in operators.items()}
    full_file, alone_file = measured["modules de la vague 1"]["dossier"], measured["noyau seul"]["dossier"]
    billing = measured["modules de la vague 1"]["facturation"]
    result: dict[str, Any] = {
        "lines": lines,
        "documents": documents,
        "rounds": rounds,
        "plugins": wave1,
        "pages": measured,
        "ratio_p50_modules_vs_noyau": full_file["p50_ms"] / alone_file["p50_ms"],
        "ratio_p99_modules_vs_noyau": full_file["p99_ms"] / alone_file["p99_ms"],
        "ratio_p50_dossier_vs_facturation": full_file["p50_ms"] / billing["p50_ms"],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "patient_file.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    rows = [
        f"# Dossier du patient : temps serveur à l'ouverture ({lines} lignes d'ordonnancier, {documents} documents, "
        f"{rounds} tours)",
        "",
        "| page | noyau seul p50 / p99 (ms) | vague 1 p50 / p99 (ms) |",
        "|---|---|---|",
    ]
    for page in PAGES:
        a, b = measured["noyau seul"][page], measured["modules de la vague 1"][page]
        rows.append(f"| {page} | {a['p50_ms']:.1f} / {a['p99_ms']:.1f} | {b['p50_ms']:.1f} / {b['p99_ms']:.1f} |")
    rows += [
        "",
        f"Rapport dossier, modules de la vague 1 / noyau seul : p50 {result['ratio_p50_modules_vs_noyau']:.2f}, "
        f"p99 {result['ratio_p99_modules_vs_noyau']:.2f}.",
        "Rapport dossier / écran de facturation (modules actifs), p50 : "
        f"{result['ratio_p50_dossier_vs_facturation']:.2f}.",
    ]
    (out / "patient_file.md").write_text("\n".join(rows) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--documents", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    result = run(args.lines, args.documents, args.rounds, args.out)
    print((args.out / "patient_file.md").read_text())
    print(f"plugins: {', '.join(result['plugins'])}")


if __name__ == "__main__":
    main()
