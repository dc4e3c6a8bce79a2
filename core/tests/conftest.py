from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lgo.testing.dists import on_sys_path, plugin_module_source, write_distribution


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Install fake plugin distributions for this test: ``installed(name, requires=..., body=...)``."""
    root = tmp_path / "site"
    root.mkdir()
    with on_sys_path(root):

        def install(
            name: str,
            *,
            requires: tuple[str, ...] = (),
            plugin_api: str = ">=2.0,<3",
            body: str = "",
            source: str | None = None,
            wave: int = 1,
            extra_entry_points: dict[str, dict[str, str]] | None = None,
            extra_modules: dict[str, str] | None = None,
        ) -> Path:
            module = f"lgotest_{name}_{tmp_path.name[-8:].replace('-', '_')}"
            text = (
                source
                if source is not None
                else plugin_module_source(name, plugin_api=plugin_api, requires=requires, wave=wave, body=body)
            )
            write_distribution(
                root,
                f"lgo-test-{name}",
                version="1.2.3",
                modules={module: text, **(extra_modules or {})},
                entry_points={"lgo.plugins": {name: module}, **(extra_entry_points or {})},
            )
            return root

        yield install
