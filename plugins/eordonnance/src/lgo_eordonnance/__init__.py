"""Ordonnance numérique: capture, retrieval, line-by-line execution and its transmission."""

from __future__ import annotations
