"""The ITI-41 ``SubmitObjectsRequest`` of a DMP submission: the shared XDS metadata (:mod:`lgo.documents.xds`) plus
the submission set, HasMember, RPLC when replacing, and the submission-set signature entry with its ``signs``
association.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lgo.api import xds
from lxml import etree

__all__ = ["Submission", "submit_objects_request"]


@dataclass(frozen=True)
class Submission:
    """A built ``SubmitObjectsRequest`` and the documents (entry id → bytes) to attach with MTOM."""

    request: Any
    documents: dict[str, bytes]
    submission_set_unique_id: str


def submit_objects_request(
    meta: xds.DocumentMetadata,
    content: bytes,
    *,
    source_id: str,
    replaces_entry_uuid: str | None = None,
    signer: Any = None,
) -> Submission:
    """The ITI-41 ``SubmitObjectsRequest`` for one document (and its submission-set signature when ``signer``)."""
    from lgo_dmp import signature

    request = etree.Element(f"{{{xds.LCM}}}SubmitObjectsRequest", nsmap={"lcm": xds.LCM, "rim": xds.RIM})
    objects = xds.sub(request, xds.RIM, "RegistryObjectList")
    entry_id = f"urn:uuid:{uuid.uuid4()}"
    xds.document_entry(objects, entry_id, meta, content)
    set_id, set_unique_id = xds.submission_set(objects, meta, source_id=source_id)
    xds.association(objects, xds.HAS_MEMBER, set_id, entry_id, status="Original")
    if replaces_entry_uuid:
        xds.association(objects, xds.RPLC, entry_id, replaces_entry_uuid)
    documents = {entry_id: content}
    if signer is not None:
        signed = signature.sign_submission_set(signer, set_unique_id, {meta.unique_id: content})
        sig_entry_id = f"urn:uuid:{uuid.uuid4()}"
        signature.signature_entry(objects, sig_entry_id, meta, signed, f"2.25.{uuid.uuid4().int}")
        assoc = xds.association(objects, xds.HAS_MEMBER, set_id, sig_entry_id, status="Original")
        assert assoc is not None
        xds.association(objects, xds.SIGNS, sig_entry_id, set_id)
        documents[sig_entry_id] = signed
    return Submission(request, documents, set_unique_id)
