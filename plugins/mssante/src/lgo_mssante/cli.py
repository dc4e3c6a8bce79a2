"""``lgo mssante …``: fetch the mailboxes, follow the messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from lgo.api import french_errors, opened_pharmacy, prompt_operator

if TYPE_CHECKING:
    from lgo.api import Kernel


@click.group("mssante")
def mssante() -> None:
    """Messagerie sécurisée de santé : relève des boîtes et suivi des messages."""


@mssante.command("relever")
@french_errors
def fetch() -> None:
    """Relève les boîtes MSSanté : intègre les documents reçus, met de côté ce qui ne peut pas l'être."""
    from lgo_mssante import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        for line in service.receive(kernel, pharmacy_id).lines_fr():
            click.echo(line)


@mssante.command("suivi")
@click.option(
    "--sens",
    "direction",
    type=click.Choice(["entrant", "sortant"]),
    default=None,
    help="Messages reçus (entrant) ou envoyés (sortant) ; tous par défaut.",
)
@french_errors
def follow(direction: str | None) -> None:
    """État de chaque message : en file, envoyé, accusé, intégré, en quarantaine (avec la raison)."""
    from lgo_mssante import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        for line in service.status_lines(kernel, pharmacy_id, direction=direction) or ["Aucun message MSSanté."]:
            click.echo(line)


def _admin(kernel: Kernel, pharmacy_id: int, code: str) -> int:
    """The id of an administrator or titulaire who proves who they are: mailboxes are configured by them only."""
    from lgo.api import Operator, PermissionDenied, Role, get_scoped

    operator_id = prompt_operator(kernel, pharmacy_id, code)
    with kernel.transaction() as session:
        if get_scoped(session, Operator, operator_id, pharmacy_id).role not in (Role.ADMINISTRATEUR, Role.TITULAIRE):
            raise PermissionDenied("Seuls l'administrateur et le titulaire configurent les boîtes MSSanté.")
    return operator_id


def _operator_id(kernel: Kernel, pharmacy_id: int, code: str) -> int:
    from lgo.api import NotFound, Operator
    from sqlalchemy import select

    with kernel.transaction() as session:
        found = session.scalar(select(Operator.id).where(Operator.pharmacy_id == pharmacy_id, Operator.code == code))
        if found is None:
            raise NotFound(f"Opérateur « {code} » inconnu.")
        return found


@mssante.command("boite-organisationnelle")
@click.option("--adresse", required=True, help="Adresse MSSanté de la boîte organisationnelle de l'officine.")
@click.option("--identifiant", default=None, help="Identifiant de connexion (l'adresse par défaut).")
@click.option("--admin", "admin_code", required=True, help="Code de l'administrateur ou du titulaire.")
@french_errors
def add_organisational(adresse: str, identifiant: str | None, admin_code: str) -> None:
    """Déclare la boîte organisationnelle (le certificat de l'officine est celui de la page d'administration)."""
    from lgo_mssante import accounts

    with opened_pharmacy() as (kernel, pharmacy_id):
        admin = _admin(kernel, pharmacy_id, admin_code)
        password = click.prompt("Mot de passe de la boîte", hide_input=True)
        account = accounts.add_organisational(
            kernel, pharmacy_id, address=adresse, login=identifiant or adresse, password=password, operator_id=admin
        )
        click.echo(f"Boîte organisationnelle n° {account} enregistrée ; attribuez les habilitations.")


@mssante.command("habilitation")
@click.argument("boite", type=int)
@click.option("--operateur", required=True, help="Code de l'opérateur concerné.")
@click.option("--role", type=click.Choice(["Administrateur", "Gestionnaire", "Utilisateur"]), required=True)
@click.option("--admin", "admin_code", required=True, help="Code de l'administrateur ou du titulaire.")
@french_errors
def habilitation(boite: int, operateur: str, role: str, admin_code: str) -> None:
    """Attribue une habilitation sur la boîte organisationnelle n° BOITE."""
    from lgo_mssante import accounts

    with opened_pharmacy() as (kernel, pharmacy_id):
        admin = _admin(kernel, pharmacy_id, admin_code)
        accounts.set_habilitation(
            kernel, pharmacy_id, boite, _operator_id(kernel, pharmacy_id, operateur), role, by_operator_id=admin
        )
        click.echo(f"Habilitation « {role} » attribuée à {operateur}.")


@mssante.command("boite-nominative")
@click.option("--operateur", required=True, help="Code du pharmacien titulaire de la boîte (Mailiz).")
@click.option("--adresse", required=True, help="Adresse MSSanté nominative.")
@click.option(
    "--certificat",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="Certificat personnel du pharmacien (PKCS#12 : .p12, .pfx).",
)
@click.option("--serveur-smtp", default=None, help="Serveur d'envoi propre à ce pharmacien (hôte:port).")
@click.option("--serveur-imap", default=None, help="Serveur de réception propre à ce pharmacien (hôte:port).")
@click.option("--admin", "admin_code", required=True, help="Code de l'administrateur ou du titulaire.")
@french_errors
def add_personal(
    operateur: str, adresse: str, certificat: str, serveur_smtp: str | None, serveur_imap: str | None, admin_code: str
) -> None:
    """Déclare la boîte nominative (Mailiz) d'un pharmacien, avec son certificat personnel."""
    from pathlib import Path

    from lgo_mssante import accounts

    with opened_pharmacy() as (kernel, pharmacy_id):
        admin = _admin(kernel, pharmacy_id, admin_code)
        password = click.prompt("Mot de passe de la boîte", hide_input=True)
        passphrase = click.prompt("Mot de passe du certificat", hide_input=True)
        smtp_host, smtp_port = _server(serveur_smtp)
        imap_host, imap_port = _server(serveur_imap)
        account = accounts.add_personal(
            kernel,
            pharmacy_id,
            operator_id=_operator_id(kernel, pharmacy_id, operateur),
            address=adresse,
            login=adresse,
            password=password,
            pkcs12=Path(certificat).read_bytes(),
            passphrase=passphrase,
            smtp_host=smtp_host,
            smtp_port=smtp_port,
            imap_host=imap_host,
            imap_port=imap_port,
            by_operator_id=admin,
        )
        click.echo(f"Boîte nominative n° {account} enregistrée pour {operateur}.")


def _server(value: str | None) -> tuple[str | None, int | None]:
    if not value:
        return None, None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"« {value} » : attendu hôte:port.")
    return host, int(port)
