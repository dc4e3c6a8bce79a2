"""``lgo demo`` step: an AVK interview and a bilan partagé de médication, from record to validated document."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from lgo.api import HealthDocument
from lgo_entretiens import service
from lgo_entretiens.themes import theme

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("Entretien AVK et bilan partagé de médication : compte rendu PDF, CDA, validation", _step)]


def _step(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    if not kernel.is_active(pharmacy_id, service.PLUGIN):
        kernel.enable(pharmacy_id, service.PLUGIN)
    pharmacist = ctx.seeded.operators["titulaire"]
    patient = ctx.seeded.patients["camille"]
    lines: list[str] = []
    avk = service.record_interview(
        kernel,
        pharmacy_id,
        patient,
        pharmacist,
        theme_code="AVK",
        held_on=date.today(),
        analysis="INR dans la cible sur les trois derniers contrôles. Carnet de suivi tenu.",
        recommendations="Poursuivre le traitement ; éviter l'automédication par AINS ; prochain entretien dans 6 mois.",
    )
    lines.append(f"Entretien enregistré : {theme('AVK').label_fr} (acte {theme('AVK').act_code}).")
    bpm = service.record_bpm(
        kernel,
        pharmacy_id,
        patient,
        pharmacist,
        held_on=date.today(),
        analysis="Traitements délivrés revus avec la patiente ; pas d'interaction majeure relevée.",
        recommendations="Proposer au médecin traitant une réévaluation de l'antalgique au long cours.",
    )
    with kernel.transaction() as session:
        from lgo_entretiens.model import InterviewRecord

        record = session.get(InterviewRecord, bpm)
        count = len(record.medications) if record else 0
    lines.append(
        f"Bilan partagé de médication enregistré : {count} médicament(s) repris de l'historique de délivrance."
    )
    for record_id, label in ((avk, "compte rendu d'entretien"), (bpm, "bilan partagé de médication")):
        actions = service.validate_document(kernel, pharmacy_id, record_id, pharmacist)
        waiting = [a for a in actions if a.kind == "ins.qualify"]
        if waiting:
            lines.append(f"{label.capitalize()} : en attente — {waiting[0].message_fr}")
            continue
        prepared = service.prepare_document(kernel, pharmacy_id, record_id)
        with kernel.transaction() as session:
            document = session.get(HealthDocument, prepared.document_id)
            assert document is not None
            size = len(document.content or b"")
            lines.append(
                f"{label.capitalize()} : PDF enveloppé en CDA R2 niveau 1 ({size // 1024} Ko), "
                f"« {document.title} », statut {document.status.label_fr}."
            )
    if kernel.is_active(pharmacy_id, "dmp"):
        lines.append("Le module DMP prend en charge les documents validés (alimentation automatique).")
    else:
        lines.append("Module DMP inactif : les documents validés restent dans le LGO, exportables.")
    return lines
