"""``lgo mssante …``: fetch the mailboxes, follow the messages."""

from __future__ import annotations

import click
from lgo.cli import current_pharmacy_id, french_errors, open_kernel


@click.group("mssante")
def mssante() -> None:
    """Messagerie sécurisée de santé : relève des boîtes et suivi des messages."""


@mssante.command("relever")
@french_errors
def fetch() -> None:
    """Relève les boîtes MSSanté : intègre les documents reçus, met de côté ce qui ne peut pas l'être."""
    from lgo_mssante import service

    kernel = open_kernel()
    try:
        for line in service.receive(kernel, current_pharmacy_id(kernel)).lines_fr():
            click.echo(line)
    finally:
        kernel.close()


@mssante.command("suivi")
@click.option("--sens", "direction", type=click.Choice(["entrant", "sortant"]), default=None,
              help="Messages reçus (entrant) ou envoyés (sortant) ; tous par défaut.")
@french_errors
def follow(direction: str | None) -> None:
    """État de chaque message : en file, envoyé, accusé, intégré, en quarantaine (avec la raison)."""
    from lgo_mssante import service

    kernel = open_kernel()
    try:
        for line in service.status_lines(kernel, current_pharmacy_id(kernel), direction=direction) or [
                "Aucun message MSSanté."]:
            click.echo(line)
    finally:
        kernel.close()
