"""The pinned npm packages the sandboxes run (axe-core in the browser tests, oidc-provider for Pro Santé Connect),
installed once in a per-user cache and shared by the test processes."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path
from typing import Any


class NpmInstallFailed(RuntimeError):
    """``npm install`` failed; the message ends with npm's own error output."""


def cache_dir(variable: str, name: str) -> Path:
    """Where a package lives: ``$variable`` when set, else ``$XDG_CACHE_HOME/lgo/<name>`` (``~/.cache``)."""
    configured = os.environ.get(variable)
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lgo" / name


def install(directory: Path, package: str, version: str, **package_json: Any) -> Path:
    """Install ``package`` at ``version`` into ``directory`` unless it is already there; return the package's
    folder. ``package_json`` adds fields to the generated ``package.json`` (``type="module"``...)."""
    directory.mkdir(parents=True, exist_ok=True)
    folder = directory / "node_modules" / package
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several test processes may start at once
        installed = folder / "package.json"
        if installed.exists() and json.loads(installed.read_text())["version"] == version:
            return folder
        manifest = {"name": f"lgo-{package}", "private": True, **package_json, "dependencies": {package: version}}
        (directory / "package.json").write_text(json.dumps(manifest))
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--omit=dev"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not installed.exists():
            raise NpmInstallFailed(f"npm install {package} a échoué : {done.stderr[-2000:]}")
    return folder
