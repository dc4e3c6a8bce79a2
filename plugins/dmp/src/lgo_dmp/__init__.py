"""lgo-dmp: feeding and consulting the DMP (Dossier médical partagé) from the LGO."""

from __future__ import annotations
