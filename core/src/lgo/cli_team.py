"""``lgo equipe``: the pharmacy's team from the command line (the same rules as the « Équipe » page, in
:mod:`lgo.domain.team`). The command line acts as the server's own user: the audit log says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lgo.cli import french_errors, open_kernel, opened_pharmacy

if TYPE_CHECKING:
    from lgo.domain.pharmacy import Operator, Role

#: What an administrator types for each role.
ROLES = {
    "titulaire": "titulaire",
    "adjoint": "pharmacien_adjoint",
    "preparateur": "preparateur",
    "administrateur": "administrateur",
}


def _role(word: str) -> Role:
    from lgo.domain.pharmacy import Role

    return Role(ROLES[word])


def _habilitation_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.strip().lower() == "aucune":
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def _line(operator: Operator) -> str:
    from lgo.domain.pharmacy import Role

    state = "actif" if operator.active else "désactivé"
    rpps = f", RPPS {operator.rpps}" if operator.rpps else ""
    pending = ", mot de passe provisoire" if operator.must_change_password else ""
    return f"  {operator.code:<16} {operator.display_name} — {Role(operator.role).label_fr}{rpps} ({state}{pending})"


@click.group(name="equipe", invoke_without_command=True)
@click.pass_context
@french_errors
def team(ctx: click.Context) -> None:
    """L'équipe de l'officine : opérateurs, rôles, habilitations, mots de passe.

    Sans sous-commande : la liste des opérateurs.
    """
    if ctx.invoked_subcommand is not None:
        return
    from lgo.domain.team import members

    with opened_pharmacy() as (kernel, pharmacy_id), kernel.transaction() as session:
        operators = members(session, pharmacy_id)
        if not operators:
            click.echo("Aucun opérateur : créez l'administrateur avec « lgo init ».")
        for operator in operators:
            click.echo(_line(operator))


@team.command("habilitations")
@french_errors
def team_habilitations() -> None:
    """Les habilitations qu'un opérateur peut recevoir (code, libellé, rôles qui l'ont par défaut)."""
    from lgo.domain.pharmacy import Role
    from lgo.domain.team import habilitation_definitions

    kernel = open_kernel()
    for definition in habilitation_definitions(kernel):
        roles = ", ".join(Role(r).label_fr for r in definition.default_roles) or "aucun"
        click.echo(f"  {definition.code:<24} {definition.label_fr} (par défaut : {roles})")
        if definition.help_fr:
            click.echo(f"  {'':<24} {definition.help_fr}")
    kernel.close()


_ROLE_OPTION = click.Choice(sorted(ROLES))


@team.command("ajouter")
@click.argument("code")
@click.option("--nom", required=True, help="Nom de famille.")
@click.option("--prenom", required=True, help="Prénom.")
@click.option("--role", "role_word", type=_ROLE_OPTION, required=True, help="Rôle dans l'officine.")
@click.option("--rpps", help="Numéro RPPS (11 chiffres), obligatoire pour un pharmacien.")
@click.option(
    "--habilitations",
    help="Habilitations séparées par des virgules (voir « lgo equipe habilitations ») ; par défaut celles du rôle.",
)
@french_errors
def team_add(code: str, nom: str, prenom: str, role_word: str, rpps: str | None, habilitations: str | None) -> None:
    """Ajoute un opérateur ; affiche son mot de passe provisoire, à remplacer à sa première connexion."""
    from lgo.domain.team import add_operator, habilitation_definitions

    with opened_pharmacy() as (kernel, pharmacy_id):
        known = habilitation_definitions(kernel)
        with kernel.transaction() as session:
            operator, password = add_operator(
                session,
                pharmacy_id,
                known,
                code=code,
                last_name=nom,
                first_name=prenom,
                role=_role(role_word),
                rpps=rpps,
                habilitations=_habilitation_list(habilitations),
                by=None,
            )
            click.echo(f"Opérateur ajouté : {operator.display_name} (code {operator.code}).")
        click.echo(f"Mot de passe provisoire : {password}")
        click.echo("Communiquez-le à l'opérateur : il choisira son propre mot de passe à sa première connexion.")


@team.command("modifier")
@click.argument("code")
@click.option("--nom", help="Nouveau nom de famille.")
@click.option("--prenom", help="Nouveau prénom.")
@click.option("--role", "role_word", type=_ROLE_OPTION, help="Nouveau rôle.")
@click.option("--rpps", help="Numéro RPPS (11 chiffres).")
@click.option(
    "--habilitations",
    help="Habilitations (séparées par des virgules) qui remplacent les actuelles ; « aucune » pour toutes les retirer.",
)
@french_errors
def team_change(
    code: str, nom: str | None, prenom: str | None, role_word: str | None, rpps: str | None, habilitations: str | None
) -> None:
    """Modifie le nom, le rôle, le RPPS ou les habilitations d'un opérateur."""
    from lgo.domain.pharmacy import Role
    from lgo.domain.team import find_by_code, habilitation_definitions, update_operator

    with opened_pharmacy() as (kernel, pharmacy_id):
        known = habilitation_definitions(kernel)
        with kernel.transaction() as session:
            operator = find_by_code(session, pharmacy_id, code)
            chosen = _habilitation_list(habilitations)
            update_operator(
                session,
                pharmacy_id,
                operator.id,
                known,
                last_name=nom if nom is not None else operator.last_name,
                first_name=prenom if prenom is not None else operator.first_name,
                role=_role(role_word) if role_word else Role(operator.role),
                rpps=rpps if rpps is not None else operator.rpps,
                habilitations=chosen if chosen is not None else [h.habilitation for h in operator.habilitations],
                by=None,
            )
            click.echo(f"Opérateur modifié : {operator.display_name} (code {operator.code}).")


def _switch(code: str, active: bool) -> None:
    from lgo.domain.team import find_by_code, set_active

    with opened_pharmacy() as (kernel, pharmacy_id), kernel.transaction() as session:
        operator = set_active(session, pharmacy_id, find_by_code(session, pharmacy_id, code).id, active, by=None)
        click.echo(
            f"Opérateur {'réactivé' if active else 'désactivé'} : {operator.display_name} (code {operator.code})."
        )


@team.command("desactiver")
@click.argument("code")
@french_errors
def team_disable(code: str) -> None:
    """Désactive un opérateur : il ne peut plus se connecter, son historique reste."""
    _switch(code, False)


@team.command("reactiver")
@click.argument("code")
@french_errors
def team_enable(code: str) -> None:
    """Réactive un opérateur désactivé."""
    _switch(code, True)


@team.command("mot-de-passe")
@click.argument("code")
@french_errors
def team_password(code: str) -> None:
    """Donne un mot de passe provisoire ; l'opérateur choisira le sien à sa prochaine connexion."""
    from lgo.domain.team import find_by_code, reset_password

    with opened_pharmacy() as (kernel, pharmacy_id):
        with kernel.transaction() as session:
            operator_id = find_by_code(session, pharmacy_id, code).id
            operator, password = reset_password(session, pharmacy_id, operator_id, by=None)
            click.echo(f"Mot de passe réinitialisé pour {operator.display_name} (code {operator.code}).")
        click.echo(f"Mot de passe provisoire : {password}")
        click.echo("Communiquez-le à l'opérateur : il choisira son propre mot de passe à sa prochaine connexion.")
