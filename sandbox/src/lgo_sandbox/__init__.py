"""Local stand-ins of the national services, speaking their real protocols, for tests and the demo."""

from __future__ import annotations

__version__ = "0.1.0"
