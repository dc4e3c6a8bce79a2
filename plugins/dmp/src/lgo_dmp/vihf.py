"""The VIHF: a SAML 2.0 assertion signed with the pharmacy's organisation certificate (authentification
indirecte), carrying the attributes of the DMP mapping table (IG transmission CDA, "Mapping VIHF pour le DMP")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from lgo.api import Signer, identifiers, xml_signature
from lxml import etree

from lgo_dmp.signature import DS

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

VIHF_VERSION = "4.0"
ATTR_RESOURCE = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
ATTR_SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
ATTR_ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
ATTR_PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
#: What the DMP requires in every VIHF (the sandbox refuses a token without one of them).
REQUIRED_ATTRIBUTES = (
    "VIHF_Version",
    "Authentification_Mode",
    "Identifiant_Structure",
    "Secteur_Activite",
    ATTR_RESOURCE,
    ATTR_SUBJECT_ID,
    ATTR_ROLE,
    ATTR_PURPOSE,
    "LPS_Nom",
    "LPS_Version",
    "LPS_ID",
)

CNOP_SECTIONS = {
    "A": "Pharmacien titulaire d'officine",
    "D": "Pharmacien adjoint, remplaçant ou gérant",
    "DA": "Pharmacien adjoint",
}


@dataclass(frozen=True)
class VihfContext:
    """Who acts: the pharmacist (RPPS) on behalf of the pharmacy (FINESS), for which patient (XDS patient id)."""

    structure_id: str  # "1" + FINESS (or "3" + SIRET)
    rpps: str
    family: str
    given: str
    patient_id: str  # INS^^^&OID&ISO^NH
    facility_type: str = "SA33"
    lps_name: str = "LGO libre"
    lps_version: str = "0.1.0"
    lps_id: str = "1.2.250.1.999.1"
    lps_homologation: str = "LGO-LIBRE-TEST"
    purpose: str = "normal"
    #: CNOP section (TRE_G05): A titulaire d'officine, DA adjoint, D adjoint/remplaçant/gérant.
    cnop_section: str = "A"


def _nsmap(default: str, **prefixed: str) -> Any:
    return {None: default, **prefixed}


def build_vihf(signer: Signer, context: VihfContext, *, now: datetime | None = None, omit: tuple[str, ...] = ()) -> Any:
    """The signed ``saml:Assertion`` (``omit`` leaves out attributes, for tests of the refusal)."""
    now = now or datetime.now(UTC)
    instant = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assertion_id = f"_{uuid.uuid4()}"
    assertion = etree.Element(
        f"{{{SAML}}}Assertion", nsmap=_nsmap(SAML, xsi=XSI), ID=assertion_id, IssueInstant=instant, Version="2.0"
    )
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    issuer = etree.SubElement(
        assertion, f"{{{SAML}}}Issuer", Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    )
    issuer.text = certificate.subject.rfc4514_string()
    etree.SubElement(assertion, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
    subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
    etree.SubElement(subject, f"{{{SAML}}}NameID").text = identifiers.idnat_ps(context.rpps)
    conditions = etree.SubElement(assertion, f"{{{SAML}}}Conditions")
    conditions.set("NotBefore", (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    conditions.set("NotOnOrAfter", (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    authn = etree.SubElement(assertion, f"{{{SAML}}}AuthnStatement", AuthnInstant=instant)
    etree.SubElement(
        etree.SubElement(authn, f"{{{SAML}}}AuthnContext"), f"{{{SAML}}}AuthnContextClassRef"
    ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
    statement = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")

    def attribute(name: str, value: str | None = None) -> Any:
        element = etree.SubElement(statement, f"{{{SAML}}}Attribute", Name=name)
        holder = etree.SubElement(element, f"{{{SAML}}}AttributeValue")
        if value is not None:
            holder.text = value
        return holder

    def coded(name: str, tag: str, code: str, system: str, display: str) -> None:
        holder = attribute(name)
        value = etree.SubElement(
            holder, f"{{{HL7}}}{tag}", nsmap=_nsmap(HL7), code=code, codeSystem=system, displayName=display
        )
        value.set(f"{{{XSI}}}type", "CE")

    values: list[tuple[str, Any]] = [
        ("VIHF_Version", lambda: attribute("VIHF_Version", VIHF_VERSION)),
        ("Authentification_Mode", lambda: attribute("Authentification_Mode", "INDIRECTE")),
        ("Identifiant_Structure", lambda: attribute("Identifiant_Structure", context.structure_id)),
        ("Secteur_Activite", lambda: attribute("Secteur_Activite", f"{context.facility_type}^1.2.250.1.71.4.2.4")),
        (ATTR_RESOURCE, lambda: attribute(ATTR_RESOURCE, context.patient_id)),
        ("Ressource_URN", lambda: attribute("Ressource_URN", "urn:dmp")),
        (ATTR_SUBJECT_ID, lambda: attribute(ATTR_SUBJECT_ID, f"{context.family} {context.given}")),
        ("LPS_Nom", lambda: attribute("LPS_Nom", context.lps_name)),
        ("LPS_Version", lambda: attribute("LPS_Version", context.lps_version)),
        ("LPS_ID", lambda: attribute("LPS_ID", context.lps_id)),
        ("LPS_ID_HOMOLOGATION_DMP", lambda: attribute("LPS_ID_HOMOLOGATION_DMP", context.lps_homologation)),
        (
            ATTR_PURPOSE,
            lambda: coded(ATTR_PURPOSE, "PurposeOfUse", context.purpose, "1.2.250.1.213.1.1.4.248", "Accès normal"),
        ),
        (ATTR_ROLE, lambda: coded(ATTR_ROLE, "Role", "21", "1.2.250.1.71.1.2.7", "Pharmacien")),
    ]
    for name, add in values:
        if name not in omit:
            add()
    if ATTR_ROLE not in omit:
        # Second occurrence, required for pharmacists: the CNOP section (A: titulaire d'officine).
        coded(
            ATTR_ROLE,
            "Role",
            context.cnop_section,
            "1.2.250.1.71.4.2.6",
            CNOP_SECTIONS.get(context.cnop_section, "Pharmacien"),
        )
    return xml_signature.sign_enveloped(signer, assertion, reference_uri=f"#{assertion_id}")
