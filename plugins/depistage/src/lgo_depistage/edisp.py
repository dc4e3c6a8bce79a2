"""The antibiotic dispensed after a positive TROD as a CI-SIS eDISP-MED 2024.01 CDA document (decision 1202).

BIO-TROD has no place for the medicine dispensed: this dispensation document carries it — the box (CIS, CIP13,
lot), the quantity, the posology and duration (FR-Instructions-au-dosage: treatment period, frequency, oral route,
dose) and the same words for the patient — and names the TROD attestation it follows as the order it fulfils
(``inFulfillmentOf/order/id`` = the attestation's document id): the two documents are linked in the DMP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from lgo.api import cda
from lxml import etree

from lgo_depistage.antibiotics import Posology
from lgo_depistage.cda import xml_text

TYPE = ("60593-1", "Dispensation médicamenteuse")
TEMPLATES = ("1.3.6.1.4.1.19376.1.5.3.1.1.1", "1.3.6.1.4.1.19376.1.9.1.1.3")
TEMPLATE_EDISP = ("1.2.250.1.213.1.1.1.54", "2024.01")
OID_CIS = "1.2.250.1.213.2.3.1"
OID_CIP = "1.2.250.1.213.2.3.2"
OID_ATC = "2.16.840.1.113883.6.73"
OID_EDQM = "0.4.0.127.0.16.1.1.2.1"
OID_IHE_ACT = "1.3.6.1.4.1.19376.1.5.3.2"
PRODUCT_TEMPLATES = ("2.16.840.1.113883.10.20.1.53", "1.3.6.1.4.1.19376.1.5.3.1.4.7.2", "1.2.250.1.213.1.1.3.43")
MEDICINE_TEMPLATE = "1.3.6.1.4.1.19376.1.9.1.3.1"
#: EDQM packaging « Boîte » (the unit of the quantity dispensed) and the oral route.
BOX = "30009000"
ORAL = ("20053000", "Voie orale")


@dataclass(frozen=True)
class Dispensed:
    """What the document says (taken from a test record and its billing)."""

    dispensed_at: datetime
    label: str
    cip13: str
    cis: str | None
    atc: str | None
    substance_fr: str
    boxes: int
    lot: str | None
    posology: Posology
    #: The attestation this dispensation follows (its CDA id: the DMP document's unique id).
    attestation_unique_id: str
    #: Why no physician's prescription: the protocol, said to the patient and to the next professional.
    context_fr: str


def _fulfils(root: Any, attestation_unique_id: str) -> None:
    """``inFulfillmentOf/order/id`` before ``documentationOf``: the TROD attestation is the order fulfilled."""
    fulfilment = etree.Element(f"{{{cda.NS}}}inFulfillmentOf")
    cda.el(cda.el(fulfilment, "order"), "id", root=attestation_unique_id)
    root.find(f"{{{cda.NS}}}documentationOf").addprevious(fulfilment)


def _narrative(section: Any, dispensed: Dispensed, start: date, end: date) -> None:
    text = cda.el(section, "text")
    table = cda.el(text, "table", border="0")
    head = cda.el(cda.el(table, "thead"), "tr")
    for label in ("Durée du traitement", "Médicament", "Quantité délivrée", "Posologie", "Voie d'administration"):
        cda.el(head, "th", label)
    body = cda.el(table, "tbody")
    row = cda.el(body, "tr")
    cda.el(row, "td", f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}")
    cda.el(cda.el(row, "td"), "content", dispensed.label, ID="med-001")
    cda.el(row, "td", f"{dispensed.boxes} boîte(s)" + (f", lot {dispensed.lot}" if dispensed.lot else ""))
    cda.el(cda.el(row, "td"), "content", dispensed.posology.text_fr, ID="med-001-posologie")
    cda.el(cda.el(row, "td"), "content", ORAL[1], ID="med-001-voie")
    note = cda.el(body, "tr")
    cda.el(note, "td", "Instruction au patient", colspan="1")
    cda.el(
        cda.el(note, "td", colspan="4"),
        "content",
        f"{dispensed.substance_fr} : {dispensed.posology.text_fr}.",
        ID="med-001-instruction-patient",
    )
    context = cda.el(body, "tr")
    cda.el(context, "td", "Notes du dispensateur", colspan="1")
    cda.el(cda.el(context, "td", colspan="4"), "content", dispensed.context_fr, ID="med-001-notes-dispensateur")


def _author(section: Any, pharmacist: cda.CdaPerson, organisation: cda.CdaOrganisation, at: datetime) -> None:
    author = cda.el(section, "author")
    cda.el(author, "time", value=cda.ts(at))
    assigned = cda.el(author, "assignedAuthor", classCode="ASSIGNED")
    cda.el(assigned, "id", root=cda.OID_IDNAT_PS, extension=pharmacist.national_id)
    cda.el(assigned, "code", code="G15_21", displayName="Pharmacien", codeSystem=cda.OID_PROFESSION)
    name = cda.el(cda.el(assigned, "assignedPerson"), "name")
    cda.el(name, "given", pharmacist.given)
    cda.el(name, "family", pharmacist.family)
    represented = cda.el(assigned, "representedOrganization")
    cda.el(represented, "id", root=cda.OID_IDNAT_STRUCT, extension=organisation.national_id)
    cda.el(represented, "name", organisation.name)


def _product(supply: Any, dispensed: Dispensed) -> None:
    product = cda.el(cda.el(supply, "product"), "manufacturedProduct", classCode="MANU")
    for template in PRODUCT_TEMPLATES:
        cda.el(product, "templateId", root=template)
    material = cda.el(product, "manufacturedMaterial", classCode="MMAT", determinerCode="KIND")
    cda.el(material, "templateId", root=MEDICINE_TEMPLATE)
    if dispensed.cis:
        code = cda.coded(material, "code", dispensed.cis, dispensed.label, OID_CIS, "CIS")
    else:
        code = cda.el(material, "code")
    cda.el(cda.el(code, "originalText"), "reference", value="#med-001")
    cip = cda.coded(code, "translation", dispensed.cip13, dispensed.label, OID_CIP, "CIP")
    cda.el(cda.el(cip, "originalText"), "reference", value="#med-001")
    if dispensed.atc:
        cda.coded(code, "translation", dispensed.atc, dispensed.substance_fr, OID_ATC, "ATC")
    cda.el(material, "name", dispensed.label)
    if dispensed.lot:
        cda.el(material, "lotNumberText", dispensed.lot)


def _instruction(supply: Any, template: str, ihe: str, code: str, reference: str) -> None:
    act = cda.el(
        cda.el(supply, "entryRelationship", typeCode="SUBJ", inversionInd="true"),
        "act",
        classCode="ACT",
        moodCode="INT",
    )
    cda.el(act, "templateId", root=template)
    cda.el(act, "templateId", root=ihe)
    cda.el(
        act, "templateId", root={"PINSTRUCT": "1.2.250.1.213.1.1.3.33", "FINSTRUCT": "1.2.250.1.213.1.1.3.207"}[code]
    )
    cda.el(act, "code", code=code, codeSystem=OID_IHE_ACT, codeSystemName="IHEActCode")
    cda.el(cda.el(act, "text"), "reference", value=reference)
    cda.el(act, "statusCode", code="completed")


def _dosage(supply: Any, posology: Posology, start: date, end: date) -> None:
    administration = cda.el(
        cda.el(supply, "entryRelationship", typeCode="COMP"),
        "substanceAdministration",
        classCode="SBADM",
        moodCode="INT",
    )
    for template in (
        "2.16.840.1.113883.10.20.1.24",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7",
        "1.2.250.1.213.1.1.3.42",
        "1.3.6.1.4.1.19376.1.9.1.3.6",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7.1",
    ):
        cda.el(administration, "templateId", root=template)
    cda.el(administration, "id", root=str(uuid.uuid4()).upper())
    cda.el(cda.el(administration, "text"), "reference", value="#med-001-posologie")
    cda.el(administration, "statusCode", code="completed")
    period = cda.el(administration, "effectiveTime", xsi_type="IVL_TS")
    cda.el(period, "low", value=f"{start:%Y%m%d}")
    cda.el(period, "high", value=f"{end:%Y%m%d}")
    rhythm = cda.el(administration, "effectiveTime", xsi_type="SXPR_TS", operator="A")
    window = cda.el(rhythm, "comp", xsi_type="IVL_TS", operator="A")
    cda.el(window, "low", value=f"{start:%Y%m%d}")
    cda.el(window, "width", value=str(posology.days), unit="d")
    frequency = cda.el(rhythm, "comp", xsi_type="PIVL_TS", operator="A")
    cda.el(frequency, "period", value=str(24 // posology.intakes_per_day), unit="h")
    route = cda.coded(administration, "routeCode", ORAL[0], ORAL[1], OID_EDQM, "EDQM")
    cda.el(cda.el(route, "originalText"), "reference", value="#med-001-voie")
    dose = cda.el(administration, "doseQuantity")
    cda.el(dose, "low", value=str(posology.dose_mg), unit="mg")
    cda.el(dose, "high", value=str(posology.dose_mg), unit="mg")
    product = cda.el(cda.el(administration, "consumable"), "manufacturedProduct")
    for template in PRODUCT_TEMPLATES:
        cda.el(product, "templateId", root=template)
    material = cda.el(product, "manufacturedMaterial", nullFlavor="NA")
    cda.el(material, "templateId", root=MEDICINE_TEMPLATE)
    cda.el(material, "code", nullFlavor="NA")
    cda.el(material, "name", nullFlavor="NA")


def _section(header: cda.CdaHeader, dispensed: Dispensed) -> Any:
    start = cda.local(dispensed.dispensed_at).date()
    end = start + timedelta(days=dispensed.posology.days - 1)
    section = etree.Element(f"{{{cda.NS}}}section", classCode="DOCSECT", moodCode="EVN")
    for template in ("1.3.6.1.4.1.19376.1.9.1.2.3", "2.16.840.1.113883.10.20.1.8", "1.2.250.1.213.1.1.2.236"):
        cda.el(section, "templateId", root=template)
    cda.el(section, "id", root=str(uuid.uuid4()).upper())
    cda.coded(section, "code", "60590-7", "Médicaments délivrés", cda.OID_LOINC, "LOINC")
    cda.el(section, "title", "Médicaments délivrés")
    _narrative(section, dispensed, start, end)
    _author(section, header.author, header.organisation, dispensed.dispensed_at)
    supply = cda.el(cda.el(section, "entry"), "supply", classCode="SPLY", moodCode="EVN")
    for template in (
        "2.16.840.1.113883.10.20.1.34",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7.3",
        "1.3.6.1.4.1.19376.1.9.1.3.4",
        "1.2.250.1.213.1.1.3.204",
    ):
        cda.el(supply, "templateId", root=template)
    cda.el(supply, "id", root=str(uuid.uuid4()).upper())
    cda.el(cda.el(supply, "text"), "reference", value="#med-001")
    cda.el(supply, "quantity", value=str(dispensed.boxes), unit=BOX)
    _product(supply, dispensed)
    _instruction(
        supply,
        "2.16.840.1.113883.10.20.1.49",
        "1.3.6.1.4.1.19376.1.5.3.1.4.3",
        "PINSTRUCT",
        "#med-001-instruction-patient",
    )
    _instruction(
        supply,
        "2.16.840.1.113883.10.20.1.43",
        "1.3.6.1.4.1.19376.1.5.3.1.4.3.1",
        "FINSTRUCT",
        "#med-001-notes-dispensateur",
    )
    _dosage(supply, dispensed.posology, start, end)
    return section


def dispensation_header(header: cda.CdaHeader, dispensed_at: datetime) -> cda.CdaHeader:
    """The kernel's header for the dispensation: the service event « Dispensation médicamenteuse » at its time."""
    return replace(
        header,
        service_start=dispensed_at,
        service_stop=dispensed_at,
        service_event_code=(*TYPE, cda.OID_LOINC),
    )


def build(header: cda.CdaHeader, dispensed: Dispensed) -> bytes:
    """The eDISP-MED document: the kernel's header (see :func:`dispensation_header`) and the dispensed medicine."""
    dispensed = replace(dispensed, context_fr=xml_text(dispensed.context_fr), lot=xml_text(dispensed.lot or "") or None)
    root = cda.build_header(header)
    anchor = root.find(f"{{{cda.NS}}}id")
    for template in TEMPLATES:
        anchor.addprevious(etree.Element(f"{{{cda.NS}}}templateId", root=template))
    anchor.addprevious(etree.Element(f"{{{cda.NS}}}templateId", root=TEMPLATE_EDISP[0], extension=TEMPLATE_EDISP[1]))
    _fulfils(root, dispensed.attestation_unique_id)
    body = cda.el(cda.el(root, "component"), "structuredBody")
    cda.el(body, "component").append(_section(header, dispensed))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
