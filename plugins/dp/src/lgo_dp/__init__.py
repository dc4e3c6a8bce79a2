"""Dossier Pharmaceutique: the patient's 12-month dispensing history from every pharmacy, its feeding, the patient's
consent, batch recalls (DP-Rappels) and health alerts (DP-Alertes)."""

from __future__ import annotations
