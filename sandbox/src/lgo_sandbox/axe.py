"""axe-core, the accessibility engine of Deque (npm ``axe-core``, MPL-2.0), for the browser tests.

It is installed once with npm into a cache folder outside the repository (``LGO_AXE_DIR``, default
``~/.cache/lgo/axe-core``) — never copied into the project — then evaluated in a page that Playwright drives, which
returns the rules the page breaks (decision 0906). The page's Content-Security-Policy stays on: the script is
evaluated through the browser's debugging protocol, not added as an inline script.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from lgo_sandbox import npm

AXE_VERSION = "4.14.1"
#: The WCAG levels checked (A and AA, 2.0 to 2.2) and axe's own best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


class AxeUnavailable(RuntimeError):
    """npm is missing or axe-core could not be installed."""


def cache_dir() -> Path:
    return npm.cache_dir("LGO_AXE_DIR", "axe-core")


def ensure_installed(directory: Path | None = None) -> Path:
    """Install the pinned axe-core into ``directory`` unless already there; return its ``axe.min.js``."""
    if shutil.which("npm") is None:
        raise AxeUnavailable("npm absent (paquet Debian « npm » ou Node.js de NodeSource)")
    try:
        script = npm.install(directory or cache_dir(), "axe-core", AXE_VERSION) / "axe.min.js"
    except npm.NpmInstallFailed as exc:
        raise AxeUnavailable(str(exc)) from exc
    if not script.exists():
        raise AxeUnavailable(f"axe-core {AXE_VERSION} installé sans axe.min.js")
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
