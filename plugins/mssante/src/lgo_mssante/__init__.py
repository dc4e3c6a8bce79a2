"""MSSanté: secure health messaging with swappable providers."""

from __future__ import annotations
