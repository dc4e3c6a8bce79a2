"""Every ``lgo`` command — the kernel's and the installed modules' — run with bad arguments and in broken
environments ends with a French sentence and a documented exit code, never a traceback (issue 16): a corrupt
database, ``LGO_HOME`` on a file, an unusable ``LGO_DATABASE_URL``, PostgreSQL down, a bad ``LGO_SECRET_KEY``,
out-of-range numbers, unknown ids."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lgo.cli import EXIT_REFUSED, EXIT_USAGE, main
from lgo.demo_data import FINESS, PASSWORD, seed
from lgo.kernel import Kernel
from lgo.testing.postgres import PostgresServer

HUGE = "99999999999999999999"
PASSWORDS = "\n".join([PASSWORD] * 3) + "\n"
#: Each command with arguments a user could type (the password prompts are answered).
COMMANDS = [
    ["init", "--name", "Pharmacie", "--finess", FINESS],
    ["db", "upgrade"],
    ["plugins"],
    ["plugins", "enable", "dmp"],
    ["plugins", "disable", "dmp"],
    ["worker", "--once"],
    ["outbox"],
    ["outbox", "retry", "1"],
    ["dmp", "suivi"],
    ["dmp", "relancer", "1", "--operateur", "titulaire"],
    ["dmp", "consulter", "1", "--operateur", "titulaire"],
    ["mssante", "relever"],
    ["mssante", "suivi"],
    ["mssante", "habilitation", "1", "--operateur", "adjoint", "--role", "Utilisateur", "--admin", "titulaire"],
    ["mssante", "boite-organisationnelle", "--adresse", "officine@pharmacie.mssante.fr", "--admin", "titulaire"],
    ["dp", "suivi"],
    ["dp", "rappels"],
    ["dp", "consulter", "1", "--operateur", "titulaire"],
]
#: Bad arguments and unknown or out-of-range ids, on a working database.
BAD_ARGUMENTS = [
    ["nimportequoi"],
    ["--option-inconnue"],
    ["plugins", "enable"],
    ["plugins", "enable", "nimportequoi"],
    ["plugins", "disable", "nimportequoi"],
    ["worker", "--once", "--lease", HUGE],
    ["worker", "--once", "--poll", "-1"],
    ["worker", "--once", "--backoff", "beaucoup"],
    ["outbox", "retry", "42"],
    ["outbox", "retry", HUGE],
    ["outbox", "retry", "abc"],
    ["dmp", "suivi", "--patient", HUGE],
    ["dmp", "suivi", "--patient", "abc"],
    ["dmp", "relancer", HUGE, "--operateur", "titulaire"],
    ["dmp", "relancer", "999", "--operateur", "titulaire"],
    ["dmp", "consulter", "999", "--operateur", "titulaire"],
    ["dmp", "consulter", HUGE, "--operateur", "titulaire"],
    ["dmp", "consulter", "1", "--operateur", "personne"],
    ["dmp", "consulter", "1"],
    ["mssante", "habilitation", "99", "--operateur", "adjoint", "--role", "Utilisateur", "--admin", "titulaire"],
    ["mssante", "habilitation", HUGE, "--operateur", "adjoint", "--role", "Utilisateur", "--admin", "titulaire"],
    ["mssante", "habilitation", "1", "--operateur", "personne", "--role", "Utilisateur", "--admin", "titulaire"],
    ["mssante", "habilitation", "1", "--operateur", "adjoint", "--role", "Chef", "--admin", "titulaire"],
    ["mssante", "boite-organisationnelle", "--adresse", "pas-une-adresse", "--admin", "titulaire"],
    ["mssante", "boite-organisationnelle", "--adresse", "a@b.fr", "--admin", "preparatrice"],
    ["mssante", "boite-nominative", "--operateur", "titulaire", "--adresse", "a@b.fr", "--certificat", "/nulle/part"],
    ["mssante", "suivi", "--sens", "diagonal"],
    ["dp", "suivi", "--patient", HUGE],
    ["dp", "consulter", "999", "--operateur", "titulaire"],
    ["dp", "consulter", HUGE, "--operateur", "titulaire"],
    ["dp", "acquitter", HUGE, "--operateur", "titulaire"],
    ["dp", "acquitter", "999", "--operateur", "titulaire"],
    ["web", "--port", "99999"],
    ["web", "--host", "0.0.0.0"],
    ["web", "--certificate", "/nulle/part.pem"],
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def working_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder with a migrated database and the fictional pharmacy, every installed module enabled."""
    home = tmp_path_factory.mktemp("cli-home")
    saved = {k: os.environ.get(k) for k in ("LGO_HOME", "LGO_DATABASE_URL", "LGO_SECRET_KEY", "LGO_PHARMACY")}
    os.environ.update(LGO_HOME=str(home))
    for name in ("LGO_DATABASE_URL", "LGO_SECRET_KEY", "LGO_PHARMACY"):
        os.environ.pop(name, None)
    kernel = Kernel(f"sqlite:///{home / 'lgo.sqlite'}")
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        pharmacy = seed(session).pharmacy_id
    for info in kernel.registry.loaded():
        kernel.enable(pharmacy, info.name, with_dependencies=True)
    kernel.close()
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _run(args: list[str], **env: str) -> Result:
    base = {"LGO_DATABASE_URL": "", "LGO_SECRET_KEY": "", "LGO_PHARMACY": ""}
    return CliRunner().invoke(main, args, env={**base, **env}, input=PASSWORDS)


def _assert_french_failure(result: Result, args: list[str], *, usage: bool | None = None) -> None:
    shown = f"{args}: exit {result.exit_code}\n{result.output}"
    assert result.exit_code in (EXIT_REFUSED, EXIT_USAGE), shown
    if usage is not None:
        assert (result.exit_code == EXIT_USAGE) is usage, shown
    assert "Traceback" not in result.output and "Error:" not in result.output, shown
    assert "Erreur : " in result.output, shown
    assert isinstance(result.exception, SystemExit), shown


@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=lambda args: " ".join(a[:20] for a in args))
def test_bad_arguments_and_unknown_ids_get_a_french_error(working_home: Path, args: list[str]) -> None:
    result = _run(args, LGO_HOME=str(working_home))
    _assert_french_failure(result, args)


#: ``lgo init`` on a database without a pharmacy yet (once one exists, ``lgo init`` shows it and changes nothing).
BAD_INIT = [
    ["init", "--name", "Sans FINESS"],
    ["init", "--name", "Pharmacie", "--finess", "123"],
    ["init", "--name", "x" * 300, "--finess", "999000029"],
    ["init", "--name", "Pharmacie", "--finess", "999000029", "--postal-code", "1234567"],
    ["init", "--name", "Pharmacie", "--finess", "999000029", "--city", "a\x00b"],
]


@pytest.fixture(scope="module")
def empty_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-empty")
    kernel = Kernel(f"sqlite:///{home / 'lgo.sqlite'}")
    kernel.upgrade_database()
    kernel.close()
    return home


@pytest.mark.parametrize("args", BAD_INIT, ids=lambda args: " ".join(a[:20] for a in args))
def test_bad_init_values_get_a_french_error(empty_home: Path, args: list[str]) -> None:
    result = _run(args, LGO_HOME=str(empty_home))
    _assert_french_failure(result, args)
    assert "Officine enregistrée" not in result.output


def _broken_environments(tmp_path: Path) -> dict[str, dict[str, str]]:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir(parents=True)
    (corrupt / "lgo.sqlite").write_bytes(b"ceci n'est pas une base SQLite" * 200)
    on_a_file = tmp_path / "un-fichier"
    on_a_file.write_text("LGO_HOME ne peut pas être un fichier")
    elsewhere = str(tmp_path / "ailleurs")
    return {
        "corrupt database": {"LGO_HOME": str(corrupt)},
        "LGO_HOME on a file": {"LGO_HOME": str(on_a_file)},
        "unusable LGO_DATABASE_URL": {"LGO_HOME": elsewhere, "LGO_DATABASE_URL": "base-de-donnees-inconnue://x"},
        "PostgreSQL down": {
            "LGO_HOME": elsewhere,
            "LGO_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/lgo",
        },
    }


def test_every_command_in_a_broken_environment_gets_a_french_error(tmp_path: Path) -> None:
    for name, env in _broken_environments(tmp_path).items():
        for args in COMMANDS:
            result = _run(args, **env)
            _assert_french_failure(result, [name, *args], usage=False)
    # The corrupt database is reported, not listed as if every module were loaded (it used to exit 0).
    listed = _run(["plugins"], **_broken_environments(tmp_path / "again")["corrupt database"])
    assert "endommagée" in listed.output and "chargé" not in listed.output


def test_a_bad_secret_key_is_told_in_french(working_home: Path) -> None:
    args = ["mssante", "boite-organisationnelle", "--adresse", "cle@pharmacie.mssante.fr", "--admin", "titulaire"]
    result = _run(args, LGO_HOME=str(working_home), LGO_SECRET_KEY="pas-une-cle-fernet")
    _assert_french_failure(result, args, usage=False)
    assert "La clé de chiffrement des secrets (LGO_SECRET_KEY) est invalide" in result.output


def test_over_long_init_values_are_refused_on_postgresql(lgo_postgres: PostgresServer, tmp_path: Path) -> None:
    url = lgo_postgres.create_database("cli_init_lengths")
    for field, value in (("--name", "x" * 300), ("--city", "y" * 150), ("--postal-code", "1234567")):
        args = ["init", "--name", "Pharmacie", "--finess", FINESS, field, value]
        result = _run(args, LGO_DATABASE_URL=url, LGO_HOME=str(tmp_path))
        _assert_french_failure(result, args, usage=False)
        assert "trop long" in result.output


def test_verbose_shows_the_technical_detail_and_the_help_documents_the_exit_codes(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "lgo.sqlite").write_bytes(b"x" * 4096)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGO_")}
    env["LGO_HOME"] = str(corrupt)
    quiet = _run(["outbox"], LGO_HOME=str(corrupt))
    _assert_french_failure(quiet, ["outbox"], usage=False)
    assert quiet.output.strip().splitlines() == ["Erreur : " + quiet.output.strip().removeprefix("Erreur : ")]
    assert "DatabaseError" not in quiet.output
    # The log's handler is set up once per process: --verbose is seen as a user runs it.
    verbose = subprocess.run(
        [sys.executable, "-m", "lgo.cli", "--verbose", "outbox"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verbose.returncode == EXIT_REFUSED
    assert "DatabaseError" in verbose.stderr and "Erreur : La base SQLite est endommagée" in verbose.stderr
    helped = _run(["--help"])
    assert "Codes de sortie : 0 fait ; 1 refusé ou impossible" in helped.output
    assert "Utilisation :" in helped.output and "Affiche cette aide et quitte." in helped.output
