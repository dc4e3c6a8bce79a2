"""The workload generator: a pharmacy-year (or a group of them) written into a migrated database, for the
benchmarks, the tests and QA. Command line: ``python benchmarks/workload --help``."""

from __future__ import annotations

from workload.pharmacy_year import PASSWORD, PharmacyYear, Scale, finess_of, generate, volumes

__all__ = ["PASSWORD", "PharmacyYear", "Scale", "finess_of", "generate", "volumes"]
