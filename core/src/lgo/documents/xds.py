"""XDS metadata of a shared document, derived from the CDA header (IG "transmission CDA", mapping.md).

One place for the DMP (ITI-41) and the MSSanté XDM archive (METADATA.XML), which carry the same ebRIM objects:
:func:`from_cda` reads the header; the builders write the document entry, classifications, external identifiers
and associations. Visibility choices (masquage) go to the metadata only, never to the CDA.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from lgo import identifiers
from lgo.documents import xds_codes as codes
from lgo.errors import ValidationError
from lgo.safe_xml import parse_untrusted

HL7 = "urn:hl7-org:v3"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDS = "urn:ihe:iti:xds-b:2007"

UUID = {
    "SubmissionSet": "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd",
    "SubmissionSet.author": "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
    "SubmissionSet.contentTypeCode": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "SubmissionSet.patientId": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "SubmissionSet.sourceId": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
    "SubmissionSet.uniqueId": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "DocumentEntry": "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1",
    "DocumentEntry.author": "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "DocumentEntry.classCode": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "DocumentEntry.confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "DocumentEntry.eventCodeList": "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",
    "DocumentEntry.formatCode": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "DocumentEntry.healthCareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "DocumentEntry.patientId": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "DocumentEntry.practiceSettingCode": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "DocumentEntry.typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "DocumentEntry.uniqueId": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
}
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
STABLE_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
CLASSIFICATION_NODE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ClassificationNode"


@dataclass(frozen=True)
class DocumentMetadata:
    unique_id: str
    title: str
    type_code: str
    type_display: str
    creation_time: str
    confidentiality: str
    patient_id: str
    patient_oid: str
    patient_matricule: str
    patient_family: str
    patient_given: str
    patient_gender: str
    patient_birth: str
    author_id: str
    author_family: str
    author_given: str
    author_specialty: tuple[str, str]
    organisation_id: str
    organisation_name: str
    legal_authenticator: str
    facility_type: tuple[str, str]
    practice_setting: tuple[str, str]
    format: tuple[str, str, str]
    mime_type: str
    service_start: str | None = None
    service_stop: str | None = None
    replaces_unique_id: str | None = None
    masking: tuple[str, ...] = field(default=())

    @property
    def author_xcn(self) -> str:
        return f"{self.author_id}^{self.author_family}^{self.author_given}^^^^^^&{codes.OID_IDNAT_PS}&ISO^D^^^IDNPS"

    @property
    def institution_xon(self) -> str:
        return f"{self.organisation_name}^^^^^&{codes.OID_IDNAT_STRUCT}&ISO^IDNST^^^{self.organisation_id}"


def _utc(value: str) -> str:
    """HL7 TS with offset → XDS UTC ``YYYYMMDDHHMMSS``."""
    if len(value) >= 19 and value[14] in "+-":
        return datetime.strptime(value[:19], "%Y%m%d%H%M%S%z").astimezone(UTC).strftime("%Y%m%d%H%M%S")
    return value[:14]


def from_cda(cda: bytes, *, masking: tuple[str, ...] = (), title: str | None = None) -> DocumentMetadata:
    """The XDS metadata the CDA header implies (plus the masking codes, chosen by the operator)."""
    root = parse_untrusted(cda, what="document CDA")
    ns = {"h": HL7}

    def one(path: str) -> Any:
        found = root.find(path, ns)
        if found is None:
            raise ValidationError(
                "L'en-tête CDA est incomplet : le document ne peut pas être partagé.", detail=f"missing {path}"
            )
        return found

    patient_id = one("h:recordTarget/h:patientRole/h:id")
    if patient_id.get("root") not in codes.INS_OIDS:
        raise ValidationError(
            "Le document ne porte pas l'INS qualifié du patient.", detail=f"patient id root {patient_id.get('root')}"
        )
    person = one("h:recordTarget/h:patientRole/h:patient")
    family = person.find("h:name/h:family[@qualifier='BR']", ns)
    given = person.find("h:name/h:given[@qualifier='BR']", ns)
    birth = person.find("h:birthTime", ns)
    author = one("h:author/h:assignedAuthor")
    author_code = one("h:author/h:assignedAuthor/h:code")
    organisation = one("h:author/h:assignedAuthor/h:representedOrganization")
    legal = one("h:legalAuthenticator/h:assignedEntity")
    type_code = one("h:code").get("code")
    kind = codes.kind(type_code)
    if root.find("h:component/h:nonXMLBody", ns) is not None:
        format_ = codes.LEVEL1_FORMATS.get(type_code, codes.PDF_FORMAT)
    elif type_code in codes.STRUCTURED_FORMATS:
        format_ = codes.STRUCTURED_FORMATS[type_code]
    else:
        raise ValidationError("Format de document inconnu pour le partage.", detail=f"structured {type_code}")
    facility = one("h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code")
    setting = root.find(
        "h:documentationOf/h:serviceEvent/h:performer/h:assignedEntity/h:representedOrganization/"
        "h:standardIndustryClassCode",
        ns,
    )
    low = root.find("h:documentationOf/h:serviceEvent/h:effectiveTime/h:low", ns)
    high = root.find("h:documentationOf/h:serviceEvent/h:effectiveTime/h:high", ns)
    related = root.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", ns)
    legal_name = legal.find("h:assignedPerson/h:name", ns)
    legal_id = one("h:legalAuthenticator/h:assignedEntity/h:id").get("extension")
    unknown = [code for code in masking if code not in codes.MASKING]
    if unknown:
        raise ValidationError("Choix de visibilité inconnu.", detail=f"masking {unknown}")
    return DocumentMetadata(
        unique_id=one("h:id").get("root")
        + (f"^{one('h:id').get('extension')}" if one("h:id").get("extension") else ""),
        title=title or one("h:title").text or "",
        type_code=type_code,
        type_display=kind.type_display,
        creation_time=_utc(one("h:effectiveTime").get("value")),
        confidentiality=one("h:confidentialityCode").get("code"),
        patient_id=f"{patient_id.get('extension')}^^^&{patient_id.get('root')}&ISO^NH",
        patient_oid=patient_id.get("root"),
        patient_matricule=patient_id.get("extension"),
        patient_family=family.text if family is not None else "",
        patient_given=given.text if given is not None else "",
        patient_gender=one("h:recordTarget/h:patientRole/h:patient/h:administrativeGenderCode").get("code"),
        patient_birth=(birth.get("value") or "") if birth is not None else "",
        author_id=one("h:author/h:assignedAuthor/h:id").get("extension"),
        author_family=author.findtext("h:assignedPerson/h:name/h:family", "", ns),
        author_given=author.findtext("h:assignedPerson/h:name/h:given", "", ns),
        author_specialty=(author_code.get("code"), author_code.get("displayName") or ""),
        organisation_id=one("h:author/h:assignedAuthor/h:representedOrganization/h:id").get("extension"),
        organisation_name=organisation.findtext("h:name", "", ns),
        legal_authenticator=(
            f"{legal_id}^{legal_name.findtext('h:family', '', ns) if legal_name is not None else ''}^"
            f"{legal_name.findtext('h:given', '', ns) if legal_name is not None else ''}^^^^^^"
            f"&{codes.OID_IDNAT_PS}&ISO^D^^^IDNPS"
        ),
        facility_type=(facility.get("code"), facility.get("displayName") or ""),
        practice_setting=(setting.get("code", ""), setting.get("displayName") or "")
        if setting is not None
        else ("AMBULATOIRE", "Ambulatoire"),
        format=format_,
        mime_type="text/xml",
        service_start=_utc(low.get("value", "")) if low is not None and low.get("value") else None,
        service_stop=_utc(high.get("value", "")) if high is not None and high.get("value") else None,
        replaces_unique_id=related.get("root") if related is not None else None,
        masking=tuple(masking),
    )


# --- ebRIM builders ----------------------------------------------------------------------------------------------


def sub(parent: Any, ns: str, tag: str, **attrs: str) -> Any:
    return etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


def registry_object(parent: Any, tag: str, *, id: str | None = None, **attrs: str) -> Any:
    """An ebRIM registry object (its objectType named after its tag), identified by a fresh UUID unless ``id``."""
    return sub(
        parent,
        RIM,
        tag,
        **attrs,
        id=id or f"urn:uuid:{uuid.uuid4()}",
        objectType=f"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:{tag}",
    )


def slot(parent: Any, name: str, *values: str) -> Any:
    element = sub(parent, RIM, "Slot", name=name)
    value_list = sub(element, RIM, "ValueList")
    for value in values:
        sub(value_list, RIM, "Value").text = value
    return element


def localized(parent: Any, tag: str, value: str) -> None:
    string = sub(sub(parent, RIM, tag), RIM, "LocalizedString", value=value, charset="UTF-8")
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "fr-FR")


def _classification(parent: Any, scheme: str, obj: str, code: str) -> Any:
    return registry_object(
        parent,
        "Classification",
        classificationScheme=scheme,
        classifiedObject=obj,
        nodeRepresentation=code,
    )


def classification(parent: Any, scheme: str, obj: str, code: str, display: str, coding_scheme: str) -> Any:
    element = _classification(parent, scheme, obj, code)
    slot(element, "codingScheme", coding_scheme)
    localized(element, "Name", display)
    return element


def author(parent: Any, scheme: str, obj: str, meta: DocumentMetadata) -> None:
    element = _classification(parent, scheme, obj, "")
    slot(element, "authorPerson", meta.author_xcn)
    slot(element, "authorInstitution", meta.institution_xon)
    code, display = meta.author_specialty
    slot(element, "authorSpecialty", f"{code}^{display}^{codes.OID_PROFESSION}")


def external_id(parent: Any, scheme: str, obj: str, value: str, name: str) -> None:
    element = registry_object(
        parent,
        "ExternalIdentifier",
        identificationScheme=scheme,
        registryObject=obj,
        value=value,
    )
    localized(element, "Name", name)


def document_entry(
    parent: Any,
    entry_id: str,
    meta: DocumentMetadata,
    content: bytes,
    *,
    repository_unique_id: str | None = None,
    uri: str | None = None,
    kind: codes.DocumentKind | None = None,
) -> Any:
    """The ``ExtrinsicObject`` of one document; ``uri`` is the file name of the document in an XDM archive (a slot,
    written with the others: ebRIM puts every slot before the name, classifications and external identifiers).
    ``kind`` gives the class of a document type the sharing tables do not list (an export's archive holds every
    document the pharmacy produced)."""
    entry = sub(
        parent, RIM, "ExtrinsicObject", id=entry_id, mimeType=meta.mime_type, objectType=STABLE_ENTRY, status=APPROVED
    )
    slot(entry, "creationTime", meta.creation_time)
    slot(entry, "hash", hashlib.sha1(content).hexdigest())
    slot(entry, "size", str(len(content)))
    slot(entry, "languageCode", "fr-FR")
    slot(entry, "legalAuthenticator", meta.legal_authenticator)
    if meta.service_start:
        slot(entry, "serviceStartTime", meta.service_start)
    if meta.service_stop:
        slot(entry, "serviceStopTime", meta.service_stop)
    slot(entry, "sourcePatientId", meta.patient_id)
    slot(
        entry,
        "sourcePatientInfo",
        f"PID-5|{meta.patient_family}^{meta.patient_given}^^^^^L",
        f"PID-7|{meta.patient_birth}",
        f"PID-8|{meta.patient_gender}",
    )
    if repository_unique_id:
        slot(entry, "repositoryUniqueId", repository_unique_id)
    if uri:
        slot(entry, "URI", uri)
    localized(entry, "Name", meta.title)
    author(entry, UUID["DocumentEntry.author"], entry_id, meta)
    kind = kind or codes.kind(meta.type_code)
    classification(
        entry, UUID["DocumentEntry.classCode"], entry_id, kind.class_code, kind.class_display, codes.OID_CLASS
    )
    classification(
        entry,
        UUID["DocumentEntry.confidentialityCode"],
        entry_id,
        meta.confidentiality,
        codes.CONFIDENTIALITY.get(meta.confidentiality, ""),
        codes.OID_CONFIDENTIALITY,
    )
    for code in meta.masking:
        classification(
            entry, UUID["DocumentEntry.confidentialityCode"], entry_id, code, codes.MASKING[code], codes.OID_MASKING
        )
    code, display, scheme = meta.format
    classification(entry, UUID["DocumentEntry.formatCode"], entry_id, code, display, scheme)
    classification(
        entry,
        UUID["DocumentEntry.healthCareFacilityTypeCode"],
        entry_id,
        meta.facility_type[0],
        meta.facility_type[1],
        codes.OID_FACILITY,
    )
    classification(
        entry,
        UUID["DocumentEntry.practiceSettingCode"],
        entry_id,
        meta.practice_setting[0],
        meta.practice_setting[1],
        codes.OID_PRACTICE,
    )
    classification(entry, UUID["DocumentEntry.typeCode"], entry_id, meta.type_code, meta.type_display, codes.OID_LOINC)
    external_id(entry, UUID["DocumentEntry.patientId"], entry_id, meta.patient_id, "XDSDocumentEntry.patientId")
    external_id(entry, UUID["DocumentEntry.uniqueId"], entry_id, meta.unique_id, "XDSDocumentEntry.uniqueId")
    return entry


def association(parent: Any, kind: str, source: str, target: str, *, status: str | None = None) -> Any:
    element = registry_object(
        parent,
        "Association",
        associationType=kind,
        sourceObject=source,
        targetObject=target,
    )
    if status:
        slot(element, "SubmissionSetStatus", status)
    return element


def submission_set(
    objects: Any,
    meta: DocumentMetadata,
    *,
    source_id: str,
    intended_recipients: Sequence[str] = (),
    title: str = "Lot de soumission",
) -> tuple[str, str]:
    """The submission set (``RegistryPackage`` and its classification) of one patient's documents; returns its
    entry id and uniqueId. ``source_id`` is the OID of the sending software instance (refused otherwise);
    ``intended_recipients`` (XCN/XON|XTN values) is what an XDM archive sent by mail carries."""
    if not identifiers.is_oid(source_id):
        raise ValidationError(
            "L'identifiant de l'instance du logiciel (sourceId) doit être un OID : corrigez les paramètres du module.",
            detail=f"sourceId {source_id!r} is not an OID",
        )
    set_id = f"urn:uuid:{uuid.uuid4()}"
    set_unique_id = f"2.25.{uuid.uuid4().int}"
    package = registry_object(objects, "RegistryPackage", id=set_id)
    slot(package, "submissionTime", datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
    if intended_recipients:
        slot(package, "intendedRecipient", *intended_recipients)
    localized(package, "Name", title)
    author(package, UUID["SubmissionSet.author"], set_id, meta)
    code, display, scheme = codes.CONTENT_TYPE
    classification(package, UUID["SubmissionSet.contentTypeCode"], set_id, code, display, scheme)
    external_id(package, UUID["SubmissionSet.uniqueId"], set_id, set_unique_id, "XDSSubmissionSet.uniqueId")
    external_id(package, UUID["SubmissionSet.sourceId"], set_id, source_id, "XDSSubmissionSet.sourceId")
    external_id(package, UUID["SubmissionSet.patientId"], set_id, meta.patient_id, "XDSSubmissionSet.patientId")
    sub(
        objects,
        RIM,
        "Classification",
        classifiedObject=set_id,
        classificationNode=UUID["SubmissionSet"],
        id=f"urn:uuid:{uuid.uuid4()}",
    )
    return set_id, set_unique_id
