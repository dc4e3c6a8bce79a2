"""Write small installed distributions (``*.dist-info`` with entry points, plus their modules) into a folder,
so that tests and benchmarks exercise the real discovery path: importlib.metadata, stevedore and its cache."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def write_distribution(
    root: Path,
    name: str,
    *,
    version: str = "1.0.0",
    modules: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
) -> None:
    """``modules`` maps dotted module names to their source; ``entry_points`` maps groups to {name: target}."""
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        parts = module.split(".")
        folder = root.joinpath(*parts[:-1])
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(1, len(parts)):
            init = root.joinpath(*parts[:i], "__init__.py")
            if not init.exists():
                init.write_text("")
        folder.joinpath(f"{parts[-1]}.py").write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, points in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{ep} = {target}" for ep, target in points.items())
        lines.append("")
    info.joinpath("entry_points.txt").write_text("\n".join(lines))


def plugin_module_source(
    name: str,
    *,
    plugin_api: str = ">=2.0,<3",
    requires: tuple[str, ...] = (),
    wave: int = 1,
    body: str = "",
    distribution: str | None = None,
) -> str:
    """Source of a minimal plugin module with its manifest; ``body`` adds hook implementations."""
    return (
        "from __future__ import annotations\n"
        "from lgo import hookimpl\n"
        "from lgo.plugins.manifest import Manifest\n"
        f"MANIFEST = Manifest(name={name!r}, plugin_api={plugin_api!r}, wave={wave}, requires={requires!r},"
        f" distribution={distribution or f'lgo-test-{name}'!r})\n" + textwrap.dedent(body)
    )


@contextmanager
def on_sys_path(root: Path) -> Iterator[None]:
    """Make the distributions in ``root`` visible to this process (and forget cached entry points)."""
    from lgo.plugins.discovery import clear_cache

    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    clear_cache()
    try:
        yield
    finally:
        sys.path.remove(str(root))
        for module_name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(str(root)):
                del sys.modules[module_name]
        importlib.invalidate_caches()
        clear_cache()
