"""The transport to the Assurance Maladie's prescription base: a protocol, with swappable drivers.

The CNAM API is not public; a driver (stevedore entry point in ``lgo.providers.eordonnance``) adapts whatever the
real service speaks. A driver is a factory ``(settings, credential)`` → transport, where ``credential`` is the
pharmacy's certificate (:func:`lgo.api.pharmacy_credential`). The ``json`` driver speaks the interface the
project assumed, implemented by the sandbox; it is never selected by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from lgo.api import LgoError


class RetrievalUnavailable(LgoError):
    """The prescription base could not be reached: the pharmacist goes on with the paper copy."""


class PrescriptionRefused(LgoError):
    """The base refused (unknown prescription, fully executed, executed by another pharmacy...)."""


@dataclass(frozen=True)
class PrescribedLine:
    line_id: str
    #: Medication as prescribed: a code (CIP13, CIS or UCD) and/or a generic name.
    label: str
    cip13: str | None = None
    cis: str | None = None
    ucd: str | None = None
    dosage: str = ""
    quantity: int = 1
    duration_days: int | None = None


@dataclass(frozen=True)
class Prescription:
    identifier: str
    prescribed_on: str
    prescriber_name: str
    prescriber_rpps: str | None
    patient_birth_name: str
    patient_first_name: str
    patient_birth_date: str
    patient_ins: str | None
    renewals: int
    #: Dispensings already done (0 for a first dispensing; n for the n-th renewal).
    dispensings_done: int
    lines: tuple[PrescribedLine, ...]
    #: Boxes already dispensed per line id (sequenced / partial dispensing).
    already_dispensed: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class EOrdonnanceTransport(Protocol):
    def retrieve(self, identifier: str) -> Prescription: ...

    def send_dispensing(self, identifier: str, execution: dict[str, Any], *, idempotency_key: str) -> str:
        """Send what was dispensed; returns the base's execution id."""

    def send_billing_complement(
        self, identifier: str, execution_id: str, complement: dict[str, Any], *, idempotency_key: str
    ) -> None: ...
