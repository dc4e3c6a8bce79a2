"""The ``lgo`` command, run as a user would (a separate process, French output, no traceback)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lgo import PLUGIN_API
from lgo.demo_data import FINESS
from lgo.testing.dists import plugin_module_source, write_distribution


def lgo(
    home: Path, *args: str, pythonpath: Path | None = None, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGO_")}
    env["LGO_HOME"] = str(home)
    if database_url:
        env["LGO_DATABASE_URL"] = database_url
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    env["XDG_CACHE_HOME"] = str(home / "cache")
    return subprocess.run(
        [sys.executable, "-m", "lgo.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_help_is_in_french(home: Path) -> None:
    result = lgo(home, "--help")
    assert result.returncode == 0
    assert "logiciel de gestion d'officine libre" in result.stdout
    for command in ("init", "plugins", "db", "worker", "outbox", "demo"):
        assert command in result.stdout


def test_init_then_plugins_with_reasons_then_enable(home: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugins = {"good": {}, "needs_good": {"requires": ("good",)}, "old_api": {"plugin_api": ">=0.1,<1"}}
    for name, kwargs in plugins.items():
        write_distribution(
            site,
            f"lgo-test-{name}",
            version="2.0.1",
            modules={f"cli_{name}": plugin_module_source(name, **kwargs)},  # type: ignore[arg-type]
            entry_points={"lgo.plugins": {name: f"cli_{name}"}},
        )
    write_distribution(
        site,
        "lgo-test-boom",
        modules={"cli_boom": "import not_installed_anywhere\n"},
        entry_points={"lgo.plugins": {"boom": "cli_boom"}},
    )

    result = lgo(home, "init", "--name", "Pharmacie du Test", "--finess", FINESS, pythonpath=site)
    assert result.returncode == 0, result.stderr
    assert f"Officine enregistrée : Pharmacie du Test (FINESS {FINESS}, production)." in result.stdout

    table = lgo(home, "plugins", pythonpath=site)
    assert table.returncode == 0, table.stderr
    lines = {line.split()[0]: line for line in table.stdout.splitlines()[1:]}
    assert "désactivé" in lines["good"] and "2.0.1" in lines["good"]
    assert "incompatible" in lines["old_api"] and f"le noyau fournit {PLUGIN_API}" in lines["old_api"]
    assert "en échec" in lines["boom"] and "ModuleNotFoundError" in lines["boom"]

    refused = lgo(home, "plugins", "enable", "needs_good", pythonpath=site)
    assert refused.returncode == 1
    assert "Erreur : « needs_good » nécessite « good »" in refused.stderr
    assert "Traceback" not in refused.stderr

    enabled = lgo(home, "plugins", "enable", "needs_good", "--with-dependencies", pythonpath=site)
    assert enabled.returncode == 0 and "Activé : good, needs_good." in enabled.stdout
    table = lgo(home, "plugins", pythonpath=site)
    assert "actif" in {line.split()[0]: line for line in table.stdout.splitlines()[1:]}["needs_good"]

    disabled = lgo(home, "plugins", "disable", "needs_good", pythonpath=site)
    assert disabled.returncode == 0 and "ses données sont conservées" in disabled.stdout


def test_bad_input_gets_a_french_error_without_traceback(home: Path) -> None:
    result = lgo(home, "init", "--name", "X", "--finess", "123456789")
    assert result.returncode == 1
    assert "Numéro FINESS invalide : « 123456789 » (clé de contrôle incorrecte)." in result.stderr
    assert "Traceback" not in result.stderr
    no_pharmacy = lgo(home, "plugins", "enable", "x")
    assert "lgo init --name" in no_pharmacy.stderr


# The demonstration reads a virtual carte Vitale through pcscd, whose socket is machine-wide (decision 0014).
@pytest.mark.xdist_group("pcscd")
def test_demo_tells_the_counter_sequence(home: Path) -> None:
    result = lgo(home, "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The total of steps grows with the installed Ségur plugins' own demo steps.
    assert re.search(r"\[1/\d+\] Ouverture de l'officine", out)
    for expected in (
        "Ordonnancier : n° 1, 2",
        "Refus : Stock insuffisant",
        "la correction est la ligne n° 4",
        "2e essai : délivré",
        "Démonstration terminée.",
    ):
        assert expected in out
    assert "Traceback" not in result.stderr
    again = lgo(home, "demo")  # the demo database is recreated: running it twice works
    assert again.returncode == 0, again.stderr


def test_worker_once_and_outbox_listing(home: Path) -> None:
    assert lgo(home, "init", "--name", "Pharmacie du Test", "--finess", FINESS).returncode == 0
    worker = lgo(home, "worker", "--once")
    assert worker.returncode == 0 and "0 message(s) traité(s)," in worker.stdout
    listing = lgo(home, "outbox")
    assert listing.returncode == 0 and "en attente : 0" in listing.stdout
    retry = lgo(home, "outbox", "retry", "42")
    assert retry.returncode == 1 and "Aucun message n° 42" in retry.stderr


def test_distributions_add_commands_through_the_lgo_commands_group(home: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_distribution(
        site,
        "lgo-test-addon",
        modules={
            "lgotest_addon_cli": (
                "import click\n"
                "@click.command()\n"
                "def hello() -> None:\n"
                "    '''Dit bonjour.'''\n"
                "    click.echo('Bonjour depuis un module complémentaire.')\n"
                "broken = 1 / 0 if False else 'not a command'\n"
            )
        },
        entry_points={
            "lgo.commands": {
                "hello": "lgotest_addon_cli:hello",
                "init": "lgotest_addon_cli:hello",
                "broken": "lgotest_addon_cli:broken",
                "absent": "lgotest_nowhere:x",
            }
        },
    )
    listing = lgo(home, "--help", pythonpath=site)
    assert listing.returncode == 0 and "hello" in listing.stdout and "broken" not in listing.stdout
    result = lgo(home, "hello", pythonpath=site)
    assert result.returncode == 0, result.stderr
    assert "Bonjour depuis un module complémentaire." in result.stdout
    assert "Crée la base" in lgo(home, "init", "--help", pythonpath=site).stdout  # built-ins are never replaced
