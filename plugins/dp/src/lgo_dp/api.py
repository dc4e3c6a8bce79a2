"""The ``dp`` plugin's published API for other plugins (the patient's file of the counter, a vendor's screens...).

A plugin using it declares ``dp`` in its manifest (``requires`` or ``optional``) and, when optional, checks
``kernel.is_active(pharmacy_id, "dp")`` first. Every function checks the operator's habilitation and the patient's
qualified identity, and traces the access with the operator's name (see :mod:`lgo_dp.access`).
"""

from __future__ import annotations

from lgo_dp.access import HABILITATION_BULLETINS, HABILITATION_CONSENT, HABILITATION_CONSULT
from lgo_dp.bulletins import Impact, Pending, acknowledge, pending
from lgo_dp.consent import Consent, answer, close, consent, create, mask, refuse
from lgo_dp.consultation import Consultation, Flag, FlagKind, HistoryLine, consult
from lgo_dp.counter import Status, status
from lgo_dp.counter import answer as answer_action

__all__ = [
    "HABILITATION_BULLETINS",
    "HABILITATION_CONSENT",
    "HABILITATION_CONSULT",
    "Consent",
    "Consultation",
    "Flag",
    "FlagKind",
    "HistoryLine",
    "Impact",
    "Pending",
    "Status",
    "acknowledge",
    "answer",
    "answer_action",
    "close",
    "consent",
    "consult",
    "create",
    "mask",
    "pending",
    "refuse",
    "status",
]
