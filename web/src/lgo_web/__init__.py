"""lgo-web: the administrator's settings page (Flask). ``create_app`` builds it; ``lgo web`` serves it."""

from __future__ import annotations

from lgo_web.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"
