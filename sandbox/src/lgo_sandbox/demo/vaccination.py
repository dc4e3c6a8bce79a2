"""``lgo demo`` step: a flu vaccination billed with VGP, its note checked, completed and validated."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from lgo.api import create_prescription
from lgo_vaccination import codes, service

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [DemoStep("Vaccination antigrippale : facturation VGP, note de vaccination vérifiée et validée", _step)]


def _step(ctx: DemoContext) -> list[str]:
    kernel, pharmacy_id = ctx.kernel, ctx.pharmacy_id
    patient = ctx.seeded.patients["camille"]
    pharmacist = ctx.seeded.operators["titulaire"]
    counter = ctx.counter("titulaire")
    with kernel.transaction() as session:
        prescription = create_prescription(
            session, pharmacy_id, patient, prescriber_name="Pharmacien (prescription)", prescribed_on=date.today()
        ).id
    billing = counter.start_billing(patient_id=patient, prescription_id=prescription)
    counter.add_product(billing, ctx.seeded.products["grippe"], 1)
    counter.add_act(billing, "VGP")
    result = counter.end_billing(billing)
    lines = [result.summary_fr()]
    for action in result.actions:
        if action.plugin == service.PLUGIN:
            lines.append(f"→ {action.title_fr} : {action.message_fr}")
    notes = service.notes_for_invoice(kernel, pharmacy_id, result.invoice_id)
    if not notes:
        return [*lines, "Aucune note préparée (module vaccination inactif ?)."]
    note_id = notes[0]
    service.update_note(
        kernel,
        pharmacy_id,
        note_id,
        site_code="16217661000119109",
        comment="Aucune réaction immédiate après 15 minutes d'observation.",
    )
    lines.append(f"Pharmacien : site corrigé en « {codes.SITES['16217661000119109']} », commentaire ajouté.")
    actions = service.validate_note(kernel, pharmacy_id, note_id, pharmacist)
    status = service.note_status(kernel, pharmacy_id, note_id)
    lines.append(f"Note validée par le pharmacien : statut « {status.label_fr} ».")
    lines += [f"→ {a.title_fr} : {a.message_fr}" for a in actions]
    for entry in service.vaccination_record(kernel, pharmacy_id, patient):
        lines.append(
            f"Carnet : {entry.date:%d/%m/%Y} — {entry.vaccine} — {entry.disease} — {entry.vaccinator} "
            f"— {entry.added_by} — {entry.status}"
        )
    return lines
