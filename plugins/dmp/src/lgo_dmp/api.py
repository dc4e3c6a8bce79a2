"""The DMP plugin's published API for other plugins.

A plugin that uses it declares ``dmp`` in its manifest (``requires`` or ``optional``) and, when optional, checks
``kernel.is_active(pharmacy_id, "dmp")`` first. Every function checks the operator's habilitation
(``dmp.consult``) and the patient's qualified identity, and traces the access with the operator's name.
"""

from __future__ import annotations

from lgo_dmp.client import DmpEntry
from lgo_dmp.service import HABILITATION_CONSULT, documents_of_types, list_documents, open_document

__all__ = ["HABILITATION_CONSULT", "DmpEntry", "documents_of_types", "list_documents", "open_document"]
