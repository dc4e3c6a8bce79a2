"""The operator's signed SAML 2.0 assertion (authentication INSI-MANU), put in the WS-Security header.

The signing key comes from a file (:class:`FileSigner`) or from the operator's CPS (plugin ``cards``, whose card
key never leaves the card): the signer hands a ``cryptography`` private key object, which signxml uses as is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lgo.api import OperatorSigner
from lxml import etree

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"


#: What signs the assertion: the kernel's operator signer (a CPS through ``cards``) or a :class:`FileSigner`.
Signer = OperatorSigner


@dataclass(frozen=True)
class FileSigner:
    certificate_path: str
    key_path: str

    @property
    def certificate_pem(self) -> bytes:
        with open(self.certificate_path, "rb") as handle:
            return handle.read()

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        with open(self.key_path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the operator's key must be RSA")
        return key


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
    from signxml import XMLSigner, methods

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
    signed = XMLSigner(
        method=methods.enveloped,
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    ).sign(root, key=signer.private_key, cert=[certificate], reference_uri=assertion_id, id_attribute="ID")
    return signed
