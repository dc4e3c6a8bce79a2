"""``lgo demo`` step of the Dossier Pharmaceutique, against the DP sandbox started on loopback (mutual TLS): the DP
proposed and created, a dispensation fed with its lot, the 12-month history merged with another pharmacy's lines and
the duplicate flagged, an unqualified identity refused, a recall blocking both counters until acknowledged."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lgo.api import IdentityNotShareable, LgoError, TlsEndpoint, create_prescription
from lgo_dp import bulletins, consent, consultation
from lgo_dp.json_driver import JsonHttpsTransport
from lgo_dp.transport import DispensedLine, DpPatient, Professional

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep

    from lgo_sandbox.dp import DpSandbox
    from lgo_sandbox.pki import TestAuthority

#: The other (fictional) pharmacy that dispensed to the patient last month.
OTHER_FINESS = "990000021"


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [
        DemoStep("Dossier Pharmaceutique : création, alimentation, historique à 12 mois, rappel de lot bloquant", _step)
    ]


def _step(ctx: DemoContext) -> list[str]:
    from lgo.api import Pharmacy

    from lgo_sandbox.dp import start_dp_sandbox
    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lgo-demo-dp-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        with kernel.transaction() as session:
            finess = session.get(Pharmacy, pharmacy_id).finess  # type: ignore[union-attr]
        credential = authority.organisation("DP", finess=finess, organisation="PHARMACIE DES TILLEULS")
        server, sandbox = start_dp_sandbox(authority)
        try:
            credential.store_for(kernel, pharmacy_id)  # as the administrator does on the « Certificat » page
            kernel.select_provider(pharmacy_id, "dp", "json")
            kernel.save_plugin_settings(pharmacy_id, "dp", {"endpoint": server.url})
            lines.append(f"Bac à sable du DP sur {server.url} (TLS mutuel avec le certificat de l'officine).")
            lines += _unqualified(ctx)
            try:
                identity = kernel.shareable_identity(pharmacy_id, ctx.seeded.patients["camille"])
            except IdentityNotShareable as exc:
                return [*lines, f"Camille : {exc.message_fr} (activez le module INS pour la suite)."]
            lines += _other_pharmacy(authority, server.url, DpPatient.of(identity))
            lines += _creation_and_feeding(ctx)
            lines += _history(ctx)
            lines += _recall(ctx, sandbox)
        finally:
            server.stop()
    return lines


def _worker_turn(ctx: DemoContext) -> None:
    from lgo.worker import Worker

    worker = Worker(ctx.kernel, base_backoff_seconds=0.0, pharmacy_id=ctx.pharmacy_id, plugins=("dp",))
    worker.run_periodic(force=True)
    worker.drain()


def _unqualified(ctx: DemoContext) -> list[str]:
    try:
        consultation.consult(
            ctx.kernel, ctx.pharmacy_id, ctx.seeded.operators["titulaire"], ctx.seeded.patients["jean"]
        )
    except LgoError as exc:
        return [f"Jean (identité non qualifiée) : « {exc.message_fr} »"]
    return ["Jean : identité qualifiée, consultation possible."]


def _other_pharmacy(authority: TestAuthority, url: str, patient: DpPatient) -> list[str]:
    """Another pharmacy (its own certificate) created the DP and fed two lines last month."""
    from lgo.demo_data import cip13

    other = authority.organisation("DP", finess=OTHER_FINESS, organisation="PHARMACIE DU MARCHE")
    driver = JsonHttpsTransport(TlsEndpoint(url, other.client(), str(other.ca_path), 5.0))
    pharmacist = Professional("Hugo Martin-Démo", "pharmacien titulaire", None)
    driver.create(patient, pharmacist, idempotency_key="demo-creation-marche")
    last_month = date.today() - timedelta(days=30)
    driver.feed(
        patient,
        [
            DispensedLine(f"{OTHER_FINESS}-O41", last_month, cip13("3000011"), "PARACÉTAMOL LGO 1 g", 2, "PA23Z"),
            DispensedLine(f"{OTHER_FINESS}-O42", last_month, cip13("3000042"), "LÉVOTHYROXINE LGO 75 µg", 1, "LE23X"),
        ],
        idempotency_key="demo-marche-1",
    )
    return ["La Pharmacie du Marché a créé le DP de Camille le mois dernier et y a inscrit deux délivrances."]


def _creation_and_feeding(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    patient, titulaire = ctx.seeded.patients["camille"], ctx.seeded.operators["titulaire"]
    counter = ctx.counter("titulaire")
    lines = []
    for action in counter.select_patient(patient):
        if action.kind == "dp.propose_creation":
            lines.append(f"Au comptoir : « {action.title_fr} » — " + " / ".join(c.label_fr for c in action.choices))
            consent.answer(kernel, pharmacy_id, titulaire, patient, "create")
            lines.append("Camille a déjà un DP (créé ailleurs) : la demande de création le retrouve sans doublon.")
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, pharmacy_id, patient, prescriber_name="Dr Anne MÉDECIN-DÉMO", prescribed_on=date.today()
        ).id
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, ctx.seeded.products["amoxicilline"], 1, lot_number="AM24C")
    result = counter.end_billing(billing)
    lines.append(f"{result.summary_fr()} — la ligne part vers le DP par la file d'envoi, lot AM24C compris.")
    _worker_turn(ctx)
    lines.append("Un tour du worker : la délivrance est dans le DP (une seule fois, clé d'idempotence).")
    return lines


def _history(ctx: DemoContext) -> list[str]:
    from lgo.api import Product
    from sqlalchemy import select

    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    with kernel.transaction() as session:
        paracetamol = session.scalars(
            select(Product.id).where(
                Product.pharmacy_id == pharmacy_id, Product.cip13 == ctx.seeded.products["paracetamol"]
            )
        ).one()
    found = consultation.consult(
        kernel,
        pharmacy_id,
        ctx.seeded.operators["preparatrice"],
        ctx.seeded.patients["camille"],
        product_ids=[paracetamol],
    )
    lines = [
        f"Historique du DP sur 12 mois (consultation tracée) : {len(found.lines)} ligne(s), {found.pharmacies} "
        "officine(s) :"
    ]
    lines += [f"  {line.text_fr}" for line in found.lines]
    lines += [f"⚠ Paracétamol à délivrer : {flag.text_fr}" for flag in found.flags]
    return lines


def _recall(ctx: DemoContext, sandbox: DpSandbox) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    sandbox.publish(
        "rappel",
        "Rappel du lot AM24C d'amoxicilline",
        "Défaut de dissolution : retirez le lot de la vente, rappelez les patients.",
        issuer="ANSM",
        products=[{"cip13": ctx.seeded.products["amoxicilline"], "libelle": "AMOXICILLINE LGO 1 g", "lots": ["AM24C"]}],
    )
    _worker_turn(ctx)
    lines = ["L'ANSM publie un rappel de lot ; le worker le relève dans la minute."]
    for _plugin, action in kernel.hooks.counter_blocking(pharmacy_id):
        lines.append(f"Tous les comptoirs de l'officine sont bloqués : {action.title_fr}")
    (pending,) = bulletins.pending(kernel, pharmacy_id)
    lines.append(pending.impact.text_fr)
    bulletins.acknowledge(kernel, pharmacy_id, pending.id, ctx.seeded.operators["preparatrice"])
    free = not kernel.hooks.counter_blocking(pharmacy_id)
    lines.append(
        "Accusé de lecture par la préparatrice (tracé, transmis au DP) : "
        + ("tous les comptoirs sont débloqués." if free else "les comptoirs restent bloqués !")
    )
    _worker_turn(ctx)
    return lines
