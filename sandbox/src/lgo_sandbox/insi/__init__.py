"""The INSi sandbox: SOAP 1.2 over HTTPS with client certificates, answering from recorded responses.

``start_insi_sandbox(authority, responses_dir=..., schemas_dir=...)`` starts it on loopback and returns
``(server, sandbox)``. The sandbox

* refuses a client certificate whose CN is not INSI-AUTO or INSI-MANU, and an unknown authorisation number
  (ContexteLPS/LPS/IDAM), with SOAP faults shaped like the recorded one (siram_100 / desir_55x);
* validates the body and the ContexteLPS / ContexteBAM headers against the official XSDs when ``schemas_dir`` is
  given (the ``wsdl/xsd`` folder of the conformance material);
* answers from a directory of recorded responses: a response with an identity answers for its birth name, each of
  its first names and its birth date (and for the NIR of its INSACTIF in a carte Vitale search); a file whose name
  contains ``CR02`` answers for the birth name ``HOMONYME``; anything else gets the ``CR01`` file (no identity);
* can be told to be slow (``delay_seconds``) or down (``down``: HTTP 503).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_RESULTAT = "http://www.cnamts.fr/INSiResultat"
NS_RECSANS = "http://www.cnamts.fr/INSiRecSans"
NS_RECVIT = "http://www.cnamts.fr/INSiRecVit"
NS_CTXLPS = "urn:siram:lps:ctxlps"
NS_CTXBAM = "urn:siram:bam:ctxbam"
PACKAGED = Path(__file__).parent / "responses"
ALLOWED_CN = ("INSI-AUTO", "INSI-MANU")

_FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    "<soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode>"
    "<soap:Value>soap:{subcode}</soap:Value></soap:Subcode></soap:Code><soap:Reason>"
    '<soap:Text xml:lang="fr">{reason}</soap:Text></soap:Reason><soap:Detail>'
    '<siram:Erreur code="{code}" messageID="{message_id}" severite="erreur" xmlns:siram="urn:siram">{text}'
    "</siram:Erreur></soap:Detail></soap:Fault></soap:Body></soap:Envelope>"
)


def _plain(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper().strip()


def _fault(subcode: str, code: str, reason: str, text: str, message_id: str = "") -> bytes:
    from xml.sax.saxutils import escape, quoteattr

    return _FAULT.format(
        subcode=subcode, code=code, reason=escape(reason), text=escape(text), message_id=quoteattr(message_id)[1:-1]
    ).encode()


@dataclass
class InsiSandbox:
    responses_dir: Path = PACKAGED
    schemas_dir: Path | None = None
    known_idams: frozenset[str] = frozenset({"LGO-LIBRE-TEST"})
    #: Test authority whose certificates may sign an operator assertion (INSI-MANU).
    ca_path: Path | None = None
    delay_seconds: float = 0.0
    down: bool = False
    #: Every request received (the raw bytes), for the tests.
    requests: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_traits: dict[tuple[str, str, str], bytes] = {}
        self._by_nir: dict[str, bytes] = {}
        self._homonyms: bytes | None = None
        self._not_found: bytes | None = None
        for path in sorted(Path(self.responses_dir).glob("*.xml")):
            self._index(path.name, path.read_bytes())
        self._schemas: dict[str, Any] = {}
        if self.schemas_dir is not None:
            base = Path(self.schemas_dir)
            for key, relative in (
                ("RECSANSVITALE", "ServiceIdentiteCertifiee/INSi_RECSANS_INS.xsd"),
                ("RECVITALE", "ServiceIdentiteCertifiee/INSi_RECVITALE_INS.xsd"),
                ("ContexteLPS", "CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd"),
                ("ContexteBAM", "CTX/ROOT_ctxbam_CTXBAM_V01_02.xsd"),
            ):
                self._schemas[key] = etree.XMLSchema(etree.parse(str(base / relative)))

    def _index(self, name: str, content: bytes) -> None:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
        ns = f"{{{NS_RESULTAT}}}"
        code = root.findtext(f".//{ns}CodeCR")
        if code == "01":
            self._not_found = self._not_found or content
        if code == "02" or "CR02" in name:
            self._homonyms = content
        for individual in root.iter(f"{ns}INDIVIDU"):
            tiq = individual.find(f"{ns}TIQ")
            if tiq is None:
                continue
            names = {_plain(n) for n in (tiq.findtext(f"{ns}ListePrenom") or "").split()}
            if tiq.findtext(f"{ns}Prenom"):
                names.add(_plain(tiq.findtext(f"{ns}Prenom") or ""))
            names.add(_plain(tiq.findtext(f"{ns}ListePrenom") or ""))
            birth_name = _plain(tiq.findtext(f"{ns}NomNaissance") or "")
            birth_date = tiq.findtext(f"{ns}DateNaissance") or ""
            for first in names:
                self._by_traits.setdefault((birth_name, first, birth_date), content)
            nir = individual.findtext(f"{ns}INSACTIF/{ns}IdIndividu/{ns}NumIdentifiant")
            if nir:
                self._by_nir.setdefault(nir, content)

    # -- WSGI ---------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.down:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"INSi indisponible (bac a sable)"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, 1_000_000))
        self.requests.append(body)
        status, answer = self.answer(body, environ.get("lgo.peer_certificate"))
        start_response(
            status, [("Content-Type", "application/soap+xml; charset=utf-8"), ("Content-Length", str(len(answer)))]
        )
        return [answer]

    def answer(self, request: bytes, peer_certificate: bytes | None) -> tuple[str, bytes]:
        from cryptography import x509

        from lgo_sandbox.pki import common_name

        cn = common_name(x509.load_der_x509_certificate(peer_certificate)) if peer_certificate else None
        if cn not in ALLOWED_CN:
            return "500 Internal Server Error", _fault(
                "siram_100",
                "desir_551",
                "L'accès au service n'est pas autorisé avec ce certificat.",
                f"Certificat d'authentification refusé (CN={cn}) : INSI-AUTO ou INSI-MANU attendu.",
            )
        try:
            root = etree.fromstring(request, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            return "500 Internal Server Error", _fault("siram_10", "desir_100", "Requête illisible.", str(exc))
        message_id = root.findtext(".//{http://www.w3.org/2005/08/addressing}MessageID") or ""
        problems = self._validate(root)
        if problems:
            return "500 Internal Server Error", _fault(
                "siram_10", "desir_101", "La requête n'est pas conforme au schéma du service.", problems, message_id
            )
        refused = self._check_assertion(root, cn)
        if refused:
            return "500 Internal Server Error", _fault(
                "siram_100",
                "desir_552",
                "L'assertion d'authentification du professionnel est refusée.",
                refused,
                message_id,
            )
        idam = root.findtext(f".//{{{NS_CTXLPS}}}IDAM") or ""
        if idam not in self.known_idams:
            return "500 Internal Server Error", _fault(
                "siram_100",
                "desir_550",
                "L'accès par ce progiciel au service n'est pas autorisé. Contactez "
                "l'éditeur du progiciel ou votre responsable informatique.",
                "Numéro d'autorisation du logiciel inconnu.",
                message_id,
            )
        return "200 OK", self._lookup(root)

    def _check_assertion(self, root: Any, cn: str | None) -> str:
        """INSI-MANU requires the professional's signed SAML assertion in WS-Security."""
        assertion = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        if assertion is None:
            return "Assertion SAML absente (authentification INSI-MANU)." if cn == "INSI-MANU" else ""
        from signxml import XMLVerifier

        try:
            verified = XMLVerifier().verify(
                assertion,
                ca_pem_file=str(self.ca_path) if self.ca_path else None,
                id_attribute="ID",
                expect_references=1,
            )
        except Exception as exc:  # signxml raises several kinds; all mean "refused"
            return f"Signature de l'assertion invalide : {type(exc).__name__}: {exc}"
        assert not isinstance(verified, list)  # expect_references=1: one result
        # The professional named in the assertion is the holder of the card that signed it.
        subject = (
            verified.signed_xml.findtext(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
            if verified.signed_xml is not None
            else None
        )
        signer = verified.signature_xml.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
        if subject and signer:
            from cryptography import x509

            from lgo_sandbox.pki import common_name

            if common_name(x509.load_der_x509_certificate(base64.b64decode(signer))) != subject:
                return f"Assertion : le professionnel {subject} n'est pas le titulaire de la carte qui a signé."
        return ""

    def _validate(self, root: Any) -> str:
        if not self._schemas:
            return ""
        problems = []
        for name in ("ContexteLPS", "ContexteBAM", "RECSANSVITALE", "RECVITALE"):
            element = next(
                iter(
                    root.iter(
                        f"{{{NS_CTXLPS}}}{name}",
                        f"{{{NS_CTXBAM}}}{name}",
                        f"{{{NS_RECSANS}}}{name}",
                        f"{{{NS_RECVIT}}}{name}",
                    )
                ),
                None,
            )
            if element is None:
                if name in ("ContexteLPS", "ContexteBAM"):
                    problems.append(f"{name} absent")
                continue
            schema = self._schemas[name]
            if not schema.validate(etree.ElementTree(element)):
                problems.append(f"{name}: {schema.error_log.last_error}")
        return "; ".join(problems)

    def _lookup(self, root: Any) -> bytes:
        ns = f"{{{NS_RECSANS}}}"
        traits = root.find(f".//{ns}RECSANSVITALE")
        if traits is not None:
            birth_name = _plain(traits.findtext(f"{ns}NomNaissance") or "")
            if birth_name == "HOMONYME" and self._homonyms is not None:
                return self._homonyms
            key = (
                birth_name,
                _plain(traits.findtext(f"{ns}Prenom") or ""),
                traits.findtext(f"{ns}DateNaissance") or "",
            )
            found = self._by_traits.get(key)
        else:
            vns = f"{{{NS_RECVIT}}}"
            nir = root.findtext(f".//{vns}MatriculeOD/{vns}NumIdentifiant") or ""
            found = self._by_nir.get(nir)
        return found or self._not_found or (PACKAGED / "demo_CR01_aucune_identite.xml").read_bytes()


def start_insi_sandbox(authority: Any, **options: Any) -> tuple[Any, InsiSandbox]:
    """Start the sandbox on loopback over TLS with client certificates: ``(server, sandbox)``."""
    from lgo_sandbox.pki import server_context
    from lgo_sandbox.tls import BackgroundServer

    options.setdefault("ca_path", Path(authority.ca_path))
    sandbox = InsiSandbox(**options)
    server = BackgroundServer(sandbox, ssl_context=server_context(authority.server("insi")))
    server.start()
    return server, sandbox
