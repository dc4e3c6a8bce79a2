"""Pharmaceutical interviews (entretiens) and bilans partagés de médication, as CDA R2 level 1 documents."""

from __future__ import annotations
