#!/usr/bin/env python3
"""Set-up and everyday commands, with nothing but the system's python3.

python3 dev.py demo      # prepare .venv, then run the demo on the embedded defaults
python3 dev.py test      # prepare .venv, then ruff, mypy, import rules, repeats, pytest (LGO_SKIP_LINT=1: pytest only)
python3 dev.py bench     # prepare .venv, then the benchmarks
python3 dev.py matrix    # regenerate tox.ini from the manifests (--run: run the whole tox matrix)
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
APT_LISTS = ROOT / ".ci" / "apt.d"
#: Debian packages needed to install the Python dependencies themselves (e.g. pyscard builds from source).
APT_BUILD_LISTS = ROOT / ".ci" / "apt-build.d"


def say(message: str) -> None:
    print(message, flush=True)


def members() -> list[str]:
    """Workspace members (globs expanded) that are distributions, core first."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found: list[str] = []
    for pattern in config["tool"]["uv"]["workspace"]["members"]:
        for path in sorted(ROOT.glob(pattern)):
            if (path / "pyproject.toml").exists():
                found.append(path.relative_to(ROOT).as_posix())
    return found


def dev_extras(member: str) -> str:
    config = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
    extras = config.get("tool", {}).get("lgo", {}).get("dev-extras", [])
    return f"[{','.join(extras)}]" if extras else ""


def debian_packages(*folders: Path) -> list[str]:
    packages: list[str] = []
    for listing in sorted(p for folder in folders or (APT_BUILD_LISTS, APT_LISTS) for p in folder.glob("*.txt")):
        for line in listing.read_text().splitlines():
            name = line.split("#", 1)[0].strip()
            if name and name not in packages:
                packages.append(name)
    return packages


def ensure_debian_packages(*folders: Path, purpose: str = "aux tests et à la démonstration") -> None:
    """Install the Debian packages the tests and the demo need (real servers, card tools), listed in
    .ci/apt.d/*.txt, and those the Python dependencies need to build (.ci/apt-build.d/*.txt)."""
    if not shutil.which("dpkg-query"):
        return
    missing = []
    for package in debian_packages(*folders):
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True).stdout
        if "install ok installed" not in status:
            missing.append(package)
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say(f"Paquets Debian manquants ({purpose}) : " + " ".join(missing))
        say("Installez-les (sudo apt-get install " + " ".join(missing) + ").")
        return
    say(f"Installation des paquets Debian nécessaires {purpose} : " + " ".join(missing) + "…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def typed_packages() -> list[str]:
    """Every member's import packages, for mypy."""
    return [
        path.relative_to(ROOT).as_posix()
        for member in members()
        for path in sorted((ROOT / member / "src").glob("*"))
        if (path / "__init__.py").exists()
    ]


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
    ensure_debian_packages(APT_BUILD_LISTS, purpose="à l'installation des dépendances Python")
    say("[3/3] Installation des membres (" + ", ".join(members()) + ") et des outils de développement…")
    editable = [arg for member in members() for arg in ("-e", f"./{member}{dev_extras(member)}")]
    run([*pip, *editable, "-r", "requirements-dev.txt"])
    STAMP.write_text(fingerprint())
    say("Environnement prêt.")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in ("setup", "demo", "test", "bench", "lgo", "matrix", "imports"):
        print(f"Commande inconnue : {command}\n{__doc__}", file=sys.stderr)
        return 2
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        ensure_debian_packages()  # the demo starts the same real servers as the tests (mail, pcscd, SoftHSM)
        return subprocess.call([str(BIN / "lgo"), "demo", *rest], cwd=ROOT)
    if command == "lgo":
        return subprocess.call([str(BIN / "lgo"), *rest], cwd=ROOT)
    if command == "bench":
        return subprocess.call([str(BIN / "python"), "benchmarks/run.py", *rest], cwd=ROOT)
    if command == "imports":
        return subprocess.call([str(BIN / "python"), "tools/import_rules.py"], cwd=ROOT)
    if command == "matrix":
        code = subprocess.call([str(BIN / "python"), "tools/tox_matrix.py"], cwd=ROOT)
        if code or "--run" not in rest:
            return code
        return subprocess.call([str(BIN / "tox"), "run-parallel", "--parallel", "auto"], cwd=ROOT)
    ensure_debian_packages()
    if not os.environ.get("LGO_SKIP_LINT"):
        say("== ruff ==")
        if subprocess.call([str(BIN / "ruff"), "check", "."], cwd=ROOT):
            return 1
        if subprocess.call([str(BIN / "ruff"), "format", "--check", "."], cwd=ROOT):
            return 1
        say("== mypy ==")
        if subprocess.call([str(BIN / "mypy"), *typed_packages()], cwd=ROOT):
            return 1
        say("== règles d'import du contrat de modules (import-linter) ==")
        if subprocess.call([str(BIN / "python"), "tools/import_rules.py", "--check"], cwd=ROOT):
            return 1
        if subprocess.call([str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT):
            return 1
        say("== blocs écrits deux fois dans le code livré (symilar) ==")
        if subprocess.call([str(BIN / "python"), "tools/repeats.py"], cwd=ROOT):
            return 1
    say("== pytest ==")
    code = subprocess.call([str(BIN / "python"), "-m", "pytest", *parallel(rest), *rest], cwd=ROOT)
    if code == 5:  # no test collected, which is a failure here
        return 1
    if code == 0 and (os.environ.get("CI") or os.environ.get("LGO_TOX_PAIRWISE")):
        code = tox_subset()
    return code


def parallel(rest: list[str]) -> list[str]:
    """pytest-xdist options: the suite mostly waits on real servers and browsers, so one test process per core
    halves its time; ``LGO_TEST_WORKERS`` sets how many (``0``: one process, as plain ``pytest``). Tests sharing a
    machine-wide resource carry ``xdist_group`` and run in one process (decision 0014)."""
    workers = os.environ.get("LGO_TEST_WORKERS", "auto")
    if workers == "0" or any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in rest):
        return []
    return ["-n", workers, "--dist", "loadgroup"]


def tox_subset() -> int:
    """CI: tox.ini must match the manifests, and a representative part of the matrix runs (each plugin with only
    what it requires, each provider): a plugin that secretly needs another fails there."""
    say("== matrice tox (sous-ensemble représentatif) ==")
    if subprocess.call([str(BIN / "python"), "tools/tox_matrix.py", "--check"], cwd=ROOT):
        return 1
    envs = subprocess.run(
        [str(BIN / "python"), "tools/tox_matrix.py", "--pairwise"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    return subprocess.call([str(BIN / "tox"), "run-parallel", "--parallel", "auto", "-e", envs], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
