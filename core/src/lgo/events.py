"""The events the kernel announces to plugins. Each is an immutable snapshot taken after the commit, so a
plugin never touches a session it does not own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PatientSelected:
    pharmacy_id: int
    operator_id: int
    patient_id: int
    #: How the patient was selected: "vitale", "appli_vitale", "nom", "ins"...
    source: str


@dataclass(frozen=True)
class BillingStarted:
    pharmacy_id: int
    operator_id: int
    billing_id: str
    patient_id: int | None
    prescription_id: int | None


@dataclass(frozen=True)
class BilledLine:
    position: int
    kind: str
    label: str
    quantity: int
    unit_price_cents: int
    product_id: int | None = None
    cip13: str | None = None
    is_vaccine: bool = False
    lot_id: int | None = None
    lot_number: str | None = None
    act_code: str | None = None
    dispensation_number: int | None = None


@dataclass(frozen=True)
class BillingEnded:
    pharmacy_id: int
    operator_id: int
    billing_id: str
    invoice_id: int
    invoice_number: int
    patient_id: int | None
    prescription_id: int | None
    lines: tuple[BilledLine, ...]
    total_cents: int
    validated_at: datetime


@dataclass(frozen=True)
class DispensationValidated:
    pharmacy_id: int
    operator_id: int
    dispensation_id: int
    number: int
    patient_id: int
    prescription_id: int
    product_id: int
    quantity: int
    corrects_number: int | None = None


@dataclass(frozen=True)
class DocumentValidated:
    pharmacy_id: int
    operator_id: int
    document_id: int
    #: LOINC type code of the document.
    document_type: str
    patient_id: int
    unique_id: str = ""
    #: The previous version when this document replaces one (the DMP receives a replacement, RPLC).
    replaces_document_id: int | None = None
    source_plugin: str = ""


@dataclass(frozen=True)
class DocumentDeprecated:
    pharmacy_id: int
    operator_id: int
    document_id: int
    document_type: str
    patient_id: int
    unique_id: str
    reason_fr: str


@dataclass(frozen=True)
class IdentityQualified:
    """A patient's identity reached the status *qualifiée*: documents waiting for it may now be shared."""

    pharmacy_id: int
    operator_id: int | None
    patient_id: int


@dataclass(frozen=True)
class PatientTraitsChanged:
    """Identity traits of a patient changed; ``strict_traits`` lists the strict ones (which demote an identity)."""

    pharmacy_id: int
    operator_id: int | None
    patient_id: int
    changed_traits: tuple[str, ...]
    strict_traits: tuple[str, ...]


@dataclass(frozen=True)
class ActionAnswered:
    """The person at the counter answered an :class:`lgo.actions.ActionRequired` of the plugin: ``choice`` is the
    value of the chosen :class:`lgo.actions.Choice` (or what the window's button sent), ``values`` the other fields
    of the window's form (text as typed, never trusted), ``data`` the action's own ``data`` as it was shown.
    The plugin checks and records the answer and returns the next actions (or nothing); a
    :class:`lgo.errors.LgoError` shows its French message in the same window.

    .. versionadded:: 2.1"""

    pharmacy_id: int
    operator_id: int
    kind: str
    plugin: str
    patient_id: int | None
    choice: str
    values: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    #: The counter's billing the action was shown in, if any.
    billing_id: str | None = None


@dataclass(frozen=True)
class CounterCommand:
    """The operator pressed one of the plugin's keys at the counter (:class:`lgo.api.CounterShortcut`).

    .. versionadded:: 2.1"""

    pharmacy_id: int
    operator_id: int
    command: str
    patient_id: int | None
    billing_id: str | None = None
    #: The CIP13 of the products on the billing screen (2.5), e.g. to flag duplicates against them.
    cip13s: tuple[str, ...] = ()


@dataclass(frozen=True)
class CounterView:
    """What the counter shows when it asks plugins for their panels: the pharmacy, the operator, the patient and
    the billing on screen (its product CIP13s and act codes).

    .. versionadded:: 2.1"""

    pharmacy_id: int
    operator_id: int
    patient_id: int | None
    billing_id: str | None = None
    cip13s: tuple[str, ...] = ()
    act_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientFileView:
    """The patient's file the counter is showing, when it asks plugins for their sections
    (``lgo_patient_file_sections``): who looks (the operator, whose habilitations decide which links a plugin
    offers), which patient, and the period of the history shown (the last 12 months by default).

    .. versionadded:: 2.3"""

    pharmacy_id: int
    operator_id: int
    patient_id: int
    since: datetime
    #: The counter's billing the file was opened from, if any (a link back to it).
    draft_id: int | None = None
