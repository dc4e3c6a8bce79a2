"""The DMP plugin's published API for other plugins.

A plugin that uses it declares ``dmp`` in its manifest (``requires`` or ``optional``) and, when optional, checks
``kernel.is_active(pharmacy_id, "dmp")`` first. Every function checks the operator's habilitation
(``dmp.consult``) and the patient's qualified identity, and traces the access with the operator's name.
"""

from __future__ import annotations

from lgo_dmp.client import DmpEntry
from lgo_dmp.service import (
    HABILITATION_CONSULT,
    HABILITATION_FEED,
    SendChoices,
    documents_of_types,
    list_documents,
    open_document,
)

#: The DMP's send window for a draft document (title and visibility, then validated and queued): a page of this
#: plugin's blueprint, ``url_for(SEND_WINDOW, document_id=…, next=<path to come back to>)``.
SEND_WINDOW = "dmp.send"

__all__ = [
    "HABILITATION_CONSULT",
    "HABILITATION_FEED",
    "SEND_WINDOW",
    "DmpEntry",
    "SendChoices",
    "documents_of_types",
    "list_documents",
    "open_document",
]
