"""The sandbox DMP's WSGI application (see the package docstring)."""

from __future__ import annotations

import base64
import copy
import hashlib
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XOP = "http://www.w3.org/2004/08/xop/include"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDS = "urn:ihe:iti:xds-b:2007"

SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
#: The DMP's own status of a document the patient archived in Mon espace santé (CI-SIS).
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
STABLE_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
S_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
S_CONF = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
S_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
S_FACILITY = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
S_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
S_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
S_PATIENT = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
S_UNIQUE = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
UPDATE_STATUS = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
S_SET_PATIENT = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
S_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"

INS_OIDS = {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
#: The value sets the sandbox checks (subsets of the CI-SIS / DMP value sets the officine uses).
CLASS_CODES = {"10", "11", "43", "45", "52", "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"}
TYPE_CODES = {
    "87273-9",
    "78601-2",
    "56445-0",
    "11369-6",
    "60593-1",
    "93024-8",
    "61357-0",
    "75468-9",
    "96173-0",
    "83869-8",
    "75492-9",
    "E1762",
}
FORMAT_CODES = {
    "urn:ihe:iti:xds-sd:pdf:2008",
    "urn:asip:ci-sis:vac-note:2021",
    "urn:asip:ci-sis:vac:2019",
    "urn:ihe:pharm:dis:2010",
    "urn:asip:ci-sis:ppp:2023",
    "urn:ans:ci-sis:trod:2024",
    "http://www.w3.org/2000/09/xmldsig#",
}
#: formatCodes published after the JDV_J10 snapshot in ``../shared`` (2024-04-26): accepted on top of it
#: (decision 1202: the BIO-TROD 2024.01 volet's own formatCode).
FORMAT_CODES_SINCE_SNAPSHOT = {"urn:ans:ci-sis:trod:2024"}
#: Structured formats and the volet schematron the sandbox checks them against (when given a CDA checker).
STRUCTURED_FORMATS = {
    "urn:asip:ci-sis:vac-note:2021": "CI-SIS_VAC-NOTE_2023.01.sch",
    "urn:asip:ci-sis:vac:2019": "",
    "urn:ans:ci-sis:trod:2024": "CI-SIS_BIO-TROD_2024.01.sch",
    "urn:ihe:pharm:dis:2010": "CI-SIS_eDISP-MED_2024.01.sch",
}
#: Formats of level 1 documents (PDF body): the XDS-SD one, and the PPP's (decision 1300).
LEVEL1_FORMATS = {"urn:ihe:iti:xds-sd:pdf:2008", "urn:asip:ci-sis:ppp:2023"}
FACILITY_CODES = {"SA33", "SA41", "SA07"}
PRACTICE_CODES = {"AMBULATOIRE", "DEPISTAGE"}
CONFIDENTIALITY = {"N", "R", "V", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX", "MASQUE_PS"}
VIHF_REQUIRED = (
    "VIHF_Version",
    "Authentification_Mode",
    "Identifiant_Structure",
    "Secteur_Activite",
    "urn:oasis:names:tc:xacml:2.0:resource:resource-id",
    "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
    "urn:oasis:names:tc:xacml:2.0:subject:role",
    "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
    "LPS_Nom",
    "LPS_Version",
    "LPS_ID",
)


class Refusal(Exception):
    def __init__(self, code: str, message_fr: str, *, fault: bool = False) -> None:
        super().__init__(message_fr)
        self.code = code
        self.message_fr = message_fr
        self.fault = fault


@dataclass
class Entry:
    entry_uuid: str
    unique_id: str
    patient_id: str
    metadata: Any
    content: bytes
    status: str = APPROVED
    masking: list[str] = field(default_factory=list)


@dataclass
class SubmissionSet:
    """A submission set as registered: its package (with ``submissionTime``) and the entries it brought."""

    entry_uuid: str
    patient_id: str
    submission_time: str
    metadata: Any
    members: list[str] = field(default_factory=list)


class DmpSandbox:
    """WSGI app: ``/repository`` (ITI-41, ITI-43) and ``/registry`` (ITI-18, ITI-57)."""

    def __init__(
        self,
        ca_path: Path | str,
        *,
        failure_rate: float = 0.0,
        delay: float = 0.0,
        down: bool = False,
        cda_checker: Callable[[bytes, Sequence[str]], list[str]] | None = None,
        seed: int | None = None,
        repository_unique_id: str = "1.2.250.1.213.1.1.9.999",
        conformance_dir: Path | str | None = None,
    ) -> None:
        self.ca_certificate = x509.load_pem_x509_certificate(Path(ca_path).read_bytes())
        self.value_sets = official_value_sets(conformance_dir) if conformance_dir else {}
        self.failure_rate = failure_rate
        self.delay = delay
        self.down = down
        # Fault injection for the tests: answers lost after the request was carried out (the next N requests),
        # every request refused with one registry error, and patients the DMP has no record of.
        self.lose_answers = 0
        self.refusal: tuple[str, str] | None = None
        self.unknown_patients: set[str] = set()
        #: The SOAP action of every request read, in order (what a client's retry cost).
        self.requests: list[str] = []
        self.cda_checker = cda_checker
        self.repository_unique_id = repository_unique_id
        self.random = random.Random(seed)
        self.entries: dict[str, Entry] = {}
        self.submission_sets: dict[str, SubmissionSet] = {}
        #: Every association registered: ``(id, type, source, target)``.
        self.associations: list[tuple[str, str, str, str]] = []
        self.registrations: dict[str, int] = {}
        self.refusals: list[str] = []
        self._lock = threading.Lock()

    def documents(self) -> list[Entry]:
        """The registered documents (not the submission-set signatures)."""
        return [e for e in self.entries.values() if _is_document(e)]

    # --- WSGI ----------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.delay:
            time.sleep(self.delay)
        # The request is read whatever the answer: a 503 is then an answer, not a connection cut mid-request.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        if self.down:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Service DMP indisponible (maintenance)."]
        lost_answer = False
        if self.failure_rate and self.random.random() < self.failure_rate:
            if self.random.random() < 0.5:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
                return ["Service DMP momentanément indisponible.".encode()]
            lost_answer = True
        with self._lock:
            if self.lose_answers > 0:
                self.lose_answers -= 1
                lost_answer = True
        try:
            envelope, attachments = parse_message(environ.get("CONTENT_TYPE", ""), body)
            action = envelope.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action", "")
            self.requests.append(action or "?")
            request = envelope.find(f"{{{SOAP}}}Body")[0]
            path = environ.get("PATH_INFO", "")
            handlers = {
                ("/repository", "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"): self._iti41,
                ("/repository", "urn:ihe:iti:2007:RetrieveDocumentSet"): self._iti43,
                ("/registry", "urn:ihe:iti:2007:RegistryStoredQuery"): self._iti18,
                ("/registry", "urn:ihe:iti:2010:UpdateDocumentSet"): self._iti57,
            }
            handler = handlers.get((path, action or ""))
            if handler is None:
                raise Refusal(
                    "wsa:ActionNotSupported", f"Action « {action} » non prise en charge sur {path}.", fault=True
                )
            vihf = self._check_vihf(envelope, environ.get("lgo.peer_certificate"))
            if self.refusal is not None:
                raise Refusal(*self.refusal)
            if vihf["urn:oasis:names:tc:xacml:2.0:resource:resource-id"] in self.unknown_patients:
                raise Refusal("XDSUnknownPatientId", "Aucun DMP n'existe pour ce patient.")
            with self._lock:
                response, parts = handler(request, attachments, vihf)
        except Refusal as refusal:
            self.refusals.append(f"{refusal.code}: {refusal.message_fr}")
            if refusal.fault:
                return self._reply(
                    start_response, _fault("Sender", refusal.code, refusal.message_fr), {}, status="400 Bad Request"
                )
            response, parts = _registry_response(FAILURE, [(refusal.code, refusal.message_fr)]), {}
        except (etree.XMLSyntaxError, ValueError, IndexError, TypeError) as exc:
            return self._reply(
                start_response,
                _fault("Sender", "MessageIllisible", f"Message illisible : {exc}"),
                {},
                status="400 Bad Request",
            )
        if lost_answer:
            return self._reply(
                start_response,
                _fault("Receiver", "ErreurInterne", "Erreur interne du DMP, réessayez plus tard."),
                {},
                status="500 Internal Server Error",
            )
        return self._reply(start_response, response, parts)

    def _reply(
        self, start_response: Callable[..., Any], body: Any, parts: dict[str, bytes], status: str = "200 OK"
    ) -> Iterable[bytes]:
        envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
        etree.SubElement(envelope, f"{{{SOAP}}}Body").append(body)
        xml = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        if not parts:
            start_response(status, [("Content-Type", "application/soap+xml; charset=UTF-8")])
            return [xml]
        boundary = f"sandbox_{uuid.uuid4().hex}"
        chunks = [
            f"--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; "
            f'type="application/soap+xml"\r\nContent-ID: <root@sandbox>\r\n\r\n'.encode()
            + xml
            + b"\r\n"
        ]
        for cid, data in parts.items():
            chunks.append(
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Transfer-Encoding: binary\r\nContent-ID: <{cid}>\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        chunks.append(f"--{boundary}--\r\n".encode())
        start_response(
            status,
            [
                (
                    "Content-Type",
                    f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="<root@sandbox>"',
                )
            ],
        )
        return [b"".join(chunks)]

    # --- VIHF ----------------------------------------------------------------------------------------------

    def _verify_signature(
        self, element: Any, *, id_attribute: str | None = None, xades: bool = False
    ) -> x509.Certificate:
        from signxml import XMLVerifier
        from signxml.xades import XAdESVerifier

        signature = element.find(f"{{{DS}}}Signature") if element.tag != f"{{{DS}}}Signature" else element
        pem = signature.findtext(f".//{{{DS}}}X509Certificate") if signature is not None else None
        if not pem:
            raise Refusal("wsse:InvalidSecurity", "Jeton VIHF non signé.", fault=True)
        certificate = x509.load_der_x509_certificate(base64.b64decode(pem))
        try:
            certificate.verify_directly_issued_by(self.ca_certificate)
        except Exception as exc:
            raise Refusal(
                "wsse:InvalidSecurity",
                "Signature refusée : le certificat n'est pas émis par une autorité reconnue.",
                fault=True,
            ) from exc
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise Refusal("wsse:InvalidSecurity", "Signature refusée : certificat expiré.", fault=True)
        try:
            if xades:
                XAdESVerifier().verify(element, x509_cert=certificate)
            else:
                XMLVerifier().verify(element, x509_cert=certificate, id_attribute=id_attribute)
        except Exception as exc:
            import logging

            logging.getLogger(__name__).info("signature check failed: %r", exc)
            raise Refusal(
                "wsse:FailedCheck",
                "Signature invalide : le contenu signé a été modifié ou la signature ne correspond pas au certificat.",
                fault=True,
            ) from exc
        return certificate

    def _check_vihf(self, envelope: Any, peer_der: bytes | None) -> dict[str, str]:
        assertion = envelope.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security/{{{SAML}}}Assertion")
        if assertion is None:
            raise Refusal("wsse:InvalidSecurity", "Jeton VIHF absent de la requête.", fault=True)
        certificate = self._verify_signature(copy.deepcopy(assertion), id_attribute="ID")
        if (
            peer_der is not None
            and x509.load_der_x509_certificate(peer_der) != certificate
            and not self._signed_by_the_professional(assertion, certificate)
        ):
            raise Refusal(
                "wsse:InvalidSecurity",
                "Le VIHF doit être signé par le certificat de la connexion TLS "
                "(certificat d'organisation de la structure).",
                fault=True,
            )
        attributes: dict[str, str] = {}
        for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
            value = attribute.find(f"{{{SAML}}}AttributeValue")
            if value is None:
                continue
            text = (value.text or "").strip() or (value[0].get("code", "") if len(value) else "")
            attributes.setdefault(attribute.get("Name", ""), text)
        missing = [name for name in VIHF_REQUIRED if not attributes.get(name)]
        if missing:
            raise Refusal(
                "wsse:InvalidSecurity",
                f"VIHF incomplet : attribut obligatoire absent ({', '.join(missing)}).",
                fault=True,
            )
        if attributes["Authentification_Mode"] != "INDIRECTE":
            raise Refusal(
                "wsse:InvalidSecurity", "Mode d'authentification du VIHF non accepté (INDIRECTE attendu).", fault=True
            )
        if peer_der is not None:
            from cryptography.x509.oid import NameOID

            units = [str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
            if units and attributes["Identifiant_Structure"] not in {f"1{unit}" for unit in units}:
                raise Refusal(
                    "wsse:InvalidSecurity",
                    "Identifiant_Structure du VIHF différent de la structure du certificat d'organisation.",
                    fault=True,
                )
        conditions = assertion.find(f"{{{SAML}}}Conditions")
        if conditions is not None:
            now_text = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if not conditions.get("NotBefore", "") <= now_text < conditions.get("NotOnOrAfter", "9999"):
                raise Refusal("wsse:InvalidSecurity", "Jeton VIHF hors de sa période de validité.", fault=True)
        self._check_patient(attributes["urn:oasis:names:tc:xacml:2.0:resource:resource-id"], fault=True)
        return attributes

    @staticmethod
    def _signed_by_the_professional(assertion: Any, certificate: x509.Certificate) -> bool:
        """A VIHF may also be signed by the acting professional's CPS (its CN is the VIHF's subject, 8 + RPPS)."""
        from cryptography.x509.oid import NameOID

        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        subject = assertion.findtext(f"{{{SAML}}}Subject/{{{SAML}}}NameID") or ""
        return bool(names) and bool(subject) and str(names[0].value) == subject

    @staticmethod
    def _check_patient(patient_id: str, *, fault: bool = False) -> None:
        match = re.fullmatch(r"([0-9A-Z]{13}[0-9]{2})\^\^\^&([0-9.]+)&ISO\^NH", patient_id)
        if match is None or match.group(2) not in INS_OIDS:
            raise Refusal(
                "XDSUnknownPatientId" if not fault else "wsse:InvalidSecurity",
                "Identifiant patient refusé : seul l'INS qualifié (matricule INS et OID de l'autorité) est "
                f"accepté par le DMP (reçu « {patient_id} »).",
                fault=fault,
            )

    # --- ITI-41 --------------------------------------------------------------------------------------------

    def _iti41(self, request: Any, attachments: dict[str, bytes], vihf: dict[str, str]) -> tuple[Any, dict[str, bytes]]:
        documents = {d.get("id"): _content(d, attachments) for d in request.findall(f"{{{XDS}}}Document")}
        objects = request.find(f"{{{LCM}}}SubmitObjectsRequest/{{{RIM}}}RegistryObjectList")
        if objects is None:
            raise Refusal("XDSRegistryMetadataError", "Métadonnées de soumission absentes.")
        entries = objects.findall(f"{{{RIM}}}ExtrinsicObject")
        associations = objects.findall(f"{{{RIM}}}Association")
        signatures = {a.get("sourceObject") for a in associations if a.get("associationType") == SIGNS}
        if not signatures:
            raise Refusal(
                "XDSRegistryMetadataError", "Le lot de soumission doit être signé (signature du lot absente)."
            )
        new: list[Entry] = []
        for element in entries:
            entry_id = element.get("id")
            content = documents.get(entry_id)
            if content is None:
                raise Refusal("XDSMissingDocument", f"Document absent pour l'entrée {entry_id}.")
            entry = self._check_entry(element, content, vihf, is_signature=entry_id in signatures)
            new.append(entry)
        for signature_id in signatures:
            self._check_submission_signature(
                documents[signature_id], [e for e in new if e.entry_uuid not in signatures]
            )
        for entry in new:
            if entry.unique_id in self.entries:
                raise Refusal(
                    "XDSDuplicateUniqueIdInRegistry",
                    f"Document déjà enregistré (identifiant unique {entry.unique_id}).",
                )
        for association in associations:
            if association.get("associationType") == RPLC:
                target = next(
                    (e for e in self.entries.values() if e.entry_uuid == association.get("targetObject")), None
                )
                if target is None or target.status != APPROVED:
                    raise Refusal(
                        "XDSUnresolvedReferenceException",
                        "Le document à remplacer n'existe pas ou n'est plus actif dans le DMP.",
                    )
                target.status = DEPRECATED
        for entry in new:
            self.entries[entry.unique_id] = entry
            if entry.entry_uuid not in signatures:
                self.registrations[entry.unique_id] = self.registrations.get(entry.unique_id, 0) + 1
        self._register_sets(objects, associations, new)
        return _registry_response(SUCCESS), {}

    def _register_sets(self, objects: Any, associations: list[Any], new: list[Entry]) -> None:
        """Keep each submission set (its ``submissionTime``, its members) and every association, for
        FindSubmissionSets and GetAssociations (the DMPi « documents since the last connection »)."""
        patient = new[0].patient_id if new else ""
        for package in objects.findall(f"{{{RIM}}}RegistryPackage"):
            set_id = package.get("id", "")
            time_value = (
                package.findtext(f"{{{RIM}}}Slot[@name='submissionTime']/{{{RIM}}}ValueList/{{{RIM}}}Value", "") or ""
            )
            declared = package.find(f"{{{RIM}}}ExternalIdentifier[@identificationScheme='{S_SET_PATIENT}']")
            self.submission_sets[set_id] = SubmissionSet(
                set_id,
                declared.get("value", patient) if declared is not None else patient,
                time_value or datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
                copy.deepcopy(package),
            )
        for association in associations:
            source, target = association.get("sourceObject", ""), association.get("targetObject", "")
            kind = association.get("associationType", "")
            self.associations.append((association.get("id", ""), kind, source, target))
            if kind == HAS_MEMBER and source in self.submission_sets:
                self.submission_sets[source].members.append(target)

    # --- what happens outside the professionals' XDS.b channel (tests, demo) ------------------------------------

    def archive(self, unique_id: str) -> None:
        """The patient archives a document in Mon espace santé: it leaves the current documents (status Archived)."""
        with self._lock:
            self.entries[unique_id].status = ARCHIVED

    def add_patient_document(self, patient_id: str, title: str, text: str, *, type_code: str = "11369-6") -> str:
        """A document the patient wrote in Mon espace santé (a CDA with a structured text body): its author is the
        patient, named by the INS, without a structure. Registered with its own submission set, now. Returns its
        uniqueId."""
        self._check_patient(patient_id)
        ins, _, rest = patient_id.partition("^^^&")
        oid = rest.split("&", 1)[0]
        unique_id = f"2.25.{uuid.uuid4().int}"
        now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        content = _patient_cda(unique_id, ins, oid, title, text, type_code, now)
        entry_id, set_id = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        element = etree.Element(f"{{{RIM}}}ExtrinsicObject", id=entry_id, objectType=STABLE_ENTRY, mimeType="text/xml")
        for name, value in (
            ("repositoryUniqueId", self.repository_unique_id),
            ("creationTime", now),
            ("languageCode", "fr-FR"),
            ("hash", hashlib.sha1(content).hexdigest()),
            ("size", str(len(content))),
        ):
            _slot(element, name, value)
        etree.SubElement(etree.SubElement(element, f"{{{RIM}}}Name"), f"{{{RIM}}}LocalizedString", value=title)
        author = etree.SubElement(
            element,
            f"{{{RIM}}}Classification",
            classificationScheme=S_AUTHOR,
            classifiedObject=entry_id,
            nodeRepresentation="",
        )
        _slot(author, "authorPerson", f"{ins}^^^^^^^^&{oid}&ISO^NH^^^INS")
        _slot(author, "authorRole", "PATIENT")
        for scheme, code in (
            (S_TYPE, type_code),
            (S_CLASS, "11"),
            (S_FORMAT, "urn:ihe:iti:xds-sd:text:2008"),
            (S_CONF, "N"),
        ):
            etree.SubElement(
                element,
                f"{{{RIM}}}Classification",
                classificationScheme=scheme,
                classifiedObject=entry_id,
                nodeRepresentation=code,
                id=f"urn:uuid:{uuid.uuid4()}",
            )
        for scheme, value in ((S_PATIENT, patient_id), (S_UNIQUE, unique_id)):
            etree.SubElement(
                element,
                f"{{{RIM}}}ExternalIdentifier",
                identificationScheme=scheme,
                registryObject=entry_id,
                value=value,
                id=f"urn:uuid:{uuid.uuid4()}",
            )
        package = etree.Element(f"{{{RIM}}}RegistryPackage", id=set_id)
        _slot(package, "submissionTime", now)
        with self._lock:
            self.entries[unique_id] = Entry(entry_id, unique_id, patient_id, element, content)
            self.submission_sets[set_id] = SubmissionSet(set_id, patient_id, now, package, [entry_id])
            self.associations.append((f"urn:uuid:{uuid.uuid4()}", HAS_MEMBER, set_id, entry_id))
        return unique_id

    def _check_entry(self, element: Any, content: bytes, vihf: dict[str, str], *, is_signature: bool) -> Entry:
        def codes(scheme: str) -> list[str]:
            return [
                c.get("nodeRepresentation", "")
                for c in element.findall(f"{{{RIM}}}Classification[@classificationScheme='{scheme}']")
            ]

        def external(scheme: str) -> str:
            found = element.find(f"{{{RIM}}}ExternalIdentifier[@identificationScheme='{scheme}']")
            return found.get("value", "") if found is not None else ""

        def slot(name: str) -> str:
            return element.findtext(f"{{{RIM}}}Slot[@name='{name}']/{{{RIM}}}ValueList/{{{RIM}}}Value", "") or ""

        errors: list[str] = []
        for label, scheme, allowed in (
            ("classCode", S_CLASS, CLASS_CODES),
            ("typeCode", S_TYPE, TYPE_CODES),
            ("formatCode", S_FORMAT, FORMAT_CODES),
            ("healthcareFacilityTypeCode", S_FACILITY, FACILITY_CODES),
            ("practiceSettingCode", S_PRACTICE, PRACTICE_CODES),
        ):
            if not is_signature and label in self.value_sets:
                allowed = self.value_sets[label]
            found = codes(scheme)
            if len(found) != 1 or found[0] not in allowed:
                errors.append(f"{label} {found[0] if found else 'absent'} hors du jeu de valeurs")
        confidentiality = codes(S_CONF)
        if (
            not confidentiality
            or any(c not in CONFIDENTIALITY for c in confidentiality)
            or not any(c in ("N", "R", "V") for c in confidentiality)
        ):
            errors.append(f"confidentialityCode {confidentiality} invalide")
        if errors:
            raise Refusal("XDSRegistryMetadataError", "Métadonnées refusées : " + " ; ".join(errors) + ".")
        patient_id = external(S_PATIENT)
        self._check_patient(patient_id)
        if patient_id != vihf["urn:oasis:names:tc:xacml:2.0:resource:resource-id"]:
            raise Refusal("XDSPatientIdDoesNotMatch", "Le patient du document n'est pas celui du VIHF.")
        unique_id = external(S_UNIQUE)
        if not unique_id:
            raise Refusal("XDSRegistryMetadataError", "Identifiant unique du document absent.")
        if slot("size") != str(len(content)):
            raise Refusal("XDSRepositoryMetadataError", "Taille du document différente de celle déclarée.")
        if slot("hash").lower() != hashlib.sha1(content).hexdigest():
            raise Refusal("XDSRepositoryMetadataError", "Empreinte (hash) du document différente de celle déclarée.")
        format_code = codes(S_FORMAT)[0]
        if not is_signature:
            self._check_cda(content, format_code, codes(S_TYPE)[0], unique_id, patient_id)
        stored = copy.deepcopy(element)
        repository = etree.SubElement(stored, f"{{{RIM}}}Slot", name="repositoryUniqueId")
        etree.SubElement(
            etree.SubElement(repository, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value"
        ).text = self.repository_unique_id
        stored.insert(0, repository)
        return Entry(
            entry_uuid=element.get("id"),
            unique_id=unique_id,
            patient_id=patient_id,
            metadata=stored,
            content=content,
            masking=[c for c in confidentiality if c not in ("N", "R", "V")],
        )

    def _check_cda(self, content: bytes, format_code: str, type_code: str, unique_id: str, patient_id: str) -> None:
        try:
            root = etree.fromstring(content)
        except etree.XMLSyntaxError as exc:
            raise Refusal("XDSRepositoryMetadataError", "Le document n'est pas un CDA lisible.") from exc
        ns = {"h": "urn:hl7-org:v3"}
        doc_id = root.find("h:id", ns)
        patient = root.find("h:recordTarget/h:patientRole/h:id", ns)
        code = root.find("h:code", ns)
        if doc_id is None or doc_id.get("root") != unique_id.split("^")[0]:
            raise Refusal("XDSRegistryMetadataError", "L'identifiant unique ne correspond pas à celui du CDA.")
        if patient is None or f"{patient.get('extension')}^^^&{patient.get('root')}&ISO^NH" != patient_id:
            raise Refusal("XDSPatientIdDoesNotMatch", "Le patient des métadonnées n'est pas celui du CDA.")
        if code is None or code.get("code") != type_code:
            raise Refusal("XDSRegistryMetadataError", "Le typeCode ne correspond pas au code du CDA.")
        is_pdf = root.find("h:component/h:nonXMLBody", ns) is not None
        if is_pdf != (format_code in LEVEL1_FORMATS):
            raise Refusal("XDSRegistryMetadataError", "Le formatCode ne correspond pas au corps du CDA.")
        if self.cda_checker is not None and format_code in STRUCTURED_FORMATS:
            volet = STRUCTURED_FORMATS[format_code]
            errors = self.cda_checker(content, [volet] if volet else [])
            if errors:
                raise Refusal(
                    "XDSRepositoryMetadataError",
                    f"CDA non conforme au CI-SIS ({len(errors)} erreur(s)) : {errors[0][:200]}",
                )

    def _check_submission_signature(self, signed: bytes, entries: list[Entry]) -> None:
        root = etree.fromstring(signed)
        self._verify_signature(copy.deepcopy(root), xades=True)
        digests = {
            r.get("URI", "").removeprefix("urn:oid:"): r.findtext(f"{{{DS}}}DigestValue", "")
            for r in root.iter(f"{{{DS}}}Reference")
            if (r.get("URI") or "").startswith("urn:oid:")
        }
        for entry in entries:
            expected = base64.b64encode(hashlib.sha256(entry.content).digest()).decode()
            if digests.get(entry.unique_id) != expected:
                raise Refusal(
                    "XDSRegistryMetadataError",
                    "La signature du lot ne couvre pas le document envoyé (empreinte différente).",
                )

    # --- ITI-18 --------------------------------------------------------------------------------------------

    def _iti18(self, request: Any, attachments: dict[str, bytes], vihf: dict[str, str]) -> tuple[Any, dict[str, bytes]]:
        query = request.find(f"{{{RIM}}}AdhocQuery")
        slots = {s.get("name"): [v.text or "" for v in s.iter(f"{{{RIM}}}Value")] for s in query.iter(f"{{{RIM}}}Slot")}
        patient = vihf["urn:oasis:names:tc:xacml:2.0:resource:resource-id"]
        if query.get("id") == FIND_DOCUMENTS:
            asked = slots.get("$XDSDocumentEntryPatientId", [""])[0].strip("'")
            if asked != patient:
                raise Refusal("XDSPatientIdDoesNotMatch", "Le patient recherché n'est pas celui du VIHF.")
            statuses = set(re.findall(r"'([^']+)'", " ".join(slots.get("$XDSDocumentEntryStatus", []))))
            found = [
                e for e in self.entries.values() if e.patient_id == patient and e.status in statuses and _is_document(e)
            ]
        elif query.get("id") == GET_DOCUMENTS:
            wanted = set(re.findall(r"'([^']+)'", " ".join(slots.get("$XDSDocumentEntryUniqueId", []))))
            found = [e for e in self.entries.values() if e.unique_id in wanted and e.patient_id == patient]
        elif query.get("id") == FIND_SUBMISSION_SETS:
            return self._find_submission_sets(slots, patient), {}
        elif query.get("id") == GET_ASSOCIATIONS:
            return self._get_associations(slots, patient), {}
        else:
            raise Refusal("XDSUnknownStoredQuery", f"Requête {query.get('id')} non prise en charge.")
        response = etree.Element(
            f"{{{QUERY}}}AdhocQueryResponse", nsmap={"query": QUERY, "rim": RIM, "rs": RS}, status=SUCCESS
        )
        objects = etree.SubElement(response, f"{{{RIM}}}RegistryObjectList")
        structure = vihf["Identifiant_Structure"]
        # A document masked from professionals stays visible to the structure that authored it only.
        found = [e for e in found if "MASQUE_PS" not in e.masking or _author_structure(e) == structure]
        for entry in sorted(found, key=lambda e: e.unique_id):
            element = copy.deepcopy(entry.metadata)
            element.set("status", entry.status)
            for classification in element.findall(f"{{{RIM}}}Classification[@classificationScheme='{S_CONF}']"):
                if classification.get("nodeRepresentation") not in ("N", "R", "V"):
                    element.remove(classification)
            for code in entry.masking:
                etree.SubElement(
                    element,
                    f"{{{RIM}}}Classification",
                    classificationScheme=S_CONF,
                    classifiedObject=entry.entry_uuid,
                    nodeRepresentation=code,
                    id=f"urn:uuid:{uuid.uuid4()}",
                )
            objects.append(element)
        return response, {}

    def _find_submission_sets(self, slots: dict[str, list[str]], patient: str) -> Any:
        asked = slots.get("$XDSSubmissionSetPatientId", [""])[0].strip("'")
        if asked != patient:
            raise Refusal("XDSPatientIdDoesNotMatch", "Le patient recherché n'est pas celui du VIHF.")
        since = slots.get("$XDSSubmissionSetSubmissionTimeFrom", [""])[0].strip("'")
        until = slots.get("$XDSSubmissionSetSubmissionTimeTo", [""])[0].strip("'")
        response = etree.Element(
            f"{{{QUERY}}}AdhocQueryResponse", nsmap={"query": QUERY, "rim": RIM, "rs": RS}, status=SUCCESS
        )
        objects = etree.SubElement(response, f"{{{RIM}}}RegistryObjectList")
        for found in sorted(self.submission_sets.values(), key=lambda s: s.submission_time):
            if found.patient_id != patient or (since and found.submission_time < since):
                continue
            if until and found.submission_time >= until:
                continue
            objects.append(copy.deepcopy(found.metadata))
        return response

    def _get_associations(self, slots: dict[str, list[str]], patient: str) -> Any:
        wanted = set(re.findall(r"'([^']+)'", " ".join(slots.get("$uuid", []))))
        mine = {s.entry_uuid for s in self.submission_sets.values() if s.patient_id == patient}
        mine |= {e.entry_uuid for e in self.entries.values() if e.patient_id == patient}
        response = etree.Element(
            f"{{{QUERY}}}AdhocQueryResponse", nsmap={"query": QUERY, "rim": RIM, "rs": RS}, status=SUCCESS
        )
        objects = etree.SubElement(response, f"{{{RIM}}}RegistryObjectList")
        for association_id, kind, source, target in self.associations:
            if (source in wanted or target in wanted) and source in mine and target in mine:
                etree.SubElement(
                    objects,
                    f"{{{RIM}}}Association",
                    id=association_id,
                    associationType=kind,
                    sourceObject=source,
                    targetObject=target,
                )
        return response

    # --- ITI-43 --------------------------------------------------------------------------------------------

    def _iti43(self, request: Any, attachments: dict[str, bytes], vihf: dict[str, str]) -> tuple[Any, dict[str, bytes]]:
        response = etree.Element(f"{{{XDS}}}RetrieveDocumentSetResponse", nsmap={"xds": XDS, "rs": RS})
        status = etree.SubElement(response, f"{{{RS}}}RegistryResponse", status=SUCCESS)
        parts: dict[str, bytes] = {}
        patient = vihf["urn:oasis:names:tc:xacml:2.0:resource:resource-id"]
        for item in request.findall(f"{{{XDS}}}DocumentRequest"):
            unique_id = item.findtext(f"{{{XDS}}}DocumentUniqueId", "")
            entry = self.entries.get(unique_id)
            if (
                entry is None
                or entry.patient_id != patient
                or item.findtext(f"{{{XDS}}}RepositoryUniqueId", "") != self.repository_unique_id
            ):
                status.set("status", FAILURE)
                errors = etree.SubElement(status, f"{{{RS}}}RegistryErrorList")
                etree.SubElement(
                    errors,
                    f"{{{RS}}}RegistryError",
                    errorCode="XDSDocumentUniqueIdError",
                    codeContext=f"Document {unique_id} introuvable dans ce dépôt.",
                    severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error",
                )
                continue
            document = etree.SubElement(response, f"{{{XDS}}}DocumentResponse")
            etree.SubElement(document, f"{{{XDS}}}RepositoryUniqueId").text = self.repository_unique_id
            etree.SubElement(document, f"{{{XDS}}}DocumentUniqueId").text = unique_id
            etree.SubElement(document, f"{{{XDS}}}mimeType").text = entry.metadata.get("mimeType", "text/xml")
            cid = f"{uuid.uuid4().hex}@sandbox"
            body = etree.SubElement(document, f"{{{XDS}}}Document")
            etree.SubElement(body, f"{{{XOP}}}Include", nsmap={"xop": XOP}, href=f"cid:{cid}")
            parts[cid] = entry.content
        return response, parts

    # --- ITI-57 --------------------------------------------------------------------------------------------

    def _iti57(self, request: Any, attachments: dict[str, bytes], vihf: dict[str, str]) -> tuple[Any, dict[str, bytes]]:
        patient = vihf["urn:oasis:names:tc:xacml:2.0:resource:resource-id"]
        by_uuid = {e.entry_uuid: e for e in self.entries.values()}
        objects = request.find(f"{{{RIM}}}RegistryObjectList")
        for association in objects.findall(f"{{{RIM}}}Association"):
            if association.get("associationType") != UPDATE_STATUS:
                continue
            entry = by_uuid.get(association.get("targetObject", ""))
            if entry is None or entry.patient_id != patient:
                raise Refusal("XDSUnresolvedReferenceException", "Document à mettre à jour introuvable.")
            new_status = association.findtext(f"{{{RIM}}}Slot[@name='NewStatus']/{{{RIM}}}ValueList/{{{RIM}}}Value")
            if new_status not in (APPROVED, DEPRECATED):
                raise Refusal("XDSMetadataUpdateError", "Nouveau statut inconnu.")
            entry.status = new_status
        for element in objects.findall(f"{{{RIM}}}ExtrinsicObject"):
            entry = by_uuid.get(element.get("lid", ""))
            if entry is None or entry.patient_id != patient:
                raise Refusal("XDSUnresolvedReferenceException", "Document à mettre à jour introuvable.")
            masking = [
                c.get("nodeRepresentation", "")
                for c in element.findall(f"{{{RIM}}}Classification[@classificationScheme='{S_CONF}']")
            ]
            if any(code not in CONFIDENTIALITY or code in ("N", "R", "V") for code in masking):
                raise Refusal("XDSMetadataUpdateError", "Code de masquage inconnu.")
            entry.masking = masking
        return _registry_response(SUCCESS), {}


def official_value_sets(conformance_dir: Path | str) -> dict[str, set[str]]:
    """The value sets of the shared material (``conformance/``), read at start when they are present: JDV_J07
    typeCode, J02 healthcareFacilityTypeCode, J04 practiceSettingCode (ANS kit), J10 formatCode and TRE_A03
    classCode (NOS). Missing files leave the sandbox's own subsets in place."""
    import json

    root = Path(conformance_dir) / "cda"
    svs = "{urn:ihe:iti:svs:2008}"
    found: dict[str, set[str]] = {}
    for label, name in (
        ("typeCode", "JDV_J07_XdsTypeCode_CISIS.xml"),
        ("healthcareFacilityTypeCode", "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml"),
        ("practiceSettingCode", "JDV_J04_XdsPracticeSettingCode_CISIS.xml"),
    ):
        path = root / "testcontenucda-3.0" / "jeuxDeValeurs" / name
        if path.is_file():
            found[label] = {c.get("code", "") for c in etree.parse(str(path)).iter(f"{svs}Concept")}
    for label, name in (
        ("formatCode", "JDV_J10_XdsFormatCode_CISIS.derived.json"),
        ("classCode", "TRE_A03_ClasseDocument.derived.json"),
    ):
        path = root / "nos" / name
        if path.is_file():
            found[label] = {c["code"] for c in json.loads(path.read_text(encoding="utf-8"))["concepts"]}
    if "formatCode" in found:
        found["formatCode"] |= FORMAT_CODES_SINCE_SNAPSHOT
    return {label: codes for label, codes in found.items() if codes}


def _author_structure(entry: Entry) -> str:
    institution = (
        entry.metadata.findtext(
            f"{{{RIM}}}Classification/{{{RIM}}}Slot[@name='authorInstitution']/{{{RIM}}}ValueList/{{{RIM}}}Value", ""
        )
        or ""
    )
    return institution.rsplit("^", 1)[-1]


def _slot(parent: Any, name: str, value: str) -> None:
    slot = etree.SubElement(parent, f"{{{RIM}}}Slot", name=name)
    etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value


def _patient_cda(unique_id: str, ins: str, oid: str, title: str, text: str, type_code: str, now: str) -> bytes:
    """A small CDA whose author is the patient (what Mon espace santé stores for a document the patient adds)."""
    h = "urn:hl7-org:v3"
    root = etree.Element(f"{{{h}}}ClinicalDocument", nsmap={None: h})  # type: ignore[dict-item]
    etree.SubElement(root, f"{{{h}}}id", root=unique_id)
    etree.SubElement(root, f"{{{h}}}code", code=type_code, codeSystem="2.16.840.1.113883.6.1", displayName=title)
    etree.SubElement(root, f"{{{h}}}title").text = title
    etree.SubElement(root, f"{{{h}}}effectiveTime", value=now)
    patient_role = etree.SubElement(etree.SubElement(root, f"{{{h}}}recordTarget"), f"{{{h}}}patientRole")
    etree.SubElement(patient_role, f"{{{h}}}id", root=oid, extension=ins)
    author = etree.SubElement(etree.SubElement(root, f"{{{h}}}author"), f"{{{h}}}assignedAuthor")
    etree.SubElement(author, f"{{{h}}}id", root=oid, extension=ins)
    section = etree.SubElement(
        etree.SubElement(
            etree.SubElement(etree.SubElement(root, f"{{{h}}}component"), f"{{{h}}}structuredBody"), f"{{{h}}}component"
        ),
        f"{{{h}}}section",
    )
    etree.SubElement(section, f"{{{h}}}title").text = title
    etree.SubElement(etree.SubElement(section, f"{{{h}}}text"), f"{{{h}}}paragraph").text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _is_document(entry: Entry) -> bool:
    return entry.metadata.findtext(f"{{{RIM}}}Slot[@name='languageCode']/{{{RIM}}}ValueList/{{{RIM}}}Value") != "art"


def _content(document: Any, attachments: dict[str, bytes]) -> bytes:
    include = document.find(f"{{{XOP}}}Include")
    if include is not None:
        cid = include.get("href", "").removeprefix("cid:")
        if cid not in attachments:
            raise Refusal("XDSMissingDocument", f"Pièce jointe MTOM {cid} absente.")
        return attachments[cid]
    return base64.b64decode(document.text or "")


def _registry_response(status: str, errors: Sequence[tuple[str, str]] = ()) -> Any:
    response = etree.Element(f"{{{RS}}}RegistryResponse", nsmap={"rs": RS}, status=status)
    if errors:
        error_list = etree.SubElement(response, f"{{{RS}}}RegistryErrorList")
        for code, message in errors:
            etree.SubElement(
                error_list,
                f"{{{RS}}}RegistryError",
                errorCode=code,
                codeContext=message,
                severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error",
            )
    return response


def _fault(code: str, subcode: str, reason: str) -> Any:
    fault = etree.Element(f"{{{SOAP}}}Fault", nsmap={"soap": SOAP, "wsse": WSSE})
    code_element = etree.SubElement(fault, f"{{{SOAP}}}Code")
    etree.SubElement(code_element, f"{{{SOAP}}}Value").text = f"soap:{code}"
    etree.SubElement(etree.SubElement(code_element, f"{{{SOAP}}}Subcode"), f"{{{SOAP}}}Value").text = subcode
    text = etree.SubElement(etree.SubElement(fault, f"{{{SOAP}}}Reason"), f"{{{SOAP}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    text.text = reason
    return fault


def parse_message(content_type: str, body: bytes) -> tuple[Any, dict[str, bytes]]:
    """SOAP envelope and MTOM attachments (by content id) of a request."""
    if not content_type.lower().startswith("multipart/related"):
        return etree.fromstring(body), {}
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError("multipart sans boundary")
    root: Any = None
    attachments: dict[str, bytes] = {}
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in head.decode("latin-1").strip().split("\r\n"))
        }
        if root is None and "xop+xml" in headers.get("content-type", ""):
            root = etree.fromstring(data)
        else:
            attachments[headers.get("content-id", "").strip("<>")] = data
    if root is None:
        raise ValueError("multipart sans partie SOAP")
    return root, attachments


def start_dmp_sandbox(authority: Any, **options: Any) -> tuple[Any, DmpSandbox]:
    """Start the sandbox on loopback over TLS with client certificates: ``(server, sandbox)``."""
    from lgo_sandbox.pki import server_context
    from lgo_sandbox.tls import BackgroundServer

    sandbox = DmpSandbox(authority.ca_path, **options)
    server = BackgroundServer(sandbox, ssl_context=server_context(authority.server("dmp")))
    server.start()
    return server, sandbox
