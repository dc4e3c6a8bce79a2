"""The ``vaccination`` plugin's published API: what the counter screen and other plugins may call.

The note window (issue « Le comptoir (1) ») lists :func:`vaccinators` — the pharmacy's vaccinating professionals —
and names one with ``update_note(..., vaccinator_id=...)`` when the person who billed cannot be the vaccinator (a
préparateur bills, a pharmacist vaccinated), then calls :func:`validate_note`. Everything else in the package may
change without notice.
"""

from __future__ import annotations

from lgo_vaccination.codes import ACT_TYPES, ROUTES, SITES, disease_fr
from lgo_vaccination.model import NoteStatus
from lgo_vaccination.service import (
    RecordLine,
    Vaccinator,
    cancel_note,
    correct_note,
    full_record,
    note_status,
    notes_for_invoice,
    update_note,
    vaccination_record,
    vaccinators,
    validate_note,
)

__all__ = [
    "ACT_TYPES",
    "ROUTES",
    "SITES",
    "NoteStatus",
    "RecordLine",
    "Vaccinator",
    "cancel_note",
    "correct_note",
    "disease_fr",
    "full_record",
    "note_status",
    "notes_for_invoice",
    "update_note",
    "vaccination_record",
    "vaccinators",
    "validate_note",
]
