"""Every hook is documented, in its specification and in the plugin authors' guide."""

from __future__ import annotations

import inspect
from pathlib import Path

import lgo.hookspecs

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins" / "README.md"


def test_every_hookspec_has_a_docstring_and_a_line_in_the_guide() -> None:
    guide = GUIDE.read_text()
    hooks = [(name, f) for name, f in inspect.getmembers(lgo.hookspecs, inspect.isfunction) if name.startswith("lgo_")]
    assert len(hooks) >= 18
    for name, function in hooks:
        assert (function.__doc__ or "").strip(), f"{name} has no docstring"
        assert f"`{name}`" in guide, f"{name} is missing from docs/plugins/README.md"
