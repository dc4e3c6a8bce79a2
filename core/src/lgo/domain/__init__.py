"""The kernel's business domain: one module per concern, each holding its tables and its rules."""

from __future__ import annotations

# Importing the modules registers every kernel table on ``lgo.db.Base.metadata``.
from lgo.domain import (  # noqa: F401
    audit,
    billing,
    certificates,
    dispensing,
    drafts,
    outbox,
    patient_search,
    patients,
    pharmacy,
    plugin_state,
    products,
    sequences,
    stock,
)
