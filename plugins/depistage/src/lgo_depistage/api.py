"""The ``depistage`` plugin's published API: what the counter's TROD window and other plugins may call.

The window follows the steps: :func:`questions` then :func:`answer` (the protocol's decision and its reasons),
:func:`set_device` (the scanned GS1 DataMatrix, or typed), :func:`record_result` (the antibiotics to choose from
when positive and eligible), :func:`choose_antibiotic`, :func:`finish` (billing), :func:`validate` (the pharmacist;
the attestation and the dispensation go to the DMP), :func:`attestation_pdf` to print or send. Everything else in
the package may change without notice.
"""

from __future__ import annotations

from lgo.api import gs1

from lgo_depistage.antibiotics import ANTIBIOTICS, Antibiotic, Posology
from lgo_depistage.attestations import attestation_pdf, validate
from lgo_depistage.codes import KINDS, Result, TrodKind
from lgo_depistage.model import Fallback, TrodStatus
from lgo_depistage.protocols import Eligibility, Question
from lgo_depistage.service import (
    ConditionalPrescription,
    Finished,
    Outcome,
    Physician,
    TrodLine,
    answer,
    cancel,
    choose_antibiotic,
    finish,
    outcome,
    questions,
    record_result,
    set_device,
    set_physician,
    start_test,
    tests_for_patient,
)

#: The test device's UDI read from its GS1 DataMatrix: the kernel's reader (decision 1203).
Udi = gs1.BoxScan
parse_udi = gs1.parse

__all__ = [
    "ANTIBIOTICS",
    "KINDS",
    "Antibiotic",
    "ConditionalPrescription",
    "Eligibility",
    "Fallback",
    "Finished",
    "Outcome",
    "Physician",
    "Posology",
    "Question",
    "Result",
    "TrodKind",
    "TrodLine",
    "TrodStatus",
    "Udi",
    "answer",
    "attestation_pdf",
    "cancel",
    "choose_antibiotic",
    "finish",
    "outcome",
    "parse_udi",
    "questions",
    "record_result",
    "set_device",
    "set_physician",
    "start_test",
    "tests_for_patient",
    "validate",
]
