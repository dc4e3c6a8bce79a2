"""The TROD attestation as a CI-SIS BIO-TROD 2024.01 CDA document (decision 1202).

The kernel builds the header (:mod:`lgo.api.cda`); this module adds the volet's templates, one
``documentationOf/serviceEvent`` per pathology screened (CIM-10) with the practice setting DEPISTAGE, the patient's
consent, and the section FR-CR-BIO-Chapitre: a narrative table of the results and of the device, and one entry
FR-Resultats-examens-de-biologie-medicale holding the device as a ``DEV`` participant (its UDI under the GS1 root,
or the maker, reference, lot and expiry in the narrative) and one observation per result (LOINC code, SNOMED CT
value of JDV_ResultatDepistage_CISIS), each with its comment — the orientation to a physician when there is one.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from lgo.api import cda
from lxml import etree

from lgo_depistage import codes

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Free text as XML 1.0 accepts it (control characters typed or pasted by mistake are dropped)."""
    return _NOT_XML.sub("", value).strip()


@dataclass(frozen=True)
class Device:
    """The test device: its UDI (human-readable GS1 form) when known, and what its box says."""

    udi: str | None = None
    maker: str = ""
    reference: str = ""
    lot: str = ""
    expiry: date | None = None

    @property
    def description_fr(self) -> str:
        """« Fabricant | Référence | N° de lot | Date de péremption », as the kit's examples write it."""
        expiry = f"{self.expiry:%d/%m/%Y}" if self.expiry else "—"
        return " | ".join(xml_text(v) or "—" for v in (self.maker, self.reference, self.lot)) + f" | {expiry}"


@dataclass(frozen=True)
class Trod:
    """What the attestation says (taken from a :class:`lgo_depistage.model.DepistageTest`)."""

    kind: codes.TrodKind
    tested_at: datetime
    device: Device
    #: Observation code → result.
    results: dict[str, codes.Result]
    #: Comment on every result: the context and, when no antibiotic is dispensed, the orientation.
    comment: str = ""


def title(kind: codes.TrodKind) -> str:
    return f"Test rapide d'orientation diagnostique : {kind.title_fr}"


def _templates(root: Any) -> None:
    anchor = root.find(f"{{{cda.NS}}}id")
    anchor.addprevious(etree.Element(f"{{{cda.NS}}}templateId", root=codes.TEMPLATE_PCC_MEDICAL_DOCUMENT))
    anchor.addprevious(
        etree.Element(f"{{{cda.NS}}}templateId", root=codes.TEMPLATE_BIO_TROD[0], extension=codes.TEMPLATE_BIO_TROD[1])
    )


def _service_events(root: Any, kind: codes.TrodKind) -> None:
    """One documentationOf per pathology screened (the kernel wrote the first one), then the consent."""
    first = root.find(f"{{{cda.NS}}}documentationOf")
    first.find(f"{{{cda.NS}}}serviceEvent").set("classCode", "ACT")
    previous = first
    for code, display in kind.service_events[1:]:
        other = copy.deepcopy(first)
        event_code = other.find(f"{{{cda.NS}}}serviceEvent/{{{cda.NS}}}code")
        event_code.set("code", code)
        event_code.set("displayName", display)
        previous.addnext(other)
        previous = other
    authorization = etree.Element(f"{{{cda.NS}}}authorization", typeCode="AUTH")
    consent = cda.el(authorization, "consent", classCode="CONS", moodCode="EVN")
    cda.coded(consent, "code", codes.CONSENT[0], codes.CONSENT[1], codes.OID_TA_ASIP, "TA_ASIP")
    cda.el(consent, "statusCode", code="completed")
    previous.addnext(authorization)


def _narrative(section: Any, trod: Trod) -> None:
    text = cda.el(section, "text")
    table = cda.el(text, "table", border="0")
    head = cda.el(cda.el(table, "thead"), "tr")
    for label in ("Pathologie/Substance dépistée", "Résultat", "Commentaire / Contexte"):
        cda.el(head, "th", label)
    body = cda.el(table, "tbody")
    for index, observation in enumerate(trod.kind.observations, start=1):
        row = cda.el(body, "tr")
        cda.el(cda.el(row, "td"), "content", observation.label_fr, ID=f"examen-{index}")
        cda.el(cda.el(row, "td"), "content", trod.results[observation.code].label_fr, ID=f"resultat-{index}")
        cda.el(cda.el(row, "td"), "content", trod.comment or "—", ID=f"commentaire-{index}")
    cda.el(text, "br")
    device = cda.el(text, "table", border="0")
    head = cda.el(cda.el(device, "thead"), "tr")
    cda.el(head, "th", "Code UDI du dispositif utilisé")
    cda.el(head, "th", "Fabricant | Référence | N° de lot | Date de péremption")
    row = cda.el(cda.el(device, "tbody"), "tr")
    cda.el(row, "td", trod.device.udi or "—")
    cda.el(cda.el(row, "td"), "content", trod.device.description_fr, ID="dispositif-nom-reference")


def _device(act: Any, device: Device) -> None:
    role = cda.el(cda.el(act, "participant", typeCode="DEV"), "participantRole", classCode="MANU")
    if device.udi:
        cda.el(role, "id", root=codes.OID_GS1_UDI, extension=device.udi)
    playing = cda.el(role, "playingDevice", classCode="DEV", determinerCode="INSTANCE")
    cda.el(cda.el(cda.el(playing, "code"), "originalText"), "reference", value="#dispositif-nom-reference")


def _observation(act: Any, index: int, observation: codes.Observation, trod: Trod) -> None:
    result = trod.results[observation.code]
    entry = cda.el(cda.el(act, "entryRelationship", typeCode="COMP"), "observation", classCode="OBS", moodCode="EVN")
    cda.el(entry, "templateId", root="1.3.6.1.4.1.19376.1.3.1.6")
    cda.el(entry, "templateId", root="1.2.250.1.213.1.1.3.80")
    code = cda.coded(entry, "code", observation.code, observation.display, codes.OID_LOINC, "LOINC")
    cda.el(cda.el(code, "originalText"), "reference", value=f"#examen-{index}")
    cda.el(entry, "statusCode", code="completed")
    cda.el(entry, "effectiveTime", value=cda.ts(trod.tested_at))
    value = cda.coded(entry, "value", result.value, result.label_fr, codes.OID_SNOMED, "SNOMED CT", xsi_type="CD")
    cda.el(cda.el(value, "originalText"), "reference", value=f"#resultat-{index}")
    if trod.comment:
        comment = cda.el(cda.el(entry, "entryRelationship", typeCode="SUBJ"), "act", classCode="ACT", moodCode="EVN")
        for template in ("2.16.840.1.113883.10.20.1.40", "1.3.6.1.4.1.19376.1.5.3.1.4.2", "1.2.250.1.213.1.1.3.32"):
            cda.el(comment, "templateId", root=template)
        cda.coded(comment, "code", "48767-8", "Commentaire", codes.OID_LOINC, "LOINC")
        cda.el(cda.el(comment, "text"), "reference", value=f"#commentaire-{index}")
        cda.el(comment, "statusCode", code="completed")


def _section(trod: Trod) -> Any:
    section = etree.Element(f"{{{cda.NS}}}section")
    cda.el(section, "templateId", root="1.3.6.1.4.1.19376.1.3.3.2.1")
    cda.el(section, "templateId", root="1.2.250.1.213.1.1.2.70")
    cda.coded(section, "code", trod.kind.section[0], trod.kind.section[1], codes.OID_LOINC, "LOINC")
    cda.el(section, "title", "Résultat du test rapide d'orientation diagnostique")
    _narrative(section, trod)
    entry = cda.el(section, "entry", typeCode="DRIV")
    cda.el(entry, "templateId", root="1.3.6.1.4.1.19376.1.3.1")
    cda.el(entry, "templateId", root="1.2.250.1.213.1.1.3.21")
    act = cda.el(entry, "act", classCode="ACT", moodCode="EVN")
    cda.coded(act, "code", trod.kind.act[0], trod.kind.act[1], codes.OID_LOINC, "LOINC")
    cda.el(act, "statusCode", code="completed")
    _device(act, trod.device)
    for index, observation in enumerate(trod.kind.observations, start=1):
        _observation(act, index, observation, trod)
    return section


def screening_header(header: cda.CdaHeader, kind: codes.TrodKind, tested_at: datetime) -> cda.CdaHeader:
    """The kernel's header for an attestation: the first pathology as the service event, DEPISTAGE setting."""
    organisation = replace(header.organisation, practice_setting=("DEPISTAGE", "Dépistage"))
    code, display = kind.service_events[0]
    return replace(
        header,
        organisation=organisation,
        service_start=tested_at,
        service_stop=tested_at,
        service_event_code=(code, display, codes.OID_CIM10),
    )


def build(header: cda.CdaHeader, trod: Trod) -> bytes:
    """The BIO-TROD document: the kernel's header (see :func:`screening_header`) and the result section."""
    missing = [o.code for o in trod.kind.observations if o.code not in trod.results]
    if missing:
        raise ValueError(f"results missing for {missing}")
    trod = replace(
        trod,
        comment=xml_text(trod.comment),
        device=replace(
            trod.device,
            maker=xml_text(trod.device.maker),
            reference=xml_text(trod.device.reference),
            lot=xml_text(trod.device.lot),
        ),
    )
    root = cda.build_header(header)
    _templates(root)
    _service_events(root, trod.kind)
    body = cda.el(cda.el(root, "component"), "structuredBody")
    cda.el(body, "component").append(_section(trod))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
