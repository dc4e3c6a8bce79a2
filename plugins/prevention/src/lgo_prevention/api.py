"""The ``prevention`` plugin's published API: what the counter's bilan window and other plugins may call.

:func:`start_bilan` (the age band, once per band), :func:`themes` and :func:`record_interview`, :func:`set_plan`
(the PPP written with the patient), :func:`bill` (RDP and one other act), :func:`validate` (the pharmacist; the PPP
goes to the DMP and to the médecin traitant), :func:`plan_pdf` for the patient. Everything else may change.
"""

from __future__ import annotations

from lgo_prevention.bands import BANDS, SAME_DAY_ACTS, THEMES, Band, Theme, band_for
from lgo_prevention.model import BilanStatus
from lgo_prevention.plan import plan_pdf, validate
from lgo_prevention.service import (
    BilanLine,
    Billed,
    Physician,
    Priority,
    bilans,
    bill,
    record_interview,
    set_physician,
    set_plan,
    start_bilan,
    themes,
)

__all__ = [
    "BANDS",
    "SAME_DAY_ACTS",
    "THEMES",
    "Band",
    "BilanLine",
    "BilanStatus",
    "Billed",
    "Physician",
    "Priority",
    "Theme",
    "band_for",
    "bilans",
    "bill",
    "plan_pdf",
    "record_interview",
    "set_physician",
    "set_plan",
    "start_bilan",
    "themes",
    "validate",
]
