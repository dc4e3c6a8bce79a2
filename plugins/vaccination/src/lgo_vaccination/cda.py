"""The note de vaccination as a CI-SIS VAC-NOTE 2023.01 CDA document.

The kernel builds the header (:mod:`lgo.documents.cda`); this module adds the volet's templates and the section
FR-Vaccinations with one entry FR-Vaccination per note: act type, date, route (EDQM) and site (SNOMED CT), the
vaccine by CIS with its ATC (and CIP13) translations, the lot number, and the vaccinator as performer.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lgo.api import cda
from lxml import etree

from lgo_vaccination import codes

TEMPLATE_PCC_IMMUNIZATION_CONTENT = "1.3.6.1.4.1.19376.1.5.3.1.1.18.1.2"
TEMPLATE_VAC_NOTE = ("1.2.250.1.213.1.1.1.46", "2023.01")
SECTION_TEMPLATES = ("2.16.840.1.113883.10.20.1.6", "1.3.6.1.4.1.19376.1.5.3.1.3.23", "1.2.250.1.213.1.1.2.147")
ENTRY_TEMPLATES = ("2.16.840.1.113883.10.20.1.24", "1.3.6.1.4.1.19376.1.5.3.1.4.12", "1.2.250.1.213.1.1.3.45")
PRODUCT_TEMPLATES = ("2.16.840.1.113883.10.20.1.53", "1.3.6.1.4.1.19376.1.5.3.1.4.7.2", "1.2.250.1.213.1.1.3.43")
OID_IDNAT_PS = "1.2.250.1.71.4.2.1"
OID_PROFESSION = "1.2.250.1.213.1.1.4.5"


@dataclass(frozen=True)
class Vaccination:
    """What one entry says (taken from a :class:`lgo_vaccination.model.VaccinationNote`)."""

    administered_at: datetime
    act_type: str
    vaccine_label: str
    cis: str
    atc: str | None
    cip13: str | None
    lot_number: str
    route_code: str
    site_code: str
    vaccinator: cda.CdaPerson
    comment: str = ""


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Free text as XML 1.0 accepts it (control characters typed or pasted by mistake are dropped)."""
    return _NOT_XML.sub("", value)


def _section(vaccination: Vaccination) -> Any:
    section = etree.Element(f"{{{cda.NS}}}section")
    for template in SECTION_TEMPLATES:
        cda.el(section, "templateId", root=template)
    cda.el(section, "id", root=str(uuid.uuid4()).upper())
    cda.coded(section, "code", codes.SECTION_CODE[0], codes.SECTION_CODE[1], codes.OID_LOINC, "LOINC")
    cda.el(section, "title", "Note de vaccination")
    text = cda.el(section, "text")
    table = cda.el(text, "table", border="0")
    header_row = cda.el(cda.el(table, "thead"), "tr")
    for title in (
        "Date",
        "Vaccin",
        "Maladie(s) ciblée(s)",
        "Lot n°",
        "Voie d'administration",
        "Région d'administration",
        "Commentaire",
        "Vaccinateur",
    ):
        cda.el(header_row, "th", title)
    row = cda.el(cda.el(table, "tbody"), "tr")
    cda.el(row, "td", f"{cda.local(vaccination.administered_at):%d/%m/%Y}")
    cda.el(cda.el(row, "td"), "content", vaccination.vaccine_label, ID="vac-01")
    cda.el(row, "td", codes.disease_fr(vaccination.atc))
    cda.el(row, "td", vaccination.lot_number)
    cda.el(row, "td", codes.ROUTES[vaccination.route_code])
    cda.el(cda.el(row, "td"), "content", codes.SITES[vaccination.site_code], ID="vac-01-approachSite")
    cda.el(cda.el(row, "td"), "content", vaccination.comment or "—", ID="vac-01-comment")
    cda.el(row, "td", f"{vaccination.vaccinator.given} {vaccination.vaccinator.family}")
    _entry(cda.el(section, "entry"), vaccination)
    return section


def _entry(entry: Any, vaccination: Vaccination) -> None:
    administration = cda.el(entry, "substanceAdministration", classCode="SBADM", moodCode="EVN", negationInd="false")
    for template in ENTRY_TEMPLATES:
        cda.el(administration, "templateId", root=template)
    cda.el(administration, "id", root=str(uuid.uuid4()).upper())
    cda.coded(
        administration,
        "code",
        vaccination.act_type,
        codes.ACT_TYPES[vaccination.act_type],
        codes.OID_ACT_CODE,
        "ActSubstanceAdministrationImmunizationCode",
    )
    cda.el(cda.el(administration, "text"), "reference", value="#vac-01")
    cda.el(administration, "statusCode", code="completed")
    cda.el(administration, "effectiveTime", value=cda.day(vaccination.administered_at))
    cda.coded(
        administration,
        "routeCode",
        vaccination.route_code,
        codes.ROUTES[vaccination.route_code],
        codes.OID_EDQM,
        "EDQM",
    )
    site = cda.coded(
        administration,
        "approachSiteCode",
        vaccination.site_code,
        codes.SITES[vaccination.site_code],
        codes.OID_SNOMED,
        "SNOMED CT",
    )
    cda.el(cda.el(site, "originalText"), "reference", value="#vac-01-approachSite")
    product = cda.el(cda.el(administration, "consumable", typeCode="CSM"), "manufacturedProduct")
    for template in PRODUCT_TEMPLATES:
        cda.el(product, "templateId", root=template)
    material = cda.el(product, "manufacturedMaterial")
    code = cda.coded(material, "code", vaccination.cis, vaccination.vaccine_label, codes.OID_CIS, "CIS")
    cda.el(cda.el(code, "originalText"), "reference", value="#vac-01")
    if vaccination.atc:
        cda.coded(code, "translation", vaccination.atc, codes.disease_fr(vaccination.atc), codes.OID_ATC, "ATC")
    if vaccination.cip13:
        cda.coded(code, "translation", vaccination.cip13, vaccination.vaccine_label, codes.OID_CIP, "CIP")
    cda.el(material, "name", vaccination.vaccine_label)
    cda.el(material, "lotNumberText", vaccination.lot_number)
    performer = cda.el(cda.el(administration, "performer", typeCode="PRF"), "assignedEntity", classCode="ASSIGNED")
    cda.el(performer, "id", root=OID_IDNAT_PS, extension=vaccination.vaccinator.national_id)
    cda.el(
        performer,
        "code",
        code=vaccination.vaccinator.specialty_code,
        displayName=vaccination.vaccinator.specialty_display,
        codeSystem=OID_PROFESSION,
    )
    _person(performer, vaccination.vaccinator)
    # The author is the professional who attests that the vaccination was done (mandatory in VAC-NOTE).
    author = cda.el(administration, "author", contextControlCode="OP", typeCode="AUT")
    cda.el(author, "time", value=cda.ts(vaccination.administered_at))
    assigned = cda.el(author, "assignedAuthor", classCode="ASSIGNED")
    cda.el(assigned, "id", root=OID_IDNAT_PS, extension=vaccination.vaccinator.national_id)
    cda.el(
        assigned,
        "code",
        code=vaccination.vaccinator.specialty_code,
        displayName=vaccination.vaccinator.specialty_display,
        codeSystem=OID_PROFESSION,
    )
    _person(assigned, vaccination.vaccinator)
    if vaccination.comment:
        comment = cda.el(administration, "entryRelationship", typeCode="SUBJ")
        act = cda.el(comment, "act", classCode="ACT", moodCode="EVN")
        for template in ("2.16.840.1.113883.10.20.1.40", "1.3.6.1.4.1.19376.1.5.3.1.4.2", "1.2.250.1.213.1.1.3.32"):
            cda.el(act, "templateId", root=template)
        cda.coded(act, "code", "48767-8", "Commentaire", codes.OID_LOINC, "LOINC")
        text = cda.el(act, "text")
        cda.el(text, "reference", value="#vac-01-comment")
        text[-1].tail = vaccination.comment
        cda.el(act, "statusCode", code="completed")


def _person(parent: Any, person: cda.CdaPerson) -> None:
    name = cda.el(cda.el(parent, "assignedPerson"), "name")
    cda.el(name, "family", person.family)
    cda.el(name, "given", person.given)


def build(header: cda.CdaHeader, vaccination: Vaccination) -> bytes:
    """The VAC-NOTE document: the kernel's header with the volet's templates, and the vaccination section."""
    vaccination = replace(
        vaccination, comment=xml_text(vaccination.comment).strip(), lot_number=xml_text(vaccination.lot_number).strip()
    )
    root = cda.build_header(header)
    anchor = root.find(f"{{{cda.NS}}}id")
    anchor.addprevious(etree.Element(f"{{{cda.NS}}}templateId", root=TEMPLATE_PCC_IMMUNIZATION_CONTENT))
    anchor.addprevious(
        etree.Element(f"{{{cda.NS}}}templateId", root=TEMPLATE_VAC_NOTE[0], extension=TEMPLATE_VAC_NOTE[1])
    )
    body = cda.el(cda.el(root, "component"), "structuredBody")
    cda.el(body, "component").append(_section(vaccination))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
