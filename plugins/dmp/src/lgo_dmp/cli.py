"""``lgo dmp …``: follow the DMP sendings, send a refused document again, consult a patient's DMP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from lgo.api import current_pharmacy_id, french_errors, open_kernel

if TYPE_CHECKING:
    from lgo.api import Kernel


@click.group("dmp")
def dmp() -> None:
    """Dossier médical partagé : suivi des envois et consultation."""


@dmp.command("suivi")
@click.option("--patient", "patient_id", type=int, default=None, help="Numéro du patient (tous par défaut).")
@french_errors
def follow(patient_id: int | None) -> None:
    """État de chaque document suivi pour le DMP (en attente, en file, envoyé, échec)."""
    from lgo_dmp import service

    kernel = open_kernel()
    try:
        lines = service.status_lines(kernel, current_pharmacy_id(kernel), patient_id)
        for line in lines or ["Aucun document suivi pour le DMP."]:
            click.echo(line)
    finally:
        kernel.close()


def _operator(kernel: Kernel, pharmacy_id: int, code: str) -> int:
    from lgo.api import PermissionDenied, authenticate

    password = click.prompt(f"Mot de passe de {code}", hide_input=True)
    with kernel.transaction() as session:
        operator = authenticate(session, pharmacy_id, code, password)
        if operator is None:
            raise PermissionDenied("Code ou mot de passe incorrect.")
        return operator.id


@dmp.command("relancer")
@click.argument("document_id", type=int)
@click.option("--operateur", required=True, help="Code de l'opérateur.")
@french_errors
def resend(document_id: int, operateur: str) -> None:
    """Renvoyer un document refusé par le DMP (après correction de la cause)."""
    from lgo_dmp import service

    kernel = open_kernel()
    try:
        pharmacy_id = current_pharmacy_id(kernel)
        service.resend(kernel, pharmacy_id, document_id, _operator(kernel, pharmacy_id, operateur))
        click.echo("Document remis dans la file d'envoi vers le DMP.")
    finally:
        kernel.close()


@dmp.command("consulter")
@click.argument("patient_id", type=int)
@click.option("--operateur", required=True, help="Code de l'opérateur (habilitation « consultation DMP »).")
@french_errors
def consult(patient_id: int, operateur: str) -> None:
    """Lister les documents du DMP d'un patient (accès tracé)."""
    from lgo_dmp import service

    kernel = open_kernel()
    try:
        pharmacy_id = current_pharmacy_id(kernel)
        operator_id = _operator(kernel, pharmacy_id, operateur)
        for entry in service.list_documents(kernel, pharmacy_id, operator_id, patient_id):
            click.echo(
                f"{entry.date_fr} — {entry.type_display} — « {entry.title} » — {entry.author} — {entry.status_fr}"
            )
    finally:
        kernel.close()
