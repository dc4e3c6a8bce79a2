"""The operator's signed SAML 2.0 assertion (authentication INSI-MANU), put in the WS-Security header.

Signed with the kernel's one signer shape (:class:`lgo.api.Signer`): the operator's CPS (plugin ``cards``, whose key
never leaves the card, handed over by ``kernel.operator_signer``) or, for tests and scripts, a certificate and key
read from PEM files (``lgo.api.KeySigner.from_pem_files``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from lgo.api import Signer, xml_signature
from lxml import etree

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"


def _issuer(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def holder_id(signer: Signer) -> str:
    """The national id of the card holder (``CN`` of a CPS certificate: ``8`` + RPPS)."""
    from cryptography.x509.oid import NameOID

    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    values = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


def build(signer: Signer, *, national_id: str, billing_id: str, activity_sector: str = "SA33") -> Any:
    """A signed assertion: issuer = the card's subject, subject = the professional's national id (8 + RPPS)."""
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    nsmap: Any = {None: SAML, "ds": DS}
    assertion_id = f"_{uuid.uuid4()}"
    root = etree.Element(
        f"{{{SAML}}}Assertion",
        nsmap=nsmap,
        ID=assertion_id,
        Version="2.0",
        IssueInstant=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    issuer = etree.SubElement(
        root, f"{{{SAML}}}Issuer", Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    )
    issuer.text = _issuer(certificate)
    etree.SubElement(root, f"{{{DS}}}Signature", Id="placeholder")
    subject = etree.SubElement(root, f"{{{SAML}}}Subject")
    name_id = etree.SubElement(subject, f"{{{SAML}}}NameID", NameQualifier="CPS")
    name_id.text = national_id
    statement = etree.SubElement(root, f"{{{SAML}}}AttributeStatement")
    for name, value in (("identifiantFacturation", billing_id), ("secteurActivite", activity_sector)):
        attribute = etree.SubElement(statement, f"{{{SAML}}}Attribute", Name=name)
        etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value
    return xml_signature.sign_enveloped(signer, root, reference_uri=assertion_id, id_attribute="ID")
