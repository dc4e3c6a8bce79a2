"""Health documents produced by the pharmacy (note de vaccination, CR d'entretien, BPM...).

The kernel owns the document entity and its life cycle (draft → validated → replaced / deprecated), visibility
choices and the CDA bytes; plugins build the content and deliver it (DMP, MSSanté). Validating a document fires
``lgo_on_document_validated``; deprecating one fires ``lgo_on_document_deprecated``. :class:`SharedAct` is the life
cycle of a plugin act whose documents wait for the patient's qualified identity (a TROD, a bilan prévention).

The names below are loaded on first use: a plugin's settings read the small code tables of
:mod:`lgo.documents.xds_codes`, and ``lgo --help`` (which reads every plugin's settings) must not load the database
and cryptography libraries for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lgo.documents.acts import SharedAct as SharedAct
    from lgo.documents.acts import editable as editable
    from lgo.documents.model import DocumentStatus as DocumentStatus
    from lgo.documents.model import HealthDocument as HealthDocument
    from lgo.documents.service import create_draft as create_draft
    from lgo.documents.service import deprecate as deprecate
    from lgo.documents.service import documents_for_patient as documents_for_patient
    from lgo.documents.service import draft_of as draft_of
    from lgo.documents.service import new_unique_id as new_unique_id
    from lgo.documents.service import set_content as set_content
    from lgo.documents.service import validate as validate

_LAZY = {
    "SharedAct": "lgo.documents.acts",
    "editable": "lgo.documents.acts",
    "DocumentStatus": "lgo.documents.model",
    "HealthDocument": "lgo.documents.model",
    "create_draft": "lgo.documents.service",
    "deprecate": "lgo.documents.service",
    "documents_for_patient": "lgo.documents.service",
    "draft_of": "lgo.documents.service",
    "new_unique_id": "lgo.documents.service",
    "set_content": "lgo.documents.service",
    "validate": "lgo.documents.service",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
