"""``lgo dmp …``: follow the DMP sendings, send a refused document again, consult a patient's DMP."""

from __future__ import annotations

import click
from lgo.api import french_errors, opened_pharmacy, prompt_operator


@click.group("dmp")
def dmp() -> None:
    """Dossier médical partagé : suivi des envois et consultation."""


@dmp.command("suivi")
@click.option("--patient", "patient_id", type=int, default=None, help="Numéro du patient (tous par défaut).")
@french_errors
def follow(patient_id: int | None) -> None:
    """État de chaque document suivi pour le DMP (en attente, en file, envoyé, échec)."""
    from lgo_dmp import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        lines = service.status_lines(kernel, pharmacy_id, patient_id)
        for line in lines or ["Aucun document suivi pour le DMP."]:
            click.echo(line)


@dmp.command("relancer")
@click.argument("document_id", type=int)
@click.option("--operateur", required=True, help="Code de l'opérateur.")
@french_errors
def resend(document_id: int, operateur: str) -> None:
    """Renvoyer un document refusé par le DMP (après correction de la cause)."""
    from lgo_dmp import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        service.resend(kernel, pharmacy_id, document_id, prompt_operator(kernel, pharmacy_id, operateur))
        click.echo("Document remis dans la file d'envoi vers le DMP.")


@dmp.command("consulter")
@click.argument("patient_id", type=int)
@click.option("--operateur", required=True, help="Code de l'opérateur (habilitation « consultation DMP »).")
@french_errors
def consult(patient_id: int, operateur: str) -> None:
    """Lister les documents du DMP d'un patient (accès tracé)."""
    from lgo_dmp import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        operator_id = prompt_operator(kernel, pharmacy_id, operateur)
        for entry in service.list_documents(kernel, pharmacy_id, operator_id, patient_id):
            click.echo(
                f"{entry.date_fr} — {entry.type_display} — « {entry.title} » — {entry.author} — {entry.status_fr}"
            )
