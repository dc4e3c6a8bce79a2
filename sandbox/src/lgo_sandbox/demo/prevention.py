"""``lgo demo`` step of the prevention plugin: Mon bilan prévention of a patient of 45 to 50 years old, the plan
personnalisé de prévention written with him, RDP billed, a second bilan in the same band refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import LgoError, data_dir
from lgo_prevention import api

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("Mon bilan prévention (45–50 ans) : entretien, plan personnalisé de prévention, RDP", _step)]


def _step(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    pharmacist, patient = ctx.seeded.operators["adjoint"], ctx.seeded.patients["amadou"]
    bilan = api.start_bilan(
        kernel,
        pharmacy_id,
        patient,
        pharmacist,
        physician=api.Physician("Dr Aline FABRE-DÉMO", "aline.fabre@medecin-demo.mssante.fr"),
    )
    themes = api.themes("45-50")
    lines = ["Entretien guidé : " + ", ".join(t.label_fr.lower() for t in themes) + "."]
    said = {t.code: "Rien à signaler." for t in themes}
    said["activite_physique"] = "Travail assis, peu de marche."
    said["cardiovasculaire"] = "Tension jamais contrôlée depuis 3 ans."
    api.record_interview(kernel, pharmacy_id, bilan, said)
    api.set_plan(
        kernel,
        pharmacy_id,
        bilan,
        [
            api.Priority("activite_physique", "Marcher 30 minutes par jour", "Descendre du bus un arrêt plus tôt."),
            api.Priority("cardiovasculaire", "Connaître sa tension", "Automesure à l'officine, puis médecin traitant."),
        ],
    )
    lines.append("Plan personnalisé de prévention : 2 priorités écrites avec le patient.")
    lines.append(api.bill(kernel, pharmacy_id, bilan, pharmacist).summary_fr)
    for action in api.validate(kernel, pharmacy_id, bilan, pharmacist):
        lines.append(f"→ {action.title_fr} : {action.message_fr}")
    path = data_dir() / "demo-plan-prevention.pdf"
    path.write_bytes(api.plan_pdf(kernel, pharmacy_id, bilan))
    lines.append(f"Plan remis au patient (PDF) : {path}")
    try:
        api.start_bilan(kernel, pharmacy_id, patient, pharmacist)
    except LgoError as exc:
        lines.append(f"Second bilan refusé : {exc.message_fr}")
    line = api.bilans(kernel, pharmacy_id, patient)[0]
    lines.append(f"Suivi : {line.status_fr} — médecin traitant : {line.physician_fr}.")
    return lines
