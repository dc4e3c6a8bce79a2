"""``lgo demo`` steps of the DMP plugin, against the sandbox DMP started on loopback."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import LgoError, SharedIdentity, cda, documents
from lgo.demo_data import camille_identity
from lgo_dmp import service
from lgo_dmp.client import DmpUnavailable

from lgo_sandbox.pdf import simple_pdf

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep

#: Fictional test INS (the ANS test identities use OID 1.2.250.1.213.1.4.10).
DEMO_INS = "285039910012345"


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("DMP : envoi d'un compte rendu d'entretien et consultation (bac à sable)", _step_dmp)]


def _step_dmp(ctx: DemoContext) -> list[str]:
    from lgo.api import Pharmacy
    from lgo.worker import Worker

    from lgo_sandbox.dmp import start_dmp_sandbox
    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    if not kernel.is_active(pharmacy_id, "dmp"):
        kernel.enable(pharmacy_id, "dmp")
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lgo-demo-dmp-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        with kernel.transaction() as session:
            pharmacy = session.get(Pharmacy, pharmacy_id)
            assert pharmacy is not None
            finess = pharmacy.finess
        organisation = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
        server, sandbox = start_dmp_sandbox(authority, failure_rate=0.3, seed=3)
        try:
            organisation.store_for(kernel, pharmacy_id)
            kernel.save_plugin_settings(
                pharmacy_id,
                "dmp",
                {
                    **kernel.plugin_settings(pharmacy_id, "dmp").model_dump(),
                    "endpoint": server.url,
                },
            )
            lines.append(f"Bac à sable DMP démarré sur {server.url} (TLS mutuel, 30 % des requêtes en échec).")
            lines += _feed(ctx, sandbox)
            worker = Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy_id, plugins=("dmp",))
            for _ in range(30):
                if not worker.drain():
                    break
            patient_id = ctx.seeded.patients["camille"]
            for submission in service.submissions_for_patient(kernel, pharmacy_id, patient_id):
                lines.append(
                    f"Suivi DMP du document n° {submission.document_id} : {submission.status_fr} "
                    f"({submission.attempts} tentative(s))."
                )
            lines.append(
                f"Dépôts reçus par le DMP : {sum(sandbox.registrations.values())} "
                f"(un seul par document malgré les pannes)."
            )
            sandbox.failure_rate = 0.0
            lines += _consult(ctx)
        finally:
            server.stop()
    return lines


def _demo_identity(ctx: DemoContext, patient_id: int) -> tuple[SharedIdentity, bool]:
    try:
        return ctx.kernel.shareable_identity(ctx.pharmacy_id, patient_id), True
    except Exception:
        return camille_identity(patient_id, DEMO_INS), False


def _feed(ctx: DemoContext, sandbox: Any) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    patient_id = ctx.seeded.patients["camille"]
    titulaire = ctx.seeded.operators["titulaire"]
    identity, qualified = _demo_identity(ctx, patient_id)
    pdf = simple_pdf(
        [
            "Compte rendu d'entretien pharmaceutique (demonstration)",
            "Patiente : Camille MARTIN-DEMO",
            "Traitement anticoagulant oral : observance bonne.",
        ]
    )
    with kernel.transaction() as session:
        draft = documents.create_draft(
            session,
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            author_operator_id=titulaire,
            type_code="78601-2",
            type_display="CR d'entretien pharmaceutique",
            title="Entretien pharmaceutique AVK",
            source_plugin="dmp-demo",
        )
        header = cda.header_for_document(session, draft, identity, effective_time=datetime.now(UTC))
        content = cda.wrap_pdf(header, pdf)
        documents.set_content(draft, content)
        document_id = draft.id
    lines = [f"CR d'entretien pharmaceutique en CDA niveau 1 (PDF encapsulé, {len(content)} octets)."]
    choices = service.send_choices(kernel, pharmacy_id, document_id)
    lines.append(f"Titre proposé « {choices.title} » ; visible par le patient : oui ; par les professionnels : oui.")
    choices = replace(choices, title="Entretien AVK du jour", visible_to_patient=True)
    lines.append("Le pharmacien choisit le titre « Entretien AVK du jour » et garde la visibilité par défaut.")
    lines.append("Confirmation : " + service.validate_and_send(kernel, pharmacy_id, document_id, titulaire, choices))
    if not qualified:
        lines.append(
            "Aucun module INS actif n'a qualifié l'identité : le document attend. Pour la démonstration, "
            "l'envoi direct avec une identité INS de test fictive est montré."
        )
        with service.make_client(kernel, pharmacy_id, titulaire) as client:
            for _ in range(10):
                try:
                    result = client.provide_and_register(content, title=choices.title)
                    break
                except DmpUnavailable as failure:
                    lines.append(f"  ↻ {failure.message_fr}")
            else:
                result = "non envoyé"
        lines.append(
            "Envoi direct (ITI-41, MTOM, VIHF signé) : "
            + {
                "registered": "déposé dans le DMP.",
                "already": "déjà présent (la réponse s'était perdue ; le renvoi n'a pas créé de doublon).",
            }.get(result, result)
        )
    return lines


def _consult(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    patient_id = ctx.seeded.patients["camille"]
    adjoint = ctx.seeded.operators["adjoint"]
    lines: list[str] = []
    identity, qualified = _demo_identity(ctx, patient_id)
    try:
        service.list_documents(kernel, pharmacy_id, ctx.seeded.operators["preparatrice"], patient_id)
    except LgoError as refused:
        lines.append(f"Préparatrice sans habilitation : « {refused.message_fr} » (refus tracé).")
    if qualified:
        entries = service.list_documents(kernel, pharmacy_id, adjoint, patient_id)
    else:
        with service.make_client(kernel, pharmacy_id, adjoint) as client:
            entries = client.find_documents(identity.xds_patient_id)
    for entry in entries:
        lines.append(
            f"DMP de Camille : {entry.date_fr} — {entry.type_display} — « {entry.title} » — "
            f"{entry.author} — {entry.status_fr}."
        )
    if entries:
        if qualified:
            content = service.open_document(kernel, pharmacy_id, adjoint, patient_id, entries[0])
        else:
            with service.make_client(kernel, pharmacy_id, adjoint) as client:
                content = client.retrieve(
                    identity.xds_patient_id, entries[0].unique_id, entries[0].repository_unique_id
                )
        html = service.render_document(content)
        lines.append(f"Document récupéré (ITI-43) et affiché en HTML ({len(html)} caractères).")
    with kernel.transaction() as session:
        history = service.access_history(session, pharmacy_id, patient_id)
    lines.append(f"Historique des accès DMP de la patiente : {len(history)} entrée(s), dont :")
    lines += [f"  • {access.message_fr}" for access in history[:4]]
    return lines
