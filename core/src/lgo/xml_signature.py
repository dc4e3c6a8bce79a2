"""XML signatures for the national services, in one place: the INSi assertion (INSI-MANU), the DMP's VIHF and the
XAdES signature of a DMP submission set.

One signer shape serves them all, :class:`Signer`: a certificate (PEM) and a ``cryptography`` RSA private key. The key
may be held in memory (the pharmacy's certificate, :meth:`KeySigner.from_credential`) or live on a card (the ``cards``
plugin implements ``RSAPrivateKey`` with the CPS, whose key never leaves it): signxml only calls ``sign`` on it. The
algorithms are those the services require: RSA-SHA256, SHA-256 digests, exclusive canonicalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from lgo.errors import ValidationError

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


class Signer(Protocol):
    """What signs: the certificate, PEM (its chain may follow), and the RSA private key (in memory or on a card)."""

    @property
    def certificate_pem(self) -> bytes: ...

    @property
    def private_key(self) -> rsa.RSAPrivateKey: ...


@dataclass(frozen=True)
class KeySigner:
    """A certificate and its key held in memory."""

    certificate_pem: bytes
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def from_credential(cls, credential: Any) -> KeySigner:
        """From a :class:`lgo.domain.certificates.ClientCredential` (the pharmacy's organisation certificate)."""
        if not isinstance(credential.private_key, rsa.RSAPrivateKey):
            raise ValidationError(
                "Le certificat doit porter une clé RSA pour signer les envois aux services nationaux.",
                detail=f"key type {type(credential.private_key).__name__}",
            )
        return cls(credential.cert_pem(), credential.private_key)

    @classmethod
    def from_pem_files(cls, cert_path: Path | str, key_path: Path | str) -> KeySigner:
        from lgo.domain.certificates import read_pem_files

        return cls.from_credential(read_pem_files(cert_path, key_path))


def sign_enveloped(
    signer: Signer, element: Any, *, reference_uri: str | None = None, id_attribute: str | None = None
) -> Any:
    """An enveloped signature of ``element`` (put where its ``ds:Signature Id="placeholder"`` is, if any)."""
    from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, methods

    xml_signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )
    options: dict[str, Any] = {"reference_uri": reference_uri}
    if id_attribute is not None:
        options["id_attribute"] = id_attribute
    return xml_signer.sign(element, key=signer.private_key, cert=signer.certificate_pem.decode(), **options)


def sign_xades_enveloping(signer: Signer, element: Any, *, signature_properties: Any | None = None) -> Any:
    """An enveloping XAdES signature (SigningTime, SigningCertificate) of ``element``, with optional
    ``ds:SignatureProperty`` elements (e.g. the purpose of the signature)."""
    from signxml import DigestAlgorithm, SignatureMethod, methods
    from signxml.xades import XAdESSigner

    xades = XAdESSigner(
        method=methods.enveloping,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
    )
    return xades.sign(
        element,
        key=signer.private_key,
        cert=signer.certificate_pem.decode(),
        signature_properties=signature_properties,
    )
