"""axe-core, the accessibility engine of Deque (npm ``axe-core``, MPL-2.0), for the browser tests.

It is installed once with npm into a cache folder outside the repository (``LGO_AXE_DIR``, default
``~/.cache/lgo/axe-core``) — never copied into the project — then evaluated in a page that Playwright drives, which
returns the rules the page breaks (decision 0906). The page's Content-Security-Policy stays on: the script is
evaluated through the browser's debugging protocol, not added as an inline script.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
#: The WCAG levels checked (A and AA, 2.0 to 2.2) and axe's own best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


class AxeUnavailable(RuntimeError):
    """npm is missing or axe-core could not be installed."""


def cache_dir() -> Path:
    configured = os.environ.get("LGO_AXE_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lgo" / "axe-core"


def ensure_installed(directory: Path | None = None) -> Path:
    """Install the pinned axe-core into ``directory`` unless already there; return its ``axe.min.js``."""
    if shutil.which("npm") is None:
        raise AxeUnavailable("npm absent (paquet Debian « npm » ou Node.js de NodeSource)")
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "node_modules" / "axe-core" / "axe.min.js"
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several test processes may start at once
        installed = directory / "node_modules" / "axe-core" / "package.json"
        if installed.exists() and json.loads(installed.read_text())["version"] == AXE_VERSION and script.exists():
            return script
        (directory / "package.json").write_text(
            json.dumps({"name": "lgo-axe", "private": True, "dependencies": {"axe-core": AXE_VERSION}})
        )
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--omit=dev"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not script.exists():
            raise AxeUnavailable(f"npm install axe-core a échoué : {done.stderr[-2000:]}")
    return script


def violations(page: Any, script: Path) -> list[dict[str, Any]]:
    """Run axe on the page as displayed; the rules it breaks (id, impact, help, the offending elements)."""
    page.evaluate(script.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " — " + n.failureSummary),
            }));
        }""",
        TAGS,
    )
    return found


def report(found: list[dict[str, Any]]) -> str:
    """Violations as lines a reader can act on."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {node}" for node in violation["nodes"][:5]]
    return "\n".join(lines)
