"""``lgo demo`` step: an ordonnance numérique scanned, checked line by line, billed and transmitted."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import LgoError
from lgo_eordonnance import service

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep

QR = "ORDNUM:1:3F8B2N6W4C9H1V7"


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("Ordonnance numérique : QR code, délivrance ligne à ligne, transmission en deux temps", _step)]


def _step(ctx: DemoContext) -> list[str]:
    from lgo.api import Pharmacy
    from lgo.worker import Worker

    from lgo_sandbox.eordonnance import start_eordonnance_sandbox
    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    pharmacist, patient = ctx.seeded.operators["titulaire"], ctx.seeded.patients["camille"]
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lgo-demo-eord-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        with kernel.transaction() as session:
            finess = session.get(Pharmacy, pharmacy_id).finess  # type: ignore[union-attr]
        credential = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
        server, _sandbox = start_eordonnance_sandbox(authority)
        try:
            kernel.select_provider(pharmacy_id, "eordonnance", "json")
            credential.store_for(kernel, pharmacy_id)
            kernel.save_plugin_settings(
                pharmacy_id,
                "eordonnance",
                {
                    "endpoint": server.url,
                },
            )
            lines.append(f"Bac à sable de l'ordonnance numérique sur {server.url} (TLS mutuel).")
            try:
                service.retrieve(kernel, pharmacy_id, pharmacist, patient, "QR-CODE-D'UN-AUTRE-DOCUMENT")
            except LgoError as exc:
                lines.append(f"Mauvais code scanné → « {exc.message_fr} »")
            got = service.retrieve(kernel, pharmacy_id, pharmacist, patient, QR)
            p = got.prescription
            lines.append(
                f"Ordonnance {p.identifier} du {p.prescribed_on}, {p.prescriber_name} : {len(p.lines)} "
                "ligne(s), prescripteur et date repris automatiquement."
            )
            lines += [f"→ {a.title_fr} {a.message_fr}" for a in got.actions]
            execution = got.execution_id
            service.confirm_line(kernel, pharmacy_id, execution, "L1")
            service.decide_line(kernel, pharmacy_id, execution, "L2", "as_prescribed")
            service.decide_line(
                kernel,
                pharmacy_id,
                execution,
                "L3",
                "not_dispensed",
                reason="traitement déjà en cours, boîte entamée à domicile",
            )
            service.decide_line(
                kernel,
                pharmacy_id,
                execution,
                "L4",
                "partial",
                quantity=1,
                info="rupture chez le grossiste, 2e boîte à venir",
            )
            for difference in service.control_view(kernel, pharmacy_id, execution):
                lines.append(f"Écart — {difference.label} : {difference.text_fr}")
            result = service.validate_and_bill(kernel, pharmacy_id, execution, pharmacist)
            lines.append(result.summary_fr())
            Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id, plugins=("eordonnance",)).drain()
            lines.append("1er envoi (produits délivrés) transmis à l'Assurance Maladie.")
            service.acknowledge_invoice_batch(kernel, pharmacy_id, [result.invoice_id])
            Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id, plugins=("eordonnance",)).drain()
            lines.append("Lot de factures acquitté : 2e envoi (complément de facturation) transmis.")
        finally:
            server.stop()
    return lines
