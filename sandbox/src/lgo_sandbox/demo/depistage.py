"""``lgo demo`` step of the depistage plugin: a positive angine TROD at the counter, amoxicilline dispensed without
a prescription, the attestation and the dispensation validated, the patient's PDF."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from lgo.api import data_dir
from lgo_depistage import api

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep

ANSWERS = {
    "temperature": "38,7",
    "grossesse": "non",
    "immunodepression": "non",
    "antibiotique_en_cours": "non",
    "signes_complication": "non",
    "retour_pays_tropical": "non",
    "troubles_digestifs": "non",
    "toux_absente": "oui",
    "adenopathies": "oui",
    "amygdales": "oui",
    "allergie_penicilline": "non",
    "contre_indication_cephalosporines": "non",
}


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("TROD angine : éligibilité, scan du test, antibiotique sans ordonnance, attestation", _step)]


def _step(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    pharmacist, patient = ctx.seeded.operators["titulaire"], ctx.seeded.patients["camille"]
    test = api.start_test(
        kernel,
        pharmacy_id,
        patient,
        pharmacist,
        "angine",
        consent=True,
        physician=api.Physician("Dr Aline FABRE-DÉMO", mssante="aline.fabre@medecin-demo.mssante.fr"),
    )
    eligibility = api.answer(kernel, pharmacy_id, test, ANSWERS)
    lines = [f"Questionnaire : {'éligible au protocole' if eligibility.eligible else 'non éligible'} (McIsaac 4)."]
    scan = "]d20103612345678904" + f"17{(date.today().year + 2) % 100:02d}1231" + "10B987654"
    device = api.set_device(kernel, pharmacy_id, test, scan=scan)
    lines.append(f"Test scanné : UDI {device.udi}.")
    outcome = api.record_result(kernel, pharmacy_id, test, {"streptocoque": "positif"})
    lines.append("Résultat : positif ; protocole : " + ", ".join(a.label_fr for a in outcome.antibiotics) + ".")
    posology = api.choose_antibiotic(kernel, pharmacy_id, test, "amoxicilline", ctx.seeded.products["amoxicilline"])
    lines.append(f"Amoxicilline délivrée sans ordonnance : {posology.text_fr}.")
    lines.append(api.finish(kernel, pharmacy_id, test, ctx.seeded.operators["preparatrice"]).summary_fr)
    actions = api.validate(kernel, pharmacy_id, test, pharmacist)
    for action in actions:
        lines.append(f"→ {action.title_fr} : {action.message_fr}")
    if not actions:
        lines.append("Attestation BIO-TROD et dispensation eDISP-MED liées, validées : en file d'envoi vers le DMP.")
    path = data_dir() / "demo-attestation-trod.pdf"
    path.write_bytes(api.attestation_pdf(kernel, pharmacy_id, test))
    lines.append(f"Attestation du patient (PDF) : {path}")
    line = api.tests_for_patient(kernel, pharmacy_id, patient)[0]
    lines.append(f"Suivi : {line.status_fr} — médecin traitant : {line.fallback_fr}.")
    return lines
