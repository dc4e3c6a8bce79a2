"""Identité nationale de santé: matricule INS, RNIV statuses, the only shareable identity is a qualified one."""

from __future__ import annotations
