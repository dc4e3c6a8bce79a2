"""The ITI-41 ``SubmitObjectsRequest`` of a DMP submission: the shared XDS metadata (:mod:`lgo.documents.xds`) plus
the submission set, HasMember, RPLC when replacing, and the submission-set signature entry with its ``signs``
association.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lgo.documents.xds import (
    APPROVED,
    CLASSIFICATION_NODE,
    DEPRECATED,
    HAS_MEMBER,
    HL7,
    LCM,
    QUERY,
    RIM,
    RPLC,
    RS,
    SIGNS,
    STABLE_ENTRY,
    UUID,
    XDS,
    DocumentMetadata,
    association,
    classification,
    document_entry,
    external_id,
    from_cda,
    slot,
    sub,
    submission_set,
)
from lxml import etree

__all__ = [
    "APPROVED",
    "CLASSIFICATION_NODE",
    "DEPRECATED",
    "HAS_MEMBER",
    "HL7",
    "LCM",
    "QUERY",
    "RIM",
    "RPLC",
    "RS",
    "SIGNS",
    "STABLE_ENTRY",
    "UUID",
    "XDS",
    "DocumentMetadata",
    "Submission",
    "association",
    "classification",
    "document_entry",
    "external_id",
    "from_cda",
    "slot",
    "submission_set",
    "submit_objects_request",
]


@dataclass(frozen=True)
class Submission:
    """A built ``SubmitObjectsRequest`` and the documents (entry id → bytes) to attach with MTOM."""

    request: Any
    documents: dict[str, bytes]
    submission_set_unique_id: str


def submit_objects_request(
    meta: DocumentMetadata,
    content: bytes,
    *,
    source_id: str,
    replaces_entry_uuid: str | None = None,
    signer: Any = None,
) -> Submission:
    """The ITI-41 ``SubmitObjectsRequest`` for one document (and its submission-set signature when ``signer``)."""
    from lgo_dmp import signature

    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = sub(request, RIM, "RegistryObjectList")
    entry_id = f"urn:uuid:{uuid.uuid4()}"
    document_entry(objects, entry_id, meta, content)
    set_id, set_unique_id = submission_set(objects, meta, source_id=source_id)
    association(objects, HAS_MEMBER, set_id, entry_id, status="Original")
    if replaces_entry_uuid:
        association(objects, RPLC, entry_id, replaces_entry_uuid)
    documents = {entry_id: content}
    if signer is not None:
        signed = signature.sign_submission_set(signer, set_unique_id, {meta.unique_id: content})
        sig_entry_id = f"urn:uuid:{uuid.uuid4()}"
        signature.signature_entry(objects, sig_entry_id, meta, signed, f"2.25.{uuid.uuid4().int}")
        assoc = association(objects, HAS_MEMBER, set_id, sig_entry_id, status="Original")
        assert assoc is not None
        association(objects, SIGNS, sig_entry_id, set_id)
        documents[sig_entry_id] = signed
    return Submission(request, documents, set_unique_id)
