"""``lgo prevention …``: Mon bilan prévention from the command line (themes, interview, plan, billing,
validation), the patient's plan, the list."""

from __future__ import annotations

from pathlib import Path

import click
from lgo.api import french_errors, opened_pharmacy, prompt_operator


@click.group("prevention")
def prevention() -> None:
    """Mon bilan prévention : entretien, plan personnalisé de prévention, DMP et médecin traitant."""


@prevention.command("themes")
@click.argument("band", metavar="TRANCHE")
@french_errors
def themes(band: str) -> None:
    """Les thèmes de l'entretien d'une tranche d'âge (18-25, 45-50, 60-65, 70-75) et leur nom pour --note."""
    from lgo_prevention import service

    for theme in service.themes(band):
        click.echo(f"{theme.code} : {theme.label_fr} — {theme.prompt_fr}")


@prevention.command("bilan")
@click.argument("patient_id", type=int)
@click.option("--operateur", required=True, help="Code du pharmacien qui conduit le bilan.")
@click.option("--note", "notes", multiple=True, help="Ce qui a été dit sur un thème : theme=texte.")
@click.option("--priorite", "priorities", multiple=True, help="Priorité du plan : theme|objectif|actions.")
@click.option("--autre-acte", default=None, help="Un autre acte le même jour : RVA, VGP ou RKD.")
@click.option("--medecin", default=None, help="Nom du médecin traitant.")
@click.option("--medecin-mssante", default=None, help="Adresse MSSanté du médecin traitant.")
@click.option("--valider/--sans-valider", default=True, show_default=True)
@click.option("--plan", "output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PDF à écrire.")
@french_errors
def bilan(
    patient_id: int,
    operateur: str,
    notes: tuple[str, ...],
    priorities: tuple[str, ...],
    autre_acte: str | None,
    medecin: str | None,
    medecin_mssante: str | None,
    valider: bool,
    output: Path | None,
) -> None:
    """Conduire Mon bilan prévention du patient PATIENT_ID, de l'entretien au plan."""
    from lgo.api import ValidationError

    from lgo_prevention import plan, service

    with opened_pharmacy() as (kernel, pharmacy_id):
        operator_id = prompt_operator(kernel, pharmacy_id, operateur)
        physician = service.Physician(medecin, medecin_mssante) if medecin else None
        bilan_id = service.start_bilan(kernel, pharmacy_id, patient_id, operator_id, physician=physician)
        said = {}
        for note in notes:
            code, sep, text = note.partition("=")
            if not sep:
                raise ValidationError(f"Note « {note} » : écrivez theme=texte.")
            said[code.strip()] = text
        service.record_interview(kernel, pharmacy_id, bilan_id, said)
        chosen = []
        for priority in priorities:
            parts = priority.split("|")
            if len(parts) != 3:
                raise ValidationError(f"Priorité « {priority} » : écrivez theme|objectif|actions.")
            chosen.append(service.Priority(*(p.strip() for p in parts)))
        service.set_plan(kernel, pharmacy_id, bilan_id, chosen)
        click.echo(service.bill(kernel, pharmacy_id, bilan_id, operator_id, additional_act=autre_acte).summary_fr)
        if valider:
            for action in plan.validate(kernel, pharmacy_id, bilan_id, operator_id):
                click.echo(f"À faire : {action.title_fr} — {action.message_fr}")
            click.echo(f"Bilan n° {bilan_id} : plan validé.")
        if output is not None:
            output.write_bytes(plan.plan_pdf(kernel, pharmacy_id, bilan_id))
            click.echo(f"Plan personnalisé de prévention écrit dans {output}.")


@prevention.command("liste")
@click.option("--patient", "patient_id", type=int, default=None, help="Numéro du patient (tous par défaut).")
@french_errors
def listing(patient_id: int | None) -> None:
    """Les bilans prévention de l'officine."""
    from lgo_prevention import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        lines = service.bilans(kernel, pharmacy_id, patient_id)
        for line in lines:
            click.echo(
                f"n° {line.bilan_id} — patient n° {line.patient_id} — {line.held_on:%d/%m/%Y} — {line.band_fr} — "
                f"{line.status_fr} — médecin traitant : {line.physician_fr}"
            )
        if not lines:
            click.echo("Aucun bilan prévention.")
