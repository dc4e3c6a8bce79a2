"""``lgo dp …``: consult a patient's DP, record the patient's consent, follow the feeding, read and acknowledge the
recalls and alerts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from lgo.api import french_errors, opened_pharmacy, prompt_operator

if TYPE_CHECKING:
    from lgo.api import Kernel


@click.group("dp")
def dp() -> None:
    """Dossier Pharmaceutique : consultation, consentement, alimentation, rappels et alertes."""


_OPERATOR = click.option("--operateur", required=True, help="Code de l'opérateur (mot de passe demandé).")


@dp.command("consulter")
@click.argument("patient_id", type=int)
@_OPERATOR
@french_errors
def consult(patient_id: int, operateur: str) -> None:
    """Historique des 12 derniers mois (toutes pharmacies et officine), accès tracé."""
    from lgo_dp.consultation import consult as run

    with opened_pharmacy() as (kernel, pharmacy_id):
        found = run(kernel, pharmacy_id, prompt_operator(kernel, pharmacy_id, operateur), patient_id)
        if found.notice_fr:
            click.echo(found.notice_fr)
        click.echo(f"{len(found.lines)} ligne(s) depuis le {found.since:%d/%m/%Y}, {found.pharmacies} officine(s).")
        for line in found.lines:
            state = f" [{line.status_fr}]" if line.own and line.status_fr else ""
            click.echo(f"{line.text_fr}{state}")


def _consent_command(name: str, help_fr: str, done_fr: str, action: Callable[[Kernel, int, int, int], object]) -> None:
    @dp.command(name, help=help_fr)
    @click.argument("patient_id", type=int)
    @_OPERATOR
    @french_errors
    def command(patient_id: int, operateur: str) -> None:
        with opened_pharmacy() as (kernel, pharmacy_id):
            action(kernel, pharmacy_id, prompt_operator(kernel, pharmacy_id, operateur), patient_id)
            click.echo(done_fr)


def _create(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> None:
    from lgo_dp import consent

    consent.create(kernel, pharmacy_id, operator_id, patient_id)


def _refuse(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> None:
    from lgo_dp import consent

    until = consent.refuse(kernel, pharmacy_id, operator_id, patient_id)
    click.echo(f"Refus valable jusqu'au {until:%d/%m/%Y}.")


def _close(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> None:
    from lgo_dp import consent

    consent.close(kernel, pharmacy_id, operator_id, patient_id)


_consent_command("creer", "Créer le DP du patient (il est d'accord).", "Création du DP demandée.", _create)
_consent_command("refuser", "Enregistrer le refus du DP par le patient.", "Refus enregistré.", _refuse)
_consent_command("fermer", "Fermer le DP à la demande du patient.", "Fermeture du DP demandée.", _close)


@dp.command("masquer")
@click.argument("patient_id", type=int)
@click.argument("references", nargs=-1, required=True)
@_OPERATOR
@french_errors
def mask(patient_id: int, references: tuple[str, ...], operateur: str) -> None:
    """Masquer des lignes du DP à la demande du patient (références de « lgo dp consulter »)."""
    from lgo_dp import consent

    with opened_pharmacy() as (kernel, pharmacy_id):
        count = consent.mask(
            kernel, pharmacy_id, prompt_operator(kernel, pharmacy_id, operateur), patient_id, references
        )
        click.echo(f"Masquage de {count} ligne(s) demandé.")


@dp.command("suivi")
@click.option("--patient", "patient_id", type=int, default=None, help="Numéro du patient (tous par défaut).")
@french_errors
def follow(patient_id: int | None) -> None:
    """Où en est l'alimentation du DP, ligne par ligne."""
    from lgo_dp import feeding

    with opened_pharmacy() as (kernel, pharmacy_id):
        for line in feeding.status_lines(kernel, pharmacy_id, patient_id) or ["Aucune ligne suivie pour le DP."]:
            click.echo(line)


@dp.command("rappels")
@french_errors
def bulletins() -> None:
    """Rappels de lots et alertes sanitaires non lus, avec les lots en stock et les patients concernés."""
    from lgo_dp import bulletins as module

    with opened_pharmacy() as (kernel, pharmacy_id):
        found = module.pending(kernel, pharmacy_id)
        for item in found:
            click.echo(f"n° {item.id} — {item.kind.label_fr} — {item.title} ({item.issuer})")
            click.echo(f"  {item.message}")
            click.echo(f"  {item.impact.text_fr}")
        if not found:
            click.echo("Aucun rappel ni alerte en attente de lecture.")


@dp.command("acquitter")
@click.argument("bulletin_id", type=int)
@_OPERATOR
@french_errors
def acknowledge(bulletin_id: int, operateur: str) -> None:
    """Accuser lecture d'un rappel ou d'une alerte : les comptoirs sont débloqués."""
    from lgo_dp import bulletins as module

    with opened_pharmacy() as (kernel, pharmacy_id):
        module.acknowledge(kernel, pharmacy_id, bulletin_id, prompt_operator(kernel, pharmacy_id, operateur))
        click.echo("Accusé de lecture enregistré.")


@dp.command("relever")
@french_errors
def fetch() -> None:
    """Relever tout de suite les rappels et alertes du DP (le worker le fait chaque minute)."""
    from lgo_dp import bulletins as module

    with opened_pharmacy() as (kernel, pharmacy_id):
        click.echo(f"{module.fetch(kernel, pharmacy_id)} nouveau(x) rappel(s) ou alerte(s).")
