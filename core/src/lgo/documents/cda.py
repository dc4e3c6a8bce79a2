"""CDA R2 documents conforming to the CI-SIS: the header builder and the bodies (level 1 PDF, structured).

The API is split so that a plugin producing a structured document (the note de vaccination, ...) reuses the same
header as the kernel's level 1 wrapper:

- :class:`CdaHeader` holds everything the header says: document ids and type, the patient's *qualified* identity
  (:class:`lgo.identity.SharedIdentity`, as returned by ``kernel.shareable_identity``), the author pharmacist
  (:class:`CdaPerson`, RPPS), the pharmacy (:class:`CdaOrganisation`, FINESS: author organisation, custodian and
  healthcare facility SA33), the legal authenticator (the author by default), confidentiality, the service event
  and the replaced document (RPLC) if any. :func:`header_for_document` fills one from a kernel
  :class:`~lgo.documents.model.HealthDocument`.
- :func:`build_header` returns the ``ClinicalDocument`` root as an lxml element holding the header only (no
  ``component``); ``extra_template_ids`` adds the volet's own ``templateId`` (e.g. VAC-NOTE).
- :func:`wrap_pdf` returns the bytes of a CDA R2 **level 1** document whose ``nonXMLBody`` is the PDF in base64
  (IHE XDS-SD; XDS formatCode :data:`lgo.documents.xds_codes.FORMAT_CODE_PDF`).
- :func:`wrap_structured_body` returns the bytes of a CDA R2 level 3 document: the header plus
  ``component/structuredBody`` holding one ``component`` per section element the caller built (in the
  ``urn:hl7-org:v3`` namespace, see :data:`NS`; :func:`el` helps build them).

Identifier conventions (CI-SIS "Structuration minimale"): the pharmacist's national id is ``8`` + RPPS under
OID 1.2.250.1.71.4.2.1; the structure's is ``1`` + FINESS under 1.2.250.1.71.4.2.2; the patient is identified by
the matricule INS under the OID of its authority (NIR, NIA, or test OIDs).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lxml import etree

from lgo import identifiers, traits
from lgo.documents.xds_codes import FORMAT_CODE_PDF as FORMAT_CODE_PDF  # kept here for the plugins that read it
from lgo.documents.xds_codes import FORMAT_CODE_PDF_SCHEME as FORMAT_CODE_PDF_SCHEME

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lgo.documents.model import HealthDocument
    from lgo.identity import SharedIdentity

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP: Any = {None: NS, "xsi": XSI}

OID_LOINC = "2.16.840.1.113883.6.1"
OID_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
OID_GENDER = "2.16.840.1.113883.5.1"
OID_IDNAT_PS = identifiers.OID_IDNAT_PS
OID_IDNAT_STRUCT = identifiers.OID_IDNAT_STRUCT
OID_SECTEUR_ACTIVITE = "1.2.250.1.71.4.2.4"
OID_PROFESSION = "1.2.250.1.213.1.1.4.5"
OID_CADRE_EXERCICE = "1.2.250.1.213.1.1.4.9"

TEMPLATE_HL7_FRANCE = "2.16.840.1.113883.2.8.2.1"
TEMPLATE_CI_SIS = "1.2.250.1.213.1.1.1.1"
TEMPLATE_XDS_SD = "1.3.6.1.4.1.19376.1.2.20"

#: XDS formatCode of a CDA R2 level 1 document with a PDF body (and its coding scheme).

CONFIDENTIALITY_DISPLAY = {"N": "Normal", "R": "Restreint", "V": "Très restreint"}
#: JDV_J143_AdministrativeGender_CISIS (an INS sex « I », indéterminé, is written UN).
_GENDER_DISPLAY = {"M": "Masculin", "F": "Féminin", "UN": "Inconnu"}
#: Dates and times in documents are the pharmacy's local time.
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class CdaPerson:
    """A health professional (author, legal authenticator, performer)."""

    rpps: str
    family: str
    given: str
    #: Profession / savoir-faire (TRE_G15 via JDV_J01): G15_21 Pharmacien, G15_21/A titulaire d'officine...
    specialty_code: str = "G15_21"
    specialty_display: str = "Pharmacien"

    @property
    def national_id(self) -> str:
        return identifiers.idnat_ps(self.rpps)


@dataclass(frozen=True)
class CdaOrganisation:
    """The pharmacy: author's organisation, custodian and healthcare facility."""

    finess: str
    name: str
    street: str = ""
    postal_code: str = ""
    city: str = ""
    telecom: str | None = None
    #: healthcareFacilityTypeCode (TRE_R02 SecteurActivite): SA33 pharmacie d'officine.
    facility_type: tuple[str, str] = ("SA33", "Pharmacie d'officine")
    #: practiceSettingCode (TRE_A01 CadreExercice).
    practice_setting: tuple[str, str] = ("AMBULATOIRE", "Ambulatoire")

    @property
    def national_id(self) -> str:
        return identifiers.idnat_structure(self.finess)


@dataclass(frozen=True)
class CdaHeader:
    unique_id: str
    set_id: str
    version: int
    type_code: str
    type_display: str
    title: str
    patient: SharedIdentity
    author: CdaPerson
    organisation: CdaOrganisation
    effective_time: datetime
    confidentiality: str = "N"
    legal_authenticator: CdaPerson | None = None
    #: documentationOf/serviceEvent: the act the document reports (start, end, optional (code, display, system)).
    service_start: datetime | None = None
    service_stop: datetime | None = None
    service_event_code: tuple[str, str, str] | None = None
    #: unique id of the document this version replaces (relatedDocument typeCode RPLC).
    replaces_unique_id: str | None = None
    extra_template_ids: tuple[str, ...] = field(default=())


def el(parent: Any, tag: str, text: str | None = None, **attributes: str) -> Any:
    """Append ``<tag>`` in the CDA namespace to ``parent`` (attributes with a ``xsi_`` prefix go to xsi:)."""
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    for key, value in attributes.items():
        if key.startswith("xsi_"):
            element.set(f"{{{XSI}}}{key[4:]}", value)
        else:
            element.set(key, value)
    if text is not None:
        element.text = text
    return element


def coded(parent: Any, tag: str, code: str, display: str, system: str, system_name: str, **attributes: str) -> Any:
    """Append a coded element (``code``, ``value``, ``routeCode``…): the code, its label and its code system."""
    return el(parent, tag, code=code, displayName=display, codeSystem=system, codeSystemName=system_name, **attributes)


def local(moment: datetime) -> datetime:
    """``moment`` in the producer's local time, Europe/Paris (a naive value is the database's UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def ts(moment: datetime) -> str:
    """An HL7 TS in local time with seconds and its offset (``20250101003000+0100``), as the CI-SIS requires:
    a vaccination at 00:30 on 1 January in Paris is dated 1 January, not 31 December."""
    return local(moment).strftime("%Y%m%d%H%M%S%z")


def day(moment: datetime) -> str:
    """The local date of ``moment`` as an HL7 TS of 8 digits (an entry's ``effectiveTime`` in VAC-NOTE)."""
    return local(moment).strftime("%Y%m%d")


def _birth_time(birth_date: str) -> str | None:
    year, month, day = birth_date.split("-")
    if year == "0000":
        return None
    if month == "00":
        return year
    if day == "00":
        return year + month
    return year + month + day


def _address(parent: Any, organisation: CdaOrganisation) -> None:
    addr = el(parent, "addr")
    if not (organisation.street or organisation.city):
        addr.set("nullFlavor", "UNK")
        return
    if organisation.street:
        el(addr, "streetAddressLine", organisation.street)
    if organisation.postal_code:
        el(addr, "postalCode", organisation.postal_code)
    if organisation.city:
        el(addr, "city", organisation.city)


def _telecom(parent: Any, organisation: CdaOrganisation) -> None:
    if organisation.telecom:
        el(parent, "telecom", value=f"tel:{organisation.telecom}", use="WP")
    else:
        el(parent, "telecom", nullFlavor="NASK")


def _organisation(parent: Any, tag: str, organisation: CdaOrganisation, *, with_setting: bool = False) -> Any:
    org = el(parent, tag)
    el(org, "id", root=OID_IDNAT_STRUCT, extension=organisation.national_id)
    el(org, "name", organisation.name)
    _telecom(org, organisation)
    _address(org, organisation)
    if with_setting:
        code, display = organisation.practice_setting
        el(org, "standardIndustryClassCode", code=code, displayName=display, codeSystem=OID_CADRE_EXERCICE)
    return org


def _person_name(parent: Any, person: CdaPerson) -> None:
    name = el(parent, "name")
    el(name, "given", person.given)
    el(name, "family", person.family)


def add_record_target(root: Any, patient: SharedIdentity) -> Any:
    """Append ``recordTarget`` for the qualified identity ``patient`` (INS under its authority OID) to ``root``."""
    role = el(el(root, "recordTarget"), "patientRole")
    el(role, "id", root=patient.oid, extension=patient.matricule)
    el(role, "addr", nullFlavor="NASK")
    el(role, "telecom", nullFlavor="NASK")
    person = el(role, "patient", classCode="PSN")
    name = el(person, "name")
    el(name, "family", patient.birth_name, qualifier="BR")
    el(name, "given", " ".join(patient.first_names))
    el(name, "given", patient.first_first_name, qualifier="BR")
    if patient.used_name:
        el(name, "family", patient.used_name, qualifier="CL")
    if patient.used_first_name:
        el(name, "given", patient.used_first_name, qualifier="CL")
    gender = traits.cda_gender(patient.sex)
    el(person, "administrativeGenderCode", code=gender, displayName=_GENDER_DISPLAY[gender], codeSystem=OID_GENDER)
    birth = _birth_time(patient.birth_date)
    if birth:
        el(person, "birthTime", value=birth)
    else:
        el(person, "birthTime", nullFlavor="UNK")
    if patient.birth_place_code:
        addr = el(el(el(person, "birthplace"), "place"), "addr")
        el(addr, "county", patient.birth_place_code)
    return role.getparent()


def build_header(header: CdaHeader) -> Any:
    """The ``ClinicalDocument`` element with the CI-SIS header, no body yet (see the module docstring)."""
    root = etree.Element(f"{{{NS}}}ClinicalDocument", nsmap=NSMAP)
    el(root, "realmCode", code="FR")
    el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    el(root, "templateId", root=TEMPLATE_HL7_FRANCE)
    el(root, "templateId", root=TEMPLATE_CI_SIS)
    for template in header.extra_template_ids:
        el(root, "templateId", root=template)
    el(root, "id", root=header.unique_id)
    coded(root, "code", header.type_code, header.type_display, OID_LOINC, "LOINC")
    el(root, "title", header.title)
    el(root, "effectiveTime", value=ts(header.effective_time))
    el(
        root,
        "confidentialityCode",
        code=header.confidentiality,
        displayName=CONFIDENTIALITY_DISPLAY.get(header.confidentiality, ""),
        codeSystem=OID_CONFIDENTIALITY,
    )
    el(root, "languageCode", code="fr-FR")
    el(root, "setId", root=header.set_id)
    el(root, "versionNumber", value=str(header.version))
    add_record_target(root, header.patient)

    author = el(root, "author")
    el(author, "time", value=ts(header.effective_time))
    assigned = el(author, "assignedAuthor")
    el(assigned, "id", root=OID_IDNAT_PS, extension=header.author.national_id)
    el(
        assigned,
        "code",
        code=header.author.specialty_code,
        displayName=header.author.specialty_display,
        codeSystem=OID_PROFESSION,
    )
    _address(assigned, header.organisation)
    _telecom(assigned, header.organisation)
    _person_name(el(assigned, "assignedPerson"), header.author)
    _organisation(assigned, "representedOrganization", header.organisation)

    custodian = el(el(root, "custodian"), "assignedCustodian")
    _organisation(custodian, "representedCustodianOrganization", header.organisation)

    authenticator = header.legal_authenticator or header.author
    legal = el(root, "legalAuthenticator")
    el(legal, "time", value=ts(header.effective_time))
    el(legal, "signatureCode", code="S")
    entity = el(legal, "assignedEntity")
    el(entity, "id", root=OID_IDNAT_PS, extension=authenticator.national_id)
    _person_name(el(entity, "assignedPerson"), authenticator)

    start = header.service_start or header.effective_time
    event = el(el(root, "documentationOf"), "serviceEvent")
    if header.service_event_code is not None:
        code, display, system = header.service_event_code
        el(event, "code", code=code, displayName=display, codeSystem=system)
    period = el(event, "effectiveTime")
    el(period, "low", value=ts(start))
    el(period, "high", value=ts(header.service_stop or start))
    performer = el(event, "performer", typeCode="PRF")
    performer_entity = el(performer, "assignedEntity")
    el(performer_entity, "id", root=OID_IDNAT_PS, extension=header.author.national_id)
    _person_name(el(performer_entity, "assignedPerson"), header.author)
    _organisation(performer_entity, "representedOrganization", header.organisation, with_setting=True)

    if header.replaces_unique_id:
        parent = el(el(root, "relatedDocument", typeCode="RPLC"), "parentDocument")
        el(parent, "id", root=header.replaces_unique_id)

    encounter = el(el(root, "componentOf"), "encompassingEncounter")
    el(el(encounter, "effectiveTime"), "low", value=ts(start))
    facility = el(el(encounter, "location"), "healthCareFacility")
    code, display = header.organisation.facility_type
    el(facility, "code", code=code, displayName=display, codeSystem=OID_SECTEUR_ACTIVITE)
    return root


def _serialise(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def wrap_pdf(header: CdaHeader, pdf: bytes) -> bytes:
    """A CDA R2 level 1 document: the header and the PDF as ``nonXMLBody`` (formatCode
    :data:`lgo.documents.xds_codes.FORMAT_CODE_PDF`)."""
    if not pdf.startswith(b"%PDF"):
        from lgo.errors import ValidationError

        raise ValidationError("Le corps du document n'est pas un PDF.", detail=f"starts with {pdf[:8]!r}")
    root = build_header(header)
    # XDS-SD declares itself after the CI-SIS templates, before the document id.
    root.find(f"{{{NS}}}id").addprevious(etree.Element(f"{{{NS}}}templateId", root=TEMPLATE_XDS_SD))
    body = el(el(root, "component"), "nonXMLBody")
    el(body, "text", base64.b64encode(pdf).decode("ascii"), mediaType="application/pdf", representation="B64")
    return _serialise(root)


def wrap_structured_body(header: CdaHeader, sections: Iterable[Any]) -> bytes:
    """A CDA R2 structured document: the header and one ``component/section`` per given section element."""
    root = build_header(header)
    structured = el(el(root, "component"), "structuredBody")
    for section in sections:
        el(structured, "component").append(section)
    return _serialise(root)


def header_for_document(
    session: Session,
    document: HealthDocument,
    patient: SharedIdentity,
    *,
    service_event_code: tuple[str, str, str] | None = None,
    extra_template_ids: tuple[str, ...] = (),
    effective_time: datetime | None = None,
) -> CdaHeader:
    """The header of a kernel document: author = its author operator (RPPS), pharmacy = its pharmacy (FINESS)."""
    from lgo.documents.model import HealthDocument as _Document
    from lgo.domain.pharmacy import Operator, Pharmacy
    from lgo.errors import ValidationError

    operator = session.get(Operator, document.author_operator_id)
    pharmacy = session.get(Pharmacy, document.pharmacy_id)
    if operator is None or pharmacy is None:
        raise ValidationError("Auteur ou officine du document introuvable.", detail=f"document {document.id}")
    if not operator.rpps:
        raise ValidationError(
            "L'auteur du document doit être un pharmacien identifié par son numéro RPPS.",
            detail=f"operator {operator.id} has no RPPS",
        )
    replaces_unique_id = None
    if document.replaces_id is not None:
        previous = session.get(_Document, document.replaces_id)
        replaces_unique_id = previous.unique_id if previous is not None else None
    return CdaHeader(
        unique_id=document.unique_id,
        set_id=document.set_id,
        version=document.version,
        type_code=document.type_code,
        type_display=document.type_display,
        title=document.title,
        patient=patient,
        author=CdaPerson(rpps=operator.rpps, family=operator.last_name.upper(), given=operator.first_name),
        organisation=CdaOrganisation(
            finess=pharmacy.finess,
            name=pharmacy.name,
            street=pharmacy.address,
            postal_code=pharmacy.postal_code,
            city=pharmacy.city,
        ),
        effective_time=effective_time or document.created_at,
        confidentiality=document.confidentiality,
        service_event_code=service_event_code,
        replaces_unique_id=replaces_unique_id,
        extra_template_ids=extra_template_ids,
    )
