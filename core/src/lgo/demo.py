"""``lgo demo``: a fictional pharmacy and a scripted counter sequence, told as a French journal.

The kernel's steps come first; then, for each plugin active in the demonstration pharmacy, the steps registered
under its name in the entry-point group ``lgo.demo`` (:data:`lgo.plugins.discovery.DEMO_GROUP`). Those steps start
the local sandboxes of the national services, so they ship with ``lgo-sandbox`` (``pip install 'lgo-core[demo]'``),
never inside a plugin: a production install has no demonstration, and ``lgo demo`` says so in one French line.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from lgo.config import data_dir
from lgo.counter import Counter
from lgo.demo_data import Seeded, seed
from lgo.domain import audit, outbox
from lgo.domain.dispensing import create_prescription
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import Operator, Pharmacy
from lgo.domain.stock import Lot, on_hand
from lgo.errors import LgoError
from lgo.kernel import Kernel
from lgo.plugins import discovery
from lgo.worker import Worker

PARIS = ZoneInfo("Europe/Paris")

MISSING_DEMO_FR = (
    "La démonstration a besoin des bacs à sable des services nationaux, absents de cette installation : "
    "installez-les avec « pip install 'lgo-core[demo]' » (ou lancez « python3 dev.py demo » depuis les sources)."
)


@dataclass
class DemoContext:
    kernel: Kernel
    seeded: Seeded
    journal: list[str] = field(default_factory=list)
    #: Free room for steps to hand things to later steps (e.g. a prescription id).
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def pharmacy_id(self) -> int:
        return self.seeded.pharmacy_id

    def counter(self, operator: str = "adjoint") -> Counter:
        return Counter(self.kernel, self.pharmacy_id, self.seeded.operators[operator])


@dataclass(frozen=True)
class DemoStep:
    title_fr: str
    run: Callable[[DemoContext], list[str]]


def run_demo(database: str | None = None, echo: Callable[[str], None] = click.echo) -> int:
    if database is None:
        path = data_dir() / "demo.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = f"sqlite:///{path}"
    plugin_steps = discovery.demo_steps()
    if not plugin_steps:
        click.echo(MISSING_DEMO_FR, err=True)
        return 1
    echo("LGO — démonstration sur une officine fictive (aucune donnée réelle)")
    echo(f"Base de démonstration : {database.split('@')[-1]}")
    kernel = Kernel(database)
    # The demo provokes delivery failures on purpose: the journal tells them in French.
    logging.getLogger("lgo.worker").setLevel(logging.ERROR)
    try:
        kernel.upgrade_database()
        kernel.start()
        with kernel.transaction() as session:
            seeded = seed(session)
        context = DemoContext(kernel, seeded)
        steps = kernel_steps()
        for name in kernel.registry.order:
            if name in plugin_steps:
                steps.extend(_only_if_active(name, step) for step in plugin_steps[name]())
        for number, step in enumerate(steps, start=1):
            echo("")
            echo(click.style(f"[{number}/{len(steps)}] {step.title_fr}", bold=True))
            try:
                lines = step.run(context)
            except LgoError as exc:
                lines = [f"⚠ étape interrompue : {exc.message_fr}"]
            for line in lines:
                echo(f"    {line}")
        echo("")
        echo(click.style("Journal d'audit (dernières entrées)", bold=True))
        with kernel.transaction() as session:
            for entry in reversed(audit.recent(session, seeded.pharmacy_id, limit=12)):
                echo(f"    {entry.at.astimezone(PARIS):%H:%M:%S}  {entry.actor:<10} {entry.message_fr}")
        echo("")
        echo("Démonstration terminée.")
        return 0
    finally:
        kernel.close()


MISSING_WEB_FR = (
    "Le comptoir de démonstration a besoin de lgo-web et des bacs à sable : installez-les avec "
    "« pip install 'lgo-core[demo]' lgo-web » (ou lancez « python3 dev.py lgo demo --web » depuis les sources)."
)


def serve_demo(database: str | None = None, port: int = 8080, echo: Callable[[str], None] = click.echo) -> int:
    """``lgo demo --web``: a fresh demonstration pharmacy (wave 1 switched on), its sandboxes kept running, the counter
    served on loopback until Ctrl-C. The web server and the sandboxes come from the entry-point groups ``lgo.web``
    and ``lgo.demo_services`` (the kernel imports neither package)."""
    from importlib.metadata import entry_points

    from lgo.demo_data import PASSWORD

    serve = next(iter(entry_points(group="lgo.web", name="serve")), None)
    services = next(iter(entry_points(group="lgo.demo_services", name="web")), None)
    if serve is None or services is None:
        click.echo(MISSING_WEB_FR, err=True)
        return 1
    if database is None:
        path = data_dir() / "demo-web.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = f"sqlite:///{path}"
    kernel = Kernel(database)
    try:
        kernel.upgrade_database()
        kernel.start()
        with kernel.transaction() as session:
            seeded = seed(session)
        for info in kernel.registry.loaded():
            if info.wave == 1:
                kernel.enable(seeded.pharmacy_id, info.name, with_dependencies=True)
        echo("LGO — comptoir de démonstration (officine fictive, aucune donnée réelle)")
        with services.load()(kernel, seeded.pharmacy_id) as lines:
            for line in lines:
                echo(f"  {line}")
            echo("Opérateurs (code / mot de passe) :")
            with kernel.transaction() as session:
                for code, operator_id in seeded.operators.items():
                    operator = session.get(Operator, operator_id)
                    assert operator is not None
                    echo(f"  {code:<13} / {PASSWORD}   — {operator.display_name}, {operator.role.label_fr}")
            serve.load()(kernel, "127.0.0.1", port, echo)
        return 0
    finally:
        kernel.close()


def _only_if_active(plugin: str, step: DemoStep) -> DemoStep:
    def run(ctx: DemoContext) -> list[str]:
        if not ctx.kernel.is_active(ctx.pharmacy_id, plugin):
            return [f"Module « {plugin} » non actif dans l'officine de démonstration : étape passée."]
        return step.run(ctx)

    return DemoStep(step.title_fr, run)


def kernel_steps() -> list[DemoStep]:
    return [
        DemoStep("Ouverture de l'officine", _step_pharmacy),
        DemoStep("Modules Ségur", _step_modules),
        DemoStep("Stock reçu du grossiste", _step_stock),
        DemoStep("Comptoir : une ordonnance, deux médicaments", _step_billing),
        DemoStep("Stock insuffisant : refus, puis vente motivée par le pharmacien", _step_forced_sale),
        DemoStep("Correction d'une ligne de l'ordonnancier", _step_correction),
        DemoStep("File d'envoi : un service distant indisponible, puis rétabli", _step_outbox),
    ]


def _step_pharmacy(ctx: DemoContext) -> list[str]:
    with ctx.kernel.transaction() as session:
        pharmacy = session.get(Pharmacy, ctx.pharmacy_id)
        assert pharmacy is not None
        lines = [
            f"{pharmacy.name}, FINESS {pharmacy.finess}, {pharmacy.address}, {pharmacy.postal_code} {pharmacy.city}",
            "Équipe :",
        ]
        for operator_id in ctx.seeded.operators.values():
            op = session.get(Operator, operator_id)
            assert op is not None
            rpps = f", RPPS {op.rpps}" if op.rpps else ""
            lines.append(f"  • {op.display_name} — {op.role.label_fr}{rpps} (code « {op.code} »)")
        lines.append(f"Patients fictifs : {len(ctx.seeded.patients)}")
    return lines


def _step_modules(ctx: DemoContext) -> list[str]:
    # The demonstration pharmacy switches on wave 1, then wave 2 (its modules use wave 1's when active).
    for wave in (1, 2):
        for name in [i.name for i in ctx.kernel.registry.loaded() if i.wave == wave]:
            ctx.kernel.enable(ctx.pharmacy_id, name, with_dependencies=True)
    lines = []
    for info in ctx.kernel.plugin_states(ctx.pharmacy_id):
        reason = f" — {info.reason}" if info.reason else ""
        lines.append(f"• {info.name} {info.version} (vague {info.wave or '?'}) : {info.state.label_fr}{reason}")
    return lines or ["Aucun module Ségur installé : le noyau fonctionne seul."]


def _step_stock(ctx: DemoContext) -> list[str]:
    lines = []
    with ctx.kernel.transaction() as session:
        for lot_id in ctx.seeded.lots.values():
            lot = session.get(Lot, lot_id)
            assert lot is not None
            lines.append(
                f"• {lot.product.label[:60]:<60} lot {lot.lot_number:<10} "
                f"péremption {lot.expiry:%d/%m/%Y} : {on_hand(session, lot.id)}"
            )
    return lines


def _patient_name(ctx: DemoContext, key: str) -> str:
    with ctx.kernel.transaction() as session:
        patient = session.get(Patient, ctx.seeded.patients[key])
        assert patient is not None
        return patient.display_name


def _step_billing(ctx: DemoContext) -> list[str]:
    counter = ctx.counter("adjoint")
    patient_id = ctx.seeded.patients["camille"]
    lines = [f"Carte Vitale lue : {_patient_name(ctx, 'camille')} sélectionnée par Paul Lemoine-Démo."]
    for action in counter.select_patient(patient_id, source="vitale"):
        lines.append(f"→ {action.title_fr} ({action.plugin})")
    with ctx.kernel.transaction() as session:
        prescription = create_prescription(
            session,
            ctx.pharmacy_id,
            patient_id,
            prescriber_name="Dr Aline Fabre-Démo",
            prescriber_rpps=None,
            prescribed_on=date.today() - timedelta(days=1),
        )
        ctx.notes["prescription_id"] = prescription.id
    billing = counter.start_billing(prescription_id=ctx.notes["prescription_id"])
    counter.add_product(billing, ctx.seeded.products["amoxicilline"], 3)
    counter.add_product(billing, ctx.seeded.products["paracetamol"], 2)
    result = counter.end_billing(billing)
    ctx.notes["first_result"] = result
    lines.append("Ordonnance du Dr Aline Fabre-Démo (veille) : amoxicilline ×3, paracétamol ×2.")
    lines.append("Lot d'amoxicilline choisi : le plus proche de la péremption qui couvre la quantité (AM24C).")
    lines.append(result.summary_fr())
    lines.append("Ordonnancier : n° " + ", ".join(str(n) for n in result.dispensation_numbers))
    for action in result.actions:
        lines.append(f"→ à faire : {action.title_fr} ({action.plugin})")
    return lines


def _step_forced_sale(ctx: DemoContext) -> list[str]:
    counter = ctx.counter("adjoint")
    billing = counter.start_billing(prescription_id=ctx.notes["prescription_id"])
    counter.add_product(billing, ctx.seeded.products["tramadol"], 2)
    lines = ["Tramadol ×2 demandé, 1 boîte en stock."]
    try:
        counter.end_billing(billing)
    except LgoError as exc:
        lines.append(f"Refus : {exc.message_fr}")
    billing = counter.start_billing(prescription_id=ctx.notes["prescription_id"])
    counter.add_product(
        billing, ctx.seeded.products["tramadol"], 2, force=True, force_reason="boîte en réserve non encore réceptionnée"
    )
    result = counter.end_billing(billing)
    lines.append(f"Vente forcée par le pharmacien, motif enregistré au journal : {result.summary_fr()}")
    return lines


def _step_correction(ctx: DemoContext) -> list[str]:
    from sqlalchemy import select

    from lgo.domain.dispensing import Dispensation

    first = ctx.notes["first_result"]
    with ctx.kernel.transaction() as session:
        original = session.scalar(
            select(Dispensation).where(
                Dispensation.pharmacy_id == ctx.pharmacy_id, Dispensation.number == first.dispensation_numbers[1]
            )
        )
        assert original is not None
        original_id, original_number = original.id, original.number
    counter = Counter(ctx.kernel, ctx.pharmacy_id, ctx.seeded.operators["titulaire"])
    counter.correct_dispensation(original_id, quantity=1, reason="une seule boîte délivrée")
    with ctx.kernel.transaction() as session:
        fixed = session.scalar(select(Dispensation).where(Dispensation.corrects_id == original_id))
        assert fixed is not None
        return [
            f"La ligne n° {original_number} reste telle quelle ; la correction est la ligne n° {fixed.number} "
            f"(quantité {fixed.quantity}, motif « {fixed.correction_reason} »)."
        ]


def _step_outbox(ctx: DemoContext) -> list[str]:
    with _flaky_receiver(failures=1) as (url, received):
        with ctx.kernel.transaction() as session:
            message = outbox.enqueue(
                session,
                ctx.pharmacy_id,
                plugin="kernel",
                kind="http.post",
                payload={"url": url, "body": {"facture": ctx.notes["first_result"].invoice_number}},
                idempotency_key=f"demo-facture-{ctx.notes['first_result'].invoice_number}",
            )
            message_id = message.id
        worker = Worker(ctx.kernel, base_backoff_seconds=0.2, plugins=("kernel",))  # not the modules' messages
        lines = [f"Accusé de la facture mis en file d'envoi (message n° {message_id})."]
        worker.run_once()
        with ctx.kernel.transaction() as session:
            msg = session.get(outbox.OutboxMessage, message_id)
            assert msg is not None
            failure = "le service a répondu « 503 indisponible »" if msg.last_error else "délivré"
            lines.append(f"1er essai : {failure} → {msg.status.label_fr}, nouvel essai programmé.")
        time.sleep(0.3)
        worker.drain()
        with ctx.kernel.transaction() as session:
            msg = session.get(outbox.OutboxMessage, message_id)
            assert msg is not None
            lines.append(
                f"2e essai : {msg.status.label_fr} "
                f"(reçu {len(received)} fois, clé d'idempotence {msg.idempotency_key})."
            )
    return lines


@contextmanager
def _flaky_receiver(failures: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP receiver that answers 503 the first ``failures`` times, then records and accepts."""
    received: list[dict[str, Any]] = []
    state = {"failures": failures}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state["failures"] > 0:
                state["failures"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            received.append(json.loads(body or b"null"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/accuse", received
    finally:
        server.shutdown()
        server.server_close()
