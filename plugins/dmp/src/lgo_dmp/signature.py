"""The submission-set signature of a DMP submission, made with the kernel's one signer shape (:class:`lgo.api.Signer`:
the pharmacy's organisation certificate, ``KeySigner.from_credential``, or the CPS of the ``cards`` plugin) and the
kernel's XML-signature module (:mod:`lgo.xml_signature`), like the VIHF and the INSi assertion.

The submission-set signature follows IHE DSG as the DMP requires it: an enveloping XAdES signature whose ``ds:Object``
holds ``ds:Manifest Id="IHEManifest"`` with one reference per document (``urn:oid:<uniqueId>``, digest of its
bytes) and one for the submission set, sent as an extra document entry linked to the set by ``signs``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from lgo.api import Signer, xml_signature
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
PURPOSE_SOURCE = "1.2.840.10065.1.12.1.14"


def document_digest(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def sign_submission_set(signer: Signer, submission_set_unique_id: str, documents: dict[str, bytes]) -> bytes:
    """The signature document of a submission set: ``documents`` maps each document's uniqueId to its bytes."""
    manifest = etree.Element(f"{{{DS}}}Manifest", nsmap={"ds": DS}, Id="IHEManifest")
    for unique_id, content in documents.items():
        reference = etree.SubElement(manifest, f"{{{DS}}}Reference", URI=f"urn:oid:{unique_id}")
        etree.SubElement(reference, f"{{{DS}}}DigestMethod", Algorithm=SHA256)
        etree.SubElement(reference, f"{{{DS}}}DigestValue").text = document_digest(content)
    reference = etree.SubElement(manifest, f"{{{DS}}}Reference", URI=f"urn:oid:{submission_set_unique_id}")
    etree.SubElement(reference, f"{{{DS}}}DigestMethod", Algorithm=SHA256)
    etree.SubElement(reference, f"{{{DS}}}DigestValue").text = document_digest(submission_set_unique_id.encode())
    # The purpose "source" of the submission set (IHE DSG), a signature property of the XAdES signature.
    purpose = etree.Element(f"{{{DS}}}SignatureProperty", Id="purposeOfSignature", Target="#signature")
    purpose.text = PURPOSE_SOURCE
    signed = xml_signature.sign_xades_enveloping(signer, manifest, signature_properties=purpose)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def signature_entry(parent: Any, entry_id: str, meta: Any, signed: bytes, unique_id: str) -> Any:
    """The document entry carrying the submission-set signature (IHE DSG constants)."""
    import hashlib as _hashlib

    from lgo.api import xds
    from lgo.api import xds_codes as codes

    entry = xds.sub(
        parent,
        xds.RIM,
        "ExtrinsicObject",
        id=entry_id,
        mimeType="text/xml",
        objectType=xds.STABLE_ENTRY,
        status=xds.APPROVED,
    )
    xds.slot(entry, "creationTime", meta.creation_time)
    xds.slot(entry, "hash", _hashlib.sha1(signed).hexdigest())
    xds.slot(entry, "size", str(len(signed)))
    xds.slot(entry, "languageCode", "art")
    xds.slot(entry, "sourcePatientId", meta.patient_id)
    xds.localized(entry, "Name", "Source")
    xds.author(entry, xds.UUID["DocumentEntry.author"], entry_id, meta)
    xds.classification(
        entry,
        xds.UUID["DocumentEntry.classCode"],
        entry_id,
        "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1",
        "Digital Signature",
        "URN",
    )
    for code, display, scheme in (
        ("N", "Normal", codes.OID_CONFIDENTIALITY),
        ("MASQUE_PS", codes.MASKING["MASQUE_PS"], codes.OID_MASKING),
        ("INVISIBLE_PATIENT", codes.MASKING["INVISIBLE_PATIENT"], codes.OID_MASKING),
    ):
        xds.classification(entry, xds.UUID["DocumentEntry.confidentialityCode"], entry_id, code, display, scheme)
    xds.classification(
        entry, xds.UUID["DocumentEntry.eventCodeList"], entry_id, PURPOSE_SOURCE, "Source", "1.2.840.10065.1.12"
    )
    xds.classification(
        entry,
        xds.UUID["DocumentEntry.formatCode"],
        entry_id,
        "http://www.w3.org/2000/09/xmldsig#",
        "Default Signature Style",
        "URN",
    )
    xds.classification(
        entry,
        xds.UUID["DocumentEntry.healthCareFacilityTypeCode"],
        entry_id,
        meta.facility_type[0],
        meta.facility_type[1],
        codes.OID_FACILITY,
    )
    xds.classification(
        entry,
        xds.UUID["DocumentEntry.practiceSettingCode"],
        entry_id,
        meta.practice_setting[0],
        meta.practice_setting[1],
        codes.OID_PRACTICE,
    )
    xds.classification(entry, xds.UUID["DocumentEntry.typeCode"], entry_id, "E1762", "Full Document", "ASTM")
    xds.external_id(entry, xds.UUID["DocumentEntry.patientId"], entry_id, meta.patient_id, "XDSDocumentEntry.patientId")
    xds.external_id(entry, xds.UUID["DocumentEntry.uniqueId"], entry_id, unique_id, "XDSDocumentEntry.uniqueId")
    return entry
