"""``SIGN.XML``: the XAdES signature of an export with the pharmacy's certificate, and its verification.

The signature envelops a ``ds:Manifest`` (``Id="manifest"``) whose references are the SHA-256 digests of
``MANIFEST.XML`` and ``TRANSVERSE.ZIP``; ``MANIFEST.XML`` lists every patient archive with its own SHA-256, so each
patient's data is covered through it without the signature growing with the number of patients (decision 1500).
XAdES-BES: SigningTime and SigningCertificateV2 (signxml), RSA-SHA256, exclusive canonicalisation.

Verification (:func:`verify`) checks, before anything is read from the archive: the signature value with the
certificate it carries, the XAdES properties, the digests of the manifest's references against the files, that
the certificate names the exported pharmacy (its FINESS) and was issued by the IGC-Santé (a test authority only for
a pharmacy in test mode); with ``authorities`` (PEM), the certificate's chain is checked up to one of them too.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from lgo.portability.safezip import ArchiveRefused
from lgo.safe_xml import parse_untrusted
from lgo.xml_signature import DS, Signer

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
#: The files the signature names, in this order.
SIGNED_FILES = ("MANIFEST.XML", "TRANSVERSE.ZIP")


def sign(signer: Signer, digests: Mapping[str, str]) -> bytes:
    """SIGN.XML over ``digests`` (file name → SHA-256 hex)."""
    from lgo.xml_signature import sign_xades_enveloping

    manifest = etree.Element(f"{{{DS}}}Manifest", nsmap={"ds": DS}, Id="manifest")
    for name in SIGNED_FILES:
        reference = etree.SubElement(manifest, f"{{{DS}}}Reference", URI=name)
        etree.SubElement(reference, f"{{{DS}}}DigestMethod", Algorithm=SHA256)
        etree.SubElement(reference, f"{{{DS}}}DigestValue").text = base64.b64encode(
            bytes.fromhex(digests[name])
        ).decode()
    signature = sign_xades_enveloping(signer, manifest)
    return bytes(etree.tostring(signature, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class SignatureCheck:
    """What the verification established, for the report."""

    signer_fr: str
    finess: str | None
    authority: str
    #: The SHA-256 (hex) the signed manifest gives each signed file.
    digests: dict[str, str]
    chain_checked: bool


def verify(
    data: bytes,
    *,
    expected_finess: str,
    test_mode: bool,
    digest_of: Callable[[str], str],
    authorities: bytes | None = None,
) -> SignatureCheck:
    """Verify SIGN.XML (see the module's docstring); ``digest_of(name)`` is the SHA-256 of a file of the archive.
    Raises a French :class:`ArchiveRefused`."""
    from cryptography import x509
    from signxml.xades import XAdESVerifier

    from lgo.domain.certificates import describe_name, finess_of, review

    root = _parse(data)
    pems = [text for text in root.xpath("//ds:KeyInfo//ds:X509Certificate/text()", namespaces={"ds": DS})]
    if not pems:
        raise ArchiveRefused("SIGN.XML ne contient pas de certificat : la signature est refusée.", detail="no cert")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode("".join(pems[0].split())))
    except ValueError as exc:
        raise ArchiveRefused(
            "Le certificat de SIGN.XML est illisible : la signature est refusée.", detail=repr(exc)
        ) from exc
    try:
        results = XAdESVerifier().verify(data, x509_cert=certificate, expect_references=3)
    except Exception as exc:  # signxml raises several kinds; all mean the same to the pharmacist
        raise ArchiveRefused(
            "La signature de l'archive (SIGN.XML) est invalide : son contenu a été modifié ou elle ne correspond pas "
            "au certificat. L'archive est refusée.",
            detail=f"signature: {exc!r}",
        ) from exc
    digests = _signed_digests(results)
    for name in SIGNED_FILES:
        if name not in digests:
            raise ArchiveRefused(
                f"La signature ne couvre pas {name} : l'archive est refusée.", detail=f"{name} not referenced"
            )
        if digest_of(name) != digests[name]:
            raise ArchiveRefused(
                f"{name} a été modifié après la signature (empreinte SHA-256 différente) : l'archive est refusée.",
                detail=f"{name}: digest mismatch",
            )
    subject = certificate.subject.rfc4514_string()
    issuer = certificate.issuer.rfc4514_string()
    reviewed = review(subject, issuer, pharmacy_finess=expected_finess, test_mode=test_mode)
    signer_finess = finess_of(certificate.subject)
    if signer_finess != expected_finess:
        raise ArchiveRefused(
            f"L'archive est signée par le certificat d'un autre établissement (FINESS {signer_finess or 'absent'}, "
            f"archive de l'officine {expected_finess}) : elle est refusée.",
            detail=f"signer {subject}",
        )
    if reviewed.authority not in ("igc-sante", "igc-sante-test") or (
        reviewed.authority == "igc-sante-test" and not test_mode
    ):
        raise ArchiveRefused(
            f"Le certificat de signature n'est pas émis par l'IGC-Santé ({describe_name(issuer)}) : l'archive est "
            "refusée.",
            detail=f"issuer {issuer}, authority {reviewed.authority}, test_mode {test_mode}",
        )
    chain_checked = False
    if authorities is not None:
        _check_chain(certificate, [x509.load_der_x509_certificate(base64.b64decode(p)) for p in pems[1:]], authorities)
        chain_checked = True
    return SignatureCheck(describe_name(subject), signer_finess, reviewed.authority, digests, chain_checked)


def _parse(data: bytes) -> Any:
    try:
        return parse_untrusted(data, what="SIGN.XML")
    except Exception as exc:
        raise ArchiveRefused("SIGN.XML n'est pas un XML lisible : la signature est refusée.", detail=repr(exc)) from exc


def _signed_digests(results: Any) -> dict[str, str]:
    """The manifest's references, read from what the signature covers (never from the raw file: a second manifest
    added beside the signed one must not count)."""
    digests: dict[str, str] = {}
    for result in results:
        signed = result.signed_xml
        if signed is None:
            continue
        for manifest in signed.iter(f"{{{DS}}}Manifest"):
            for reference in manifest.iterfind(f"{{{DS}}}Reference"):
                method = reference.find(f"{{{DS}}}DigestMethod")
                value = reference.findtext(f"{{{DS}}}DigestValue") or ""
                if method is None or method.get("Algorithm") != SHA256:
                    raise ArchiveRefused(
                        "SIGN.XML utilise un algorithme d'empreinte inattendu : la signature est refusée.",
                        detail=f"digest method {None if method is None else method.get('Algorithm')}",
                    )
                digests[reference.get("URI", "")] = base64.b64decode(value).hex()
    return digests


def _check_chain(certificate: Any, chain: list[Any], authorities: bytes) -> None:
    """The certificate issued by a certificate of its chain or by one of ``authorities`` (PEM), up to one of them."""
    from cryptography import x509

    roots = x509.load_pem_x509_certificates(authorities)
    current = certificate
    pool = chain + roots
    for _ in range(8):
        if any(current == root for root in roots):
            return
        issuer = next((c for c in pool if c.subject == current.issuer and c != current), None)
        if issuer is None:
            break
        try:
            current.verify_directly_issued_by(issuer)
        except Exception as exc:
            raise ArchiveRefused(
                "Le certificat de signature n'est pas émis par les autorités de confiance fournies : l'archive est "
                "refusée.",
                detail=repr(exc),
            ) from exc
        current = issuer
    if not any(current == root for root in roots):
        raise ArchiveRefused(
            "Le certificat de signature ne remonte à aucune des autorités de confiance fournies : l'archive est "
            "refusée.",
            detail=f"chain ends at {current.subject.rfc4514_string()}",
        )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
