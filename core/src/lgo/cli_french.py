"""Click's own words (« Usage: », « Options », « Show this message and exit. », its usage errors) in French.

Click translates through :mod:`gettext`, whose catalogue depends on the machine's locale and is not shipped for
French; an LGO command speaks French whatever the locale of the server it runs on. Click's modules call the ``_``
and ``ngettext`` they imported from :mod:`gettext`: :func:`install` gives them a lookup in the table below instead
(an unknown text is left in English, never lost).
"""

from __future__ import annotations

import importlib

#: Click's messages (8.1 to 8.3), in French. Placeholders are kept as they are.
MESSAGES_FR: dict[str, str] = {
    "Usage:": "Utilisation :",
    # Headings are followed by ":" without a space: the space French typography wants is in the heading.
    "Options": "Options ",
    "Commands": "Commandes ",
    "Positional arguments": "Arguments ",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "default: {default}": "par défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "required": "obligatoire",
    "(dynamic)": "(calculé)",
    "deprecated": "obsolète",
    "Aborted!": "Abandon.",
    "Missing command.": "Commande manquante.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing {param_type}": "{param_type} manquant",
    "unknown error": "erreur inconnue",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier {filename!r} : {message}",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "Choose from:\n\t{choices}": "Choisissez parmi :\n\t{choices}",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} n'est pas oui ou non. Valeurs reconnues : {states}"
    ),
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un nombre valide ({number_type}).",
    "{value!r} is not a valid UUID.": "{value!r} n'est pas un UUID valide.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "{name} {filename!r} is a file.": "Le {name} {filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "Le {name} {filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "Le {name} {filename!r} n'est pas lisible.",
    "{name} {filename!r} is not writable.": "Le {name} {filename!r} n'est pas accessible en écriture.",
    "{name} {filename!r} is not executable.": "Le {name} {filename!r} n'est pas exécutable.",
    "{name} {filename!r} does not exist.": "Le {name} {filename!r} n'existe pas.",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Confirm the action without prompting.": "Confirme l'action sans la demander.",
    "Repeat for confirmation": "Saisissez de nouveau pour confirmer",
    "Error: The two entered values do not match.": "Erreur : les deux saisies sont différentes.",
    "Error: invalid input": "Erreur : saisie invalide",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
}

#: ``ngettext`` messages: (singular, plural) → (French singular, French plural).
PLURALS_FR: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "Argument en trop : {args}",
        "Arguments en trop : {args}",
    ),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire l'une de ces options : {possibilities} ?)",
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "L'option {name!r} attend une valeur.",
        "L'option {name!r} attend {nargs} valeurs.",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "{value!r} n'est pas {choice}.",
        "{value!r} n'est pas l'un des choix {choices}.",
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "Attend {nargs} valeurs mais 1 a été donnée.",
        "Attend {nargs} valeurs mais {len} ont été données.",
    ),
}

_CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
)


def gettext_fr(message: str) -> str:
    return MESSAGES_FR.get(message, message)


def ngettext_fr(singular: str, plural: str, n: int) -> str:
    french = PLURALS_FR.get((singular, plural))
    if french is None:
        return singular if n == 1 else plural
    return french[0] if n == 1 else french[1]


#: The words shown for a parameter's type in the help (``--nom TEXTE``).
TYPE_NAMES_FR = {"STRING": "texte", "INT": "entier", "FLOAT": "nombre", "BOOL": "oui/non", "UUID": "uuid"}


def install() -> None:
    """Make click speak French in this process (idempotent)."""
    import click

    for constant, word in TYPE_NAMES_FR.items():
        getattr(click, constant).name = word
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext_fr  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext_fr  # type: ignore[attr-defined]
