"""lgo-web: the administrator's settings page (Flask). ``create_app`` builds it; ``lgo web`` serves it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lgo_web.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``lgo web`` is registered from ``lgo_web.cli``: listing the commands (``lgo --help``) must not load Flask.
    if name == "create_app":
        from lgo_web.app import create_app

        return create_app
    raise AttributeError(f"module 'lgo_web' has no attribute {name!r}")
