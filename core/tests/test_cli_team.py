"""A pharmacy starts from nothing on the command line: ``lgo init`` records the pharmacy and its first administrator
(asked at a terminal, or given as options by a script), ``lgo equipe`` manages the team, and every ``--help`` is in
French."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from lgo import cli
from lgo.demo_data import FINESS

ENGLISH_CLICK = ("Usage:", "Options:", "Commands:", "Show this message", "[default:", "[required]", "Error:")


def lgo(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LGO_")}
    clean.update(LGO_HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "lgo.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_a_script_initialises_the_pharmacy_with_its_administrator_then_manages_the_team(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    bare = lgo(home, "init", "--name", "Pharmacie du Test", "--finess", FINESS)
    assert bare.returncode == 0 and "Aucun administrateur : relancez « lgo init » avec --admin-code" in bare.stdout
    done = lgo(
        home,
        "init",
        "--test",
        "--admin-code",
        "admin",
        "--admin-last-name",
        "Petit",
        "--admin-first-name",
        "Marc",
        env={"LGO_ADMIN_PASSWORD": "secret-admin"},
    )
    assert done.returncode == 0, done.stderr
    assert f"Officine : Pharmacie du Test (FINESS {FINESS}, mode test)." in done.stdout
    assert "Administrateur créé : Marc Petit (code admin)." in done.stdout
    last = lgo(home, "equipe", "desactiver", "admin")
    assert last.returncode == 1 and "Erreur : Marc Petit est le dernier administrateur actif" in last.stderr
    assert "Traceback" not in last.stderr

    monkeypatch.setenv("LGO_HOME", str(home))  # the same commands, in this process (quicker)
    monkeypatch.delenv("LGO_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli.main, list(args), prog_name="lgo")
        return f"{result.exit_code}|{result.output}"

    assert "Pour créer l'administrateur" not in run("init", "--admin-code", "x")  # one exists already
    added = run("equipe", "ajouter", "cdurand", "--nom", "Durand", "--prenom", "Claire", "--role", "titulaire",
                "--rpps", "99999000013")  # fmt: skip
    assert added.startswith("0|") and "Mot de passe provisoire : " in added and "première connexion" in added
    listing = run("equipe")
    assert "Claire Durand — pharmacien titulaire, RPPS 99999000013 (actif, mot de passe provisoire)" in listing
    assert "Marc Petit — administrateur (actif)" in listing
    assert "Opérateur modifié : Claire Durand" in run("equipe", "modifier", "cdurand", "--habilitations", "dmp.feed")
    unknown = run("equipe", "modifier", "cdurand", "--habilitations", "tout.faire")
    assert unknown.startswith("1|") and "Habilitation inconnue : « tout.faire »" in unknown
    assert "Mot de passe provisoire : " in run("equipe", "mot-de-passe", "cdurand")
    assert "Opérateur désactivé : Claire Durand" in run("equipe", "desactiver", "cdurand")
    assert "dmp.consult" in run("equipe", "habilitations")


def test_at_a_terminal_init_asks_for_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LGO_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    answers = "Pharmacie des Tilleuls\n" + FINESS + "\nadmin\nPetit\nMarc\nsecret-admin\nsecret-admin\n"
    result = CliRunner().invoke(cli.main, ["init"], input=answers)
    assert result.exit_code == 0, result.output
    for question in ("Nom de l'officine", "Numéro FINESS", "Code de connexion de l'administrateur",
                     "Mot de passe de l'administrateur", "Saisissez de nouveau pour confirmer"):  # fmt: skip
        assert question in result.output
    assert "Administrateur créé : Marc Petit (code admin)." in result.output
    assert "secret-admin" not in result.output  # hidden input


def _commands(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _commands(command, click.Context(command, parent=ctx, info_name=name), (*path, name))
    return found


def test_every_help_text_is_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGO_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    paths = _commands(cli.main, click.Context(cli.main, info_name="lgo"))
    assert {("init",), ("equipe",), ("equipe", "ajouter"), ("web",), ("plugins", "enable")} <= set(paths)
    for path in [(), *paths]:
        result = runner.invoke(cli.main, [*path, "--help"], prog_name="lgo")
        assert result.exit_code == 0, (path, result.output)
        assert "Utilisation : lgo" in result.output and "Affiche cette aide et quitte." in result.output, path
        assert not [word for word in ENGLISH_CLICK if word in result.output], (path, result.output)
        command = cli.main
        for name in path:
            command = command.get_command(click.Context(command), name)  # type: ignore[attr-defined, assignment]
        assert (command.help or "").strip(), f"lgo {' '.join(path)} has no help text"
    wrong = runner.invoke(cli.main, ["equipe", "ajouter", "x", "--nom", "N"], prog_name="lgo")
    assert wrong.exit_code == 2 and "Erreur : Option manquante '--prenom'." in wrong.output
