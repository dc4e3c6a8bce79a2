"""``lgo --help`` with every plugin installed loads none of the heavy libraries: each plugin's entry module (read for
its manifest and its commands) imports its XML, HTTP, database and web code inside the hooks that use them."""

from __future__ import annotations

import json
import subprocess
import sys

#: What the command line must not load only to list its commands (the benchmark ``cli_startup`` measures the rest).
HEAVY = ("sqlalchemy", "alembic", "lxml", "httpx", "cryptography", "flask", "signxml", "zeep", "reportlab", "stdnum")

PROBE = """
import json, sys
from lgo.cli import main
try:
    main(["--help"], standalone_mode=False)
finally:
    loaded = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))
    print(json.dumps(loaded), file=sys.stderr)
"""


def test_lgo_help_with_every_plugin_installed_loads_no_heavy_library() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, *HEAVY], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "plugins" in result.stdout and "worker" in result.stdout  # the commands are listed, plugins' too
    assert "dmp" in result.stdout and "mssante" in result.stdout
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
