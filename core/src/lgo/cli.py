"""The ``lgo`` command. Heavy imports happen inside the commands so that ``lgo --help`` stays quick.

Whatever goes wrong ends in one French sentence on standard error and an exit code, never a traceback (the
technical detail goes to the log, shown with ``--verbose``). Exit codes: 0 done; 1 refused or impossible (the
sentence says why: a rule, the database, the data folder, the configuration); 2 the command line itself is wrong
(unknown option, missing or invalid value); 3 an unexpected error, a defect to report.
"""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lgo import cli_french

cli_french.install()

if TYPE_CHECKING:
    from lgo.kernel import Kernel

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("lgo")

#: Exit codes (documented in ``lgo --help`` and the README).
EXIT_REFUSED, EXIT_USAGE, EXIT_UNEXPECTED = 1, 2, 3


class FrenchError(click.ClickException):
    """A user-facing error: « Erreur : … » on standard error, exit code 1, never a traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True, file=file)


class UnexpectedError(FrenchError):
    exit_code = EXIT_UNEXPECTED


def french_errors(func: F) -> F:
    """Show the kernel's French message to the user, without a traceback (the log keeps the detail)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from lgo.errors import LgoError

        try:
            return func(*args, **kwargs)
        except LgoError as exc:
            log.debug("command failed: %s", exc.detail, exc_info=exc)
            raise FrenchError(exc.message_fr) from exc

    return wrapper  # type: ignore[return-value]


def open_kernel(start: bool = True) -> Kernel:
    from lgo.kernel import Kernel

    kernel = Kernel()
    return kernel.start() if start else kernel


def current_pharmacy_id(kernel: Kernel) -> int:
    from lgo.domain.pharmacy import get_pharmacy

    with kernel.transaction() as session:
        return get_pharmacy(session, kernel.config.pharmacy_finess).id


@contextmanager
def opened_pharmacy() -> Iterator[tuple[Kernel, int]]:
    """The started kernel and this installation's pharmacy, for one command; the kernel is closed even on error."""
    kernel = open_kernel()
    try:
        yield kernel, current_pharmacy_id(kernel)
    finally:
        kernel.close()


def prompt_operator(kernel: Kernel, pharmacy_id: int, code: str) -> int:
    """The id of the operator ``code`` once they typed their password (hidden), else :class:`PermissionDenied`.

    A command that records an act in someone's name asks that person, not whoever holds the terminal."""
    from lgo.domain.pharmacy import authenticate
    from lgo.errors import PermissionDenied

    password = click.prompt(f"Mot de passe de {code}", hide_input=True)
    with kernel.transaction() as session:
        operator = authenticate(session, pharmacy_id, code, password)
        if operator is None:
            raise PermissionDenied("Code ou mot de passe incorrect.")
        return operator.id


#: Entry-point group of commands brought by distributions that are not plugins (``lgo-web`` adds ``lgo web``):
#: ``name = "module:click_command"``. The kernel never imports them until the command is listed or run.
COMMANDS_GROUP = "lgo.commands"


def shown_option(flag: str, default: Any, kind: click.ParamType, help_text: str) -> Callable[[F], F]:
    """An option bounded by ``kind`` whose help shows the default: what the user gets without it."""
    return click.option(flag, default=default, show_default=True, type=kind, help=help_text)


def _distribution_commands() -> dict[str, click.Command]:
    from importlib.metadata import entry_points

    commands: dict[str, click.Command] = {}
    for entry_point in entry_points(group=COMMANDS_GROUP):
        try:
            command = entry_point.load()
        except Exception:  # a broken add-on must not take the whole command line down
            logging.getLogger("lgo").exception("command %s (%s) failed to import", entry_point.name, entry_point.value)
            continue
        if isinstance(command, click.Command):
            commands.setdefault(entry_point.name, command)
    return commands


#: What the database driver says (lower case), and what the administrator reads.
_DATABASE_ERRORS_FR = (
    (
        ("not a database", "malformed", "corrupt"),
        "La base SQLite est endommagée (le fichier n'est pas une base de données valide) : restaurez une sauvegarde.",
    ),
    (
        ("unable to open database file",),
        "Impossible d'ouvrir la base SQLite : vérifiez LGO_HOME (ou LGO_DATABASE_URL) et les droits du dossier.",
    ),
    (("locked",), "La base de données est occupée par un autre programme : réessayez dans un instant."),
    (
        ("no such table", "undefinedtable", "relation"),
        "La base n'est pas initialisée ou pas à jour : lancez « lgo init » (ou « lgo db upgrade »).",
    ),
    (
        ("connect", "password", "could not translate host", "timeout", "server closed"),
        "Le serveur de base de données ne répond pas ou refuse la connexion (PostgreSQL arrêté, adresse ou "
        "identifiants erronés) : vérifiez LGO_DATABASE_URL.",
    ),
)


def _database_error_fr(exc: Exception) -> str | None:
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return (
            "LGO_DATABASE_URL n'est pas une adresse de base de données utilisable (attendu : sqlite:///chemin ou "
            "postgresql+psycopg://utilisateur@hôte/base)."
        )
    if not isinstance(exc, DBAPIError):
        return None
    text = f"{type(exc.orig).__name__} {exc.orig}".lower()
    for markers, message in _DATABASE_ERRORS_FR:
        if any(marker in text for marker in markers):
            return message
    return "La base de données a refusé l'opération."


_SYSTEM_ERRORS_FR = {
    errno.EEXIST: "existe déjà, et n'est pas un dossier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOENT: "introuvable",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EROFS: "disque en lecture seule",
    errno.ENOSPC: "disque plein",
    errno.EISDIR: "c'est un dossier",
    errno.EADDRINUSE: "adresse ou port déjà utilisé",
    errno.EADDRNOTAVAIL: "adresse indisponible sur ce poste",
}


def french_message(exc: Exception) -> tuple[str, int]:
    """The sentence and exit code of an error raised by a command (an :class:`LgoError` speaks for itself)."""
    from lgo.errors import LgoError

    if isinstance(exc, LgoError):
        return exc.message_fr, EXIT_REFUSED
    database = _database_error_fr(exc)
    if database is not None:
        return database, EXIT_REFUSED
    if isinstance(exc, OSError):
        reason = _SYSTEM_ERRORS_FR.get(exc.errno or 0, "erreur du système")
        if exc.filename is not None:
            where = f"{exc.filename} ({reason})"
            return f"Fichier ou dossier inutilisable : {where} ; vérifiez LGO_HOME et les chemins donnés.", EXIT_REFUSED
        return f"Opération impossible : {reason}.", EXIT_REFUSED
    if isinstance(exc, OverflowError):
        return "Un nombre donné est hors des limites acceptées.", EXIT_REFUSED
    return (
        f"Erreur inattendue ({type(exc).__name__}) : relancez avec « lgo --verbose … » pour le détail technique, "
        "et signalez-la.",
        EXIT_UNEXPECTED,
    )


#: Built-in command groups kept in their own modules, imported only when used (``lgo --help`` stays quick, and they
#: may import this module's helpers).
LAZY_BUILTINS = {
    "equipe": "lgo.cli_team:team",
    "export": "lgo.cli_portability:export_command",
    "import": "lgo.cli_portability:import_command",
    "indicateurs": "lgo.cli_portability:indicators_command",
}


class LgoGroup(click.Group):
    """Adds the commands of other distributions (entry-point group ``lgo.commands``) and those plugins register
    (``lgo_register_cli_commands``) after the built-in ones; turns any error of any command into a French sentence
    and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            message, code = french_message(exc)
            log.debug("command failed: %s", getattr(exc, "detail", None) or repr(exc), exc_info=exc)
            raise (UnexpectedError if code == EXIT_UNEXPECTED else FrenchError)(message) from exc

    def _builtin(self, name: str) -> click.Command | None:
        target = LAZY_BUILTINS.get(name)
        if target is None:
            return None
        import importlib

        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def _plugin_commands(self) -> dict[str, click.Command]:
        if not hasattr(self, "_plugin_cache"):
            from lgo.plugins.discovery import discover
            from lgo.plugins.dispatch import Dispatcher
            from lgo.plugins.hooks import Hooks
            from lgo.plugins.registry import PluginRegistry

            registry = PluginRegistry(discover())
            hooks = Hooks(Dispatcher(registry, lambda *_: None))
            commands: dict[str, click.Command] = {
                name: command
                for name, command in _distribution_commands().items()
                if name not in self.commands and name not in LAZY_BUILTINS
            }
            declared = [(plugin, command) for plugin, command in hooks.cli_commands() if command.name]
            # One fail-closed rule: a command name taken twice (or a built-in name) takes the plugins out.
            refused = registry.refuse_collisions(
                "la commande",
                [(plugin, str(command.name)) for plugin, command in declared],
                reserved=set(self.commands) | set(commands) | set(LAZY_BUILTINS),
            )
            for plugin, command in declared:
                if plugin not in refused:
                    commands[str(command.name)] = command
            self._plugin_cache = commands
        return self._plugin_cache

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_BUILTINS) | set(self._plugin_commands()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._builtin(cmd_name) or self._plugin_commands().get(cmd_name)


@click.group(cls=LgoGroup, subcommand_metavar="COMMANDE [ARGUMENTS]...")
@click.option("-v", "--verbose", is_flag=True, help="Journal détaillé (en anglais) sur la sortie d'erreur.")
def main(verbose: bool) -> None:
    """LGO : logiciel de gestion d'officine libre, avec ses modules Ségur.

    La base est SQLite par défaut (dans ~/.local/share/lgo, ou LGO_HOME) ; LGO_DATABASE_URL choisit une
    base PostgreSQL (postgresql+psycopg://…). LGO_PHARMACY=<FINESS> choisit l'officine quand la base en
    héberge plusieurs.

    \b
    Codes de sortie : 0 fait ; 1 refusé ou impossible (la raison est affichée) ;
    2 ligne de commande incorrecte ; 3 erreur inattendue (détail avec --verbose).
    """
    # What goes wrong is told in French by the commands themselves; -v adds the precise English log.
    logging.basicConfig(level=logging.DEBUG if verbose else logging.ERROR, stream=sys.stderr)


def _interactive() -> bool:
    """Questions are asked only to a person at a terminal; a script gets a message saying which option is missing."""
    return sys.stdin.isatty()


def _ask(value: str | None, question: str, *, hide: bool = False) -> str | None:
    if value or not _interactive():
        return value
    answer: str = click.prompt(question, hide_input=hide, confirmation_prompt=hide)
    return answer.strip() if not hide else answer


@main.command()
@click.option("--name", help="Nom de l'officine.")
@click.option("--finess", help="Numéro FINESS de l'établissement (9 caractères).")
@click.option("--address", default="", help="Adresse.")
@click.option("--postal-code", default="", help="Code postal.")
@click.option("--city", default="", help="Commune.")
@click.option(
    "--test/--production",
    "test_mode",
    default=None,
    help="Officine en mode test (plateformes nationales de test, identités INSi de test) ou en production "
    "(par défaut à la création : production).",
)
@click.option("--admin-code", help="Code de connexion du premier administrateur.")
@click.option("--admin-last-name", help="Nom de famille du premier administrateur.")
@click.option("--admin-first-name", help="Prénom du premier administrateur.")
@click.option(
    "--admin-password",
    envvar="LGO_ADMIN_PASSWORD",
    help="Mot de passe du premier administrateur (8 caractères au moins) ; de préférence par la variable "
    "LGO_ADMIN_PASSWORD, pour qu'il n'apparaisse pas dans la liste des processus.",
)
@french_errors
def init(
    name: str | None,
    finess: str | None,
    address: str,
    postal_code: str,
    city: str,
    test_mode: bool | None,
    admin_code: str | None,
    admin_last_name: str | None,
    admin_first_name: str | None,
    admin_password: str | None,
) -> None:
    """Crée la base, applique les migrations, enregistre l'officine et son premier administrateur.

    À un terminal, les informations manquantes sont demandées ; dans un script, donnez-les en options.
    """
    kernel = open_kernel()
    done = kernel.upgrade_database()
    click.echo(f"Base prête : {kernel.database_url.split('@')[-1]} (migrations : {', '.join(done)}).")
    where = {"address": address, "postal_code": postal_code, "city": city}
    pharmacy_id = _init_pharmacy(kernel, name, finess, test_mode, where)
    if pharmacy_id is not None:
        _init_administrator(kernel, pharmacy_id, admin_code, admin_last_name, admin_first_name, admin_password)
    kernel.close()


def _init_pharmacy(
    kernel: Kernel, name: str | None, finess: str | None, test_mode: bool | None, where: dict[str, str]
) -> int | None:
    """The pharmacy of this installation, registered unless it is already (``where``: its address, postal code
    and city, kept as given)."""
    from lgo.domain import audit
    from lgo.domain.pharmacy import Pharmacy, create_pharmacy
    from lgo.errors import NotFound

    with kernel.transaction() as session:
        try:
            existing: Pharmacy | None = get_pharmacy_for(kernel, session)
        except NotFound:
            existing = None
        if existing is not None:
            if test_mode is not None and existing.test_mode != test_mode:
                existing.test_mode = test_mode
                audit.record(
                    session,
                    existing.id,
                    "pharmacy.mode",
                    f"Officine passée en mode {'test' if test_mode else 'production'} en ligne de commande.",
                    actor="cli",
                )
            click.echo(f"Officine : {existing.name} (FINESS {existing.finess}, {_mode_fr(existing.test_mode)}).")
            return existing.id
    if not (name or finess) and not _interactive():
        click.echo("Aucune officine enregistrée : relancez avec --name et --finess.")
        return None
    name = _ask(name, "Nom de l'officine")
    finess = _ask(finess, "Numéro FINESS")
    if not (name and finess):
        raise click.UsageError("Indiquez à la fois --name et --finess.")
    with kernel.transaction() as session:
        pharmacy = create_pharmacy(session, name=name, finess=finess, test_mode=bool(test_mode), **where)
        click.echo(
            f"Officine enregistrée : {pharmacy.name} (FINESS {pharmacy.finess}, {_mode_fr(pharmacy.test_mode)})."
        )
        return pharmacy.id


def _mode_fr(test_mode: bool) -> str:
    return "mode test" if test_mode else "production"


def get_pharmacy_for(kernel: Kernel, session: Any) -> Any:
    from lgo.domain.pharmacy import get_pharmacy

    return get_pharmacy(session, kernel.config.pharmacy_finess)


def _init_administrator(
    kernel: Kernel,
    pharmacy_id: int,
    code: str | None,
    last_name: str | None,
    first_name: str | None,
    password: str | None,
) -> None:
    from lgo.domain.team import active_administrators, first_administrator

    with kernel.transaction() as session:
        if active_administrators(session, pharmacy_id):
            if code:
                click.echo("L'officine a déjà un administrateur actif : gérez l'équipe avec « lgo equipe ».")
            return
    given = {"--admin-code": code, "--admin-last-name": last_name, "--admin-first-name": first_name}
    if not any(given.values()) and not _interactive():
        click.echo(
            "Aucun administrateur : relancez « lgo init » avec --admin-code, --admin-last-name, --admin-first-name "
            "et le mot de passe dans LGO_ADMIN_PASSWORD (ou depuis un terminal, qui vous les demandera)."
        )
        return
    code = _ask(code, "Code de connexion de l'administrateur")
    last_name = _ask(last_name, "Nom de famille de l'administrateur")
    first_name = _ask(first_name, "Prénom de l'administrateur")
    password = _ask(password, "Mot de passe de l'administrateur (8 caractères au moins)", hide=True)
    missing = [
        option
        for option, value in (
            ("--admin-code", code),
            ("--admin-last-name", last_name),
            ("--admin-first-name", first_name),
            ("--admin-password (ou LGO_ADMIN_PASSWORD)", password),
        )
        if not value
    ]
    if missing or not (code and last_name and first_name and password):
        raise click.UsageError("Pour créer l'administrateur, indiquez aussi : " + ", ".join(missing) + ".")
    with kernel.transaction() as session:
        admin = first_administrator(
            session, pharmacy_id, code=code, last_name=last_name, first_name=first_name, password=password
        )
        click.echo(
            f"Administrateur créé : {admin.display_name} (code {admin.code}). Connectez-vous à la page "
            "d'administration (« lgo web ») pour créer l'équipe."
        )


@main.group()
def db() -> None:
    """Base de données."""


@db.command("upgrade")
@french_errors
def db_upgrade() -> None:
    """Applique les migrations du noyau puis celles de chaque module, dans l'ordre des dépendances."""
    kernel = open_kernel()
    for name in kernel.upgrade_database():
        click.echo(f"  {name} : à jour")
    kernel.close()


@main.group(invoke_without_command=True)
@click.pass_context
@french_errors
def plugins(ctx: click.Context) -> None:
    """Modules installés : version, vague Ségur, état et raison."""
    if ctx.invoked_subcommand is not None:
        return
    from lgo.errors import NotFound

    kernel = open_kernel()
    try:
        pharmacy_id: int | None = current_pharmacy_id(kernel)
    except NotFound:  # no pharmacy registered yet: the modules installed, without their state in a pharmacy
        pharmacy_id = None
    infos = kernel.plugin_states(pharmacy_id) if pharmacy_id is not None else kernel.registry.all()
    if not infos:
        click.echo("Aucun module installé.")
    rows = [("MODULE", "VERSION", "VAGUE", "ÉTAT", "RAISON")]
    for info in infos:
        state = info.state.label_fr if pharmacy_id is not None or not info.loaded else "chargé"
        rows.append((info.name, info.version, str(info.wave or "-"), state, info.reason))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    kernel.close()


@plugins.command("enable")
@click.argument("name")
@click.option("--with-dependencies", is_flag=True, help="Active aussi les modules nécessaires.")
@french_errors
def plugins_enable(name: str, with_dependencies: bool) -> None:
    """Active un module pour l'officine."""
    kernel = open_kernel()
    switched = kernel.enable(current_pharmacy_id(kernel), name, with_dependencies=with_dependencies)
    click.echo(f"Activé : {', '.join(switched)}." if switched else f"« {name} » était déjà actif.")
    kernel.close()


@plugins.command("disable")
@click.argument("name")
@french_errors
def plugins_disable(name: str) -> None:
    """Désactive un module pour l'officine (ses données sont conservées)."""
    kernel = open_kernel()
    kernel.disable(current_pharmacy_id(kernel), name)
    click.echo(f"Désactivé : {name} (ses données sont conservées).")
    kernel.close()


@main.command()
@click.option("--once", is_flag=True, help="Traite ce qui est dû puis s'arrête.")
@shown_option("--poll", 2.0, click.FloatRange(0.1, 3600), "Attente entre deux relevés de la file (secondes).")
@shown_option("--lease", 300, click.IntRange(1, 86400), "Durée de réservation d'un message (secondes).")
@shown_option("--backoff", 30.0, click.FloatRange(0, 86400), "Premier délai avant nouvel essai (secondes).")
@french_errors
def worker(once: bool, poll: float, lease: int, backoff: float) -> None:
    """Délivre la file d'envoi (outbox) : au moins une fois, avec nouvel essai puis échec définitif visible."""
    from datetime import timedelta

    from lgo.worker import Worker

    kernel = open_kernel()
    runner = Worker(kernel, lease=timedelta(seconds=lease), base_backoff_seconds=backoff)
    if once:
        jobs = runner.run_periodic(force=True)
        click.echo(f"{runner.drain()} message(s) traité(s), {jobs} tâche(s) périodique(s) exécutée(s).")
    else:
        click.echo(f"Worker {runner.name} démarré (Ctrl-C pour arrêter).")
        try:
            runner.run_forever(poll)
        except KeyboardInterrupt:
            click.echo("Arrêt du worker.")
    kernel.close()


@main.group(invoke_without_command=True)
@click.pass_context
@french_errors
def outbox(ctx: click.Context) -> None:
    """File d'envoi : messages en attente, en échec définitif, délivrés."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from lgo.domain.outbox import OutboxMessage, OutboxStatus, counts

    with opened_pharmacy() as (kernel, pharmacy_id), kernel.transaction() as session:
        summary = counts(session, pharmacy_id)
        click.echo(", ".join(f"{status.label_fr} : {n}" for status, n in summary.items()))
        for message in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.pharmacy_id == pharmacy_id, OutboxMessage.status != OutboxStatus.DELIVERED)
            .order_by(OutboxMessage.id)
        ):
            click.echo(
                f"  n° {message.id} {message.kind} — {OutboxStatus(message.status).label_fr}, "
                f"{message.attempts}/{message.max_attempts} tentative(s)"
                + (f" — {message.last_error_fr or message.last_error.splitlines()[0]}" if message.last_error else "")
            )


@outbox.command("retry")
@click.argument("message_id")
@french_errors
def outbox_retry(message_id: str) -> None:
    """Remet en file un message en échec définitif."""
    from lgo.domain import audit
    from lgo.domain.outbox import retry_dead

    with opened_pharmacy() as (kernel, pharmacy_id):
        with kernel.transaction() as session:
            message = retry_dead(session, pharmacy_id, message_id)
            audit.record(
                session,
                pharmacy_id,
                "outbox.retry",
                f"Message n° {message.id} remis en file.",
                object_type="outbox_message",
                object_id=message.id,
            )
        click.echo(f"Message n° {message_id} remis en file.")


@main.command()
@click.option("--database", help="URL de la base de démonstration (par défaut : demo.sqlite, recréée).")
@click.option("--web", is_flag=True, help="Sert le comptoir de l'officine de démonstration (bacs à sable démarrés).")
@click.option("--port", default=8080, show_default=True, help="Port du comptoir avec --web (0 : un port libre).")
@french_errors
def demo(database: str | None, web: bool, port: int) -> None:
    """Crée une officine fictive et déroule une séquence au comptoir, racontée en français ; avec --web, sert le
    comptoir de cette officine dans le navigateur, sur ce poste, jusqu'à Ctrl-C."""
    if web:
        from lgo.demo import serve_demo

        sys.exit(serve_demo(database, port))
    from lgo.demo import run_demo

    sys.exit(run_demo(database))


if __name__ == "__main__":  # pragma: no cover
    main()
