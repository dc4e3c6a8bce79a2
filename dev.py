#!/usr/bin/env python3
"""Set-up and everyday commands, with nothing but the system's python3.

    python3 dev.py demo      # prepare .venv, then run the demo on the embedded defaults
    python3 dev.py test      # prepare .venv, then ruff, mypy and pytest (LGO_SKIP_LINT=1 skips ruff and mypy)
    python3 dev.py bench     # prepare .venv, then the benchmarks
    python3 dev.py lgo ARGS  # prepare .venv, then any `lgo` command
    python3 dev.py setup     # only prepare .venv
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".lgo-setup-stamp"
#: Extras installed for each member in development.
EXTRAS = {"core": "[postgresql,testing]"}


def say(message: str) -> None:
    print(message, flush=True)


def members() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["uv"]["workspace"]["members"])


def fingerprint() -> str:
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", ROOT / "requirements-dev.txt"]
    files += [ROOT / member / "pyproject.toml" for member in members()]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def run(command: list[str], **kwargs: object) -> None:
    result = subprocess.run(command, cwd=ROOT, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.exit(result.returncode)


def create_venv() -> None:
    attempt = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if attempt.returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    venv_package = f"python3.{sys.version_info.minor}-venv"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"      python3-venv manque : installation de {venv_package} avec apt-get…")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        install = subprocess.run(["apt-get", "install", "-y", "-qq", venv_package], env=env)
        if install.returncode != 0:
            run(["apt-get", "install", "-y", "-qq", "python3-venv"], env=env)
        run([sys.executable, "-m", "venv", str(VENV)])
        return
    sys.exit(
        "Impossible de créer l'environnement virtuel : le module venv de Python est incomplet.\n"
        f"Installez le paquet « {venv_package} » (sudo apt-get install {venv_package}) puis relancez.\n"
        f"Détail : {attempt.stderr.strip()}"
    )


def setup() -> None:
    if STAMP.exists() and STAMP.read_text() == fingerprint() and (BIN / "lgo").exists():
        return
    if not (BIN / "python").exists():
        say("[1/3] Création de l'environnement virtuel .venv…")
        create_venv()
    else:
        say("[1/3] Environnement virtuel .venv présent.")
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    say("[2/3] Mise à jour de pip…")
    run([*pip, "--upgrade", "pip"])
    say("[3/3] Installation des membres (" + ", ".join(members()) + ") et des outils de développement…")
    editable = [arg for member in members() for arg in ("-e", f"./{member}{EXTRAS.get(member, '')}")]
    run([*pip, *editable, "-r", "requirements-dev.txt"])
    STAMP.write_text(fingerprint())
    say("Environnement prêt.")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in ("setup", "demo", "test", "bench", "lgo"):
        print(f"Commande inconnue : {command}\n{__doc__}", file=sys.stderr)
        return 2
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        return subprocess.call([str(BIN / "lgo"), "demo", *rest], cwd=ROOT)
    if command == "lgo":
        return subprocess.call([str(BIN / "lgo"), *rest], cwd=ROOT)
    if command == "bench":
        return subprocess.call([str(BIN / "python"), "benchmarks/run.py", *rest], cwd=ROOT)
    if not os.environ.get("LGO_SKIP_LINT"):
        say("== ruff ==")
        if subprocess.call([str(BIN / "ruff"), "check", "."], cwd=ROOT):
            return 1
        say("== mypy ==")
        if subprocess.call([str(BIN / "mypy")], cwd=ROOT):
            return 1
    say("== pytest ==")
    code = subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    return 1 if code == 5 else code  # 5: no test collected, which is a failure here


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
