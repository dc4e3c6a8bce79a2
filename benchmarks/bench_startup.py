"""Start-up: ``lgo --help`` with every plugin installed against importing the kernel's own libraries.

The command line must stay quick however many plugins are installed: listing the commands imports each plugin's
entry module, which must load its heavy libraries (XML, cryptography, HTTP, the database) only where they are used.
The baseline imports every library the kernel depends on (``lgo-core``'s requirements): below 1, ``lgo --help`` loads
less than the kernel's own libraries.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from importlib.metadata import entry_points, requires
from pathlib import Path

from measure import Result, progress

#: The module that stands for a distribution when it is imported for use (its public entry point).
MODULES = {
    "sqlalchemy": "sqlalchemy.orm",
    "packaging": "packaging.version",
    "cryptography": "cryptography.x509",
    "lxml": "lxml.etree",
    "python-stdnum": "stdnum",
}


def kernel_libraries() -> list[str]:
    """The modules of the kernel's required distributions (extras left out)."""
    modules = []
    for requirement in requires("lgo-core") or []:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()
        modules.append(MODULES.get(name, name.replace("-", "_")))
    return modules


def bench_startup(runs: int, workdir: Path) -> Result:
    env = {**os.environ, "LGO_HOME": str(workdir / "home")}
    plugins = len(entry_points(group="lgo.plugins"))  # what ``lgo --help`` reads (``lgo plugins`` needs a database)
    libraries = kernel_libraries()
    progress(f"  démarrage : « lgo --help » avec {plugins} modules installés contre l'import de {len(libraries)} "
             f"bibliothèques du noyau ({runs} fois)…")  # fmt: skip

    def once(command: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    help_command = [sys.executable, "-m", "lgo.cli", "--help"]
    import_command = [sys.executable, "-c", "import " + ", ".join(libraries)]
    once(help_command)  # warm the file cache (bytecode, entry points)
    subject: list[float] = []
    baseline: list[float] = []
    for _ in range(runs):  # alternating, so that a busy moment of the machine weighs on both
        subject.append(once(help_command))
        baseline.append(once(import_command))
    return Result(
        "cli_startup",
        "« lgo --help » avec tous les modules installés / import des bibliothèques du noyau",
        f"{plugins} modules installés ; {', '.join(libraries)}",
        statistics.median(subject),
        statistics.median(baseline),
        runs,
        target=1.5,
    )
