"""An example third-party plugin: vaccination reminders."""

from __future__ import annotations
