"""Health documents produced by the pharmacy (note de vaccination, CR d'entretien, BPM...).

The kernel owns the document entity and its life cycle (draft → validated → replaced / deprecated), visibility
choices and the CDA bytes; plugins build the content and deliver it (DMP, MSSanté). Validating a document fires
``lgo_on_document_validated``; deprecating one fires ``lgo_on_document_deprecated``.
"""

from __future__ import annotations

from lgo.documents.model import DocumentStatus, HealthDocument
from lgo.documents.service import (
    create_draft,
    deprecate,
    documents_for_patient,
    new_unique_id,
    set_content,
    validate,
)

__all__ = [
    "DocumentStatus",
    "HealthDocument",
    "create_draft",
    "deprecate",
    "documents_for_patient",
    "new_unique_id",
    "set_content",
    "validate",
]
