"""DMP client: XDS.b transactions over mutual TLS with a signed VIHF in each request.

- :meth:`DmpClient.provide_and_register` — ITI-41 (TD2 alimentation, TD2.1 remplacement with RPLC);
- :meth:`DmpClient.find_documents` / :meth:`DmpClient.get_document_entry` — ITI-18 (FindDocuments, GetDocuments);
- :meth:`DmpClient.submitted_since` — ITI-18 FindSubmissionSets then GetAssociations: the documents brought since a
  date (the DMPi « recherche depuis la dernière connexion »);
- :meth:`DmpClient.retrieve` — ITI-43;
- :meth:`DmpClient.update_masking` / :meth:`DmpClient.deprecate` — ITI-57 (TD3.3).

Errors: :class:`DmpRefused` when the DMP answers with a refusal (retrying cannot help), :class:`DmpUnavailable`
when it cannot be reached or fails (retry later). Both carry a French message for the pharmacist.
"""

from __future__ import annotations

import hashlib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from lgo.api import LgoError, ValidationError, xds
from lgo.api import xds_codes as codes
from lxml import etree

from lgo_dmp import metadata, soap

LCM, QUERY, RIM, RS, XDS = xds.LCM, xds.QUERY, xds.RIM, xds.RS, xds.XDS

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
DUPLICATE = "XDSDuplicateUniqueIdInRegistry"
#: The DMP's status of a document the patient archived (CI-SIS), beside XDS Approved and Deprecated.
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
#: What the pharmacist reads for each status: current, archived by the patient, replaced by a newer version.
STATUS_FR = {xds.APPROVED: "actif", ARCHIVED: "archivé", xds.DEPRECATED: "obsolète"}
#: OIDs of the INS (NIR, NIA, test, demo): an author named by one of them is the patient.
_INS_OID_PREFIX = "&1.2.250.1.213.1.4."
#: Transport failures that prove the request never reached the DMP.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class DmpRefused(LgoError):
    """The DMP refused the request (metadata, VIHF, rights...): sending it again will not help."""

    def __init__(self, message_fr: str, *, detail: str = "", code: str = "") -> None:
        super().__init__(message_fr, detail=detail)
        self.code = code


class DmpUnavailable(LgoError):
    """The DMP could not be reached or failed: try again later. ``maybe_processed`` says whether the DMP may have
    carried the request out all the same (its answer lost: a time-out while waiting, an internal error), as
    opposed to a request that never reached it (no connection, 503 Service Unavailable)."""

    def __init__(self, message_fr: str, *, detail: str = "", action: str = "", maybe_processed: bool = False) -> None:
        super().__init__(message_fr, detail=detail)
        self.action = action
        self.maybe_processed = maybe_processed


@dataclass(frozen=True)
class DmpEntry:
    entry_uuid: str
    unique_id: str
    title: str
    type_code: str
    type_display: str
    creation_time: str
    author: str
    status: str
    repository_unique_id: str
    hash: str
    masking: tuple[str, ...] = field(default=())
    #: The document was written by the patient (in Mon espace santé), not by a professional.
    by_patient: bool = False

    @property
    def status_fr(self) -> str:
        return STATUS_FR.get(self.status, "actif" if self.status.endswith("Approved") else self.status)

    @property
    def masked(self) -> bool:
        """Masked from the professionals: only its author's structure sees it."""
        return "MASQUE_PS" in self.masking

    @property
    def time_fr(self) -> str:
        """The creation time in Paris time (the DMP gives UTC, ``YYYYMMDDHHMMSS``)."""
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        value = self.creation_time
        if len(value) < 12:
            return self.date_fr
        moment = datetime.strptime(value[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")

    @property
    def date_fr(self) -> str:
        value = self.creation_time
        return f"{value[6:8]}/{value[4:6]}/{value[:4]}" if len(value) >= 8 else value


class DmpClient:
    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext,
        vihf: Callable[[str], Any],
        source_id: str,
        signer: Any = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.vihf = vihf
        self.source_id = source_id
        self.signer = signer
        self._http = httpx.Client(verify=ssl_context, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DmpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------------------------------

    def _call(
        self, service: str, action: str, body: Any, patient_id: str, attachments: dict[str, bytes] | None = None
    ) -> tuple[Any, dict[str, bytes]]:
        url = f"{self.base_url}/{service}"
        env = soap.envelope(action, url, body, self.vihf(patient_id))
        if attachments is not None:
            payload, content_type = soap.mtom(env, attachments, action)
        else:
            payload = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
            content_type = f'application/soap+xml; charset=UTF-8; action="{action}"'
        try:
            response = self._http.post(url, content=payload, headers={"Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise DmpUnavailable(
                "Le DMP ne répond pas : l'envoi sera retenté automatiquement.",
                detail=f"{url}: {exc!r}",
                action=action,
                maybe_processed=not isinstance(exc, _NEVER_SENT),
            ) from exc
        # 503: the DMP says it did not take the request; any other failure may come after it was carried out.
        processed = response.status_code != 503
        try:
            root, parts = soap.parse_message(response.headers.get("content-type", ""), response.content)
        except (etree.XMLSyntaxError, ValueError, ValidationError) as exc:  # hostile answers too
            raise DmpUnavailable(
                f"Réponse illisible du DMP (HTTP {response.status_code}) : nouvel essai plus tard.",
                detail=response.text[:300],
                action=action,
                maybe_processed=processed,
            ) from exc
        fault = root.find(f"{{{soap.SOAP}}}Body/{{{soap.SOAP}}}Fault")
        if fault is not None:
            code = fault.findtext(f"{{{soap.SOAP}}}Code/{{{soap.SOAP}}}Value", "") or ""
            subcode = fault.findtext(f"{{{soap.SOAP}}}Code/{{{soap.SOAP}}}Subcode/{{{soap.SOAP}}}Value", "") or ""
            reason = fault.findtext(f"{{{soap.SOAP}}}Reason/{{{soap.SOAP}}}Text", "") or "erreur inconnue"
            if code.endswith("Sender"):
                raise DmpRefused(f"Refus du DMP : {reason}", detail=f"{subcode} {reason}", code=subcode)
            raise DmpUnavailable(
                f"Le DMP est en erreur : {reason}",
                detail=f"{code} {subcode} {reason}",
                action=action,
                maybe_processed=processed,
            )
        if response.status_code >= 500 or root.find(f"{{{soap.SOAP}}}Body") is None:
            raise DmpUnavailable(
                f"Le DMP est en erreur (HTTP {response.status_code}).",
                detail=response.text[:300],
                action=action,
                maybe_processed=processed,
            )
        result = root.find(f"{{{soap.SOAP}}}Body")[0]
        return result, parts

    @staticmethod
    def _check(response: Any) -> None:
        status = response.get("status", "")
        if status.endswith("Success") or status.endswith("PartialSuccess"):
            return
        errors = response.findall(f".//{{{RS}}}RegistryError")
        first = errors[0] if errors else None
        code = first.get("errorCode", "") if first is not None else ""
        context = first.get("codeContext", "") if first is not None else "refus sans motif"
        raise DmpRefused(f"Refus du DMP : {context}", detail=f"{code}: {context}", code=code)

    # --- ITI-41 --------------------------------------------------------------------------------------------

    def provide_and_register(self, cda: bytes, *, masking: tuple[str, ...] = (), title: str | None = None) -> str:
        """Send a document; ``"registered"``, or ``"already"`` when the DMP holds it with the same content.
        ``title`` is the title the operator chose for the DMP (the CDA title by default)."""
        meta = xds.from_cda(cda, masking=masking, title=title)
        replaces_entry = None
        if meta.replaces_unique_id:
            previous = self.get_document_entry(meta.patient_id, meta.replaces_unique_id)
            if previous is None:
                raise DmpRefused(
                    "Le document à remplacer est absent du DMP : envoyez d'abord la version précédente.",
                    detail=f"no entry for {meta.replaces_unique_id}",
                )
            replaces_entry = previous.entry_uuid
        submission = metadata.submit_objects_request(
            meta, cda, source_id=self.source_id, replaces_entry_uuid=replaces_entry, signer=self.signer
        )
        request = etree.Element(f"{{{XDS}}}ProvideAndRegisterDocumentSetRequest", nsmap={"xds": XDS})
        request.append(submission.request)
        attachments: dict[str, bytes] = {}
        for entry_id, content in submission.documents.items():
            cid = f"{uuid.uuid4().hex}@lgo"
            document = etree.SubElement(request, f"{{{XDS}}}Document", id=entry_id)
            etree.SubElement(document, f"{{{soap.XOP}}}Include", nsmap={"xop": soap.XOP}, href=f"cid:{cid}")
            attachments[cid] = content
        response, _ = self._call("repository", soap.ACTION_ITI41, request, meta.patient_id, attachments)
        try:
            self._check(response)
        except DmpRefused as refused:
            if refused.code != DUPLICATE or not self.holds(cda):
                raise
            return "already"
        return "registered"

    def holds(self, cda: bytes) -> bool:
        """Whether the DMP already holds this very document (its unique id, with the same content). After a lost
        answer, asking first settles a retry in one call, where sending again costs two (the refusal as a
        duplicate, then this question)."""
        meta = xds.from_cda(cda)
        existing = self.get_document_entry(meta.patient_id, meta.unique_id)
        return existing is not None and existing.hash == hashlib.sha1(cda).hexdigest()

    # --- ITI-18 --------------------------------------------------------------------------------------------

    def _stored_query(self, query_id: str, patient_id: str, slots: dict[str, list[str]]) -> Any:
        request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
        etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true", returnType="LeafClass")
        query = etree.SubElement(request, f"{{{RIM}}}AdhocQuery", id=query_id)
        for name, values in slots.items():
            xds.slot(query, name, *values)
        response, _ = self._call("registry", soap.ACTION_ITI18, request, patient_id)
        self._check(response)
        return response

    def _query(self, query_id: str, patient_id: str, slots: dict[str, list[str]]) -> list[DmpEntry]:
        response = self._stored_query(query_id, patient_id, slots)
        return [_entry(e) for e in response.iter(f"{{{RIM}}}ExtrinsicObject")]

    def find_documents(
        self, patient_id: str, *, include_deprecated: bool = False, statuses: tuple[str, ...] = ()
    ) -> list[DmpEntry]:
        """The patient's documents of these statuses (XDS ``Approved`` by default; ``ARCHIVED``, ``DEPRECATED``)."""
        wanted = list(statuses) or [xds.APPROVED] + ([xds.DEPRECATED] if include_deprecated else [])
        return self._query(
            FIND_DOCUMENTS,
            patient_id,
            {
                "$XDSDocumentEntryPatientId": [f"'{patient_id}'"],
                "$XDSDocumentEntryStatus": ["(" + ",".join(f"'{s}'" for s in wanted) + ")"],
            },
        )

    def submitted_since(self, patient_id: str, since: str) -> set[str]:
        """The entryUUIDs of the documents brought to the DMP since ``since`` (UTC ``YYYYMMDDHHMMSS``): the
        submission sets found by FindSubmissionSets, then their HasMember associations (GetAssociations), as the
        ANS guide of the DMP consultation describes for « les accès suivants »."""
        sets = self._stored_query(
            FIND_SUBMISSION_SETS,
            patient_id,
            {
                "$XDSSubmissionSetPatientId": [f"'{patient_id}'"],
                "$XDSSubmissionSetSubmissionTimeFrom": [since],
                "$XDSSubmissionSetStatus": [f"('{xds.APPROVED}')"],
            },
        )
        set_ids = [p.get("id", "") for p in sets.iter(f"{{{RIM}}}RegistryPackage") if p.get("id")]
        members: set[str] = set()
        for start in range(0, len(set_ids), 20):  # the guide's batches of 20
            batch = set_ids[start : start + 20]
            found = self._stored_query(
                GET_ASSOCIATIONS, patient_id, {"$uuid": ["(" + ",".join(f"'{u}'" for u in batch) + ")"]}
            )
            members |= {
                a.get("targetObject", "")
                for a in found.iter(f"{{{RIM}}}Association")
                if a.get("associationType") == xds.HAS_MEMBER and a.get("sourceObject") in batch
            }
        return members

    def get_document_entry(self, patient_id: str, unique_id: str) -> DmpEntry | None:
        found = self._query(GET_DOCUMENTS, patient_id, {"$XDSDocumentEntryUniqueId": [f"('{unique_id}')"]})
        return found[0] if found else None

    # --- ITI-43 --------------------------------------------------------------------------------------------

    def retrieve(self, patient_id: str, unique_id: str, repository_unique_id: str) -> bytes:
        request = etree.Element(f"{{{XDS}}}RetrieveDocumentSetRequest", nsmap={"xds": XDS})
        item = etree.SubElement(request, f"{{{XDS}}}DocumentRequest")
        etree.SubElement(item, f"{{{XDS}}}RepositoryUniqueId").text = repository_unique_id
        etree.SubElement(item, f"{{{XDS}}}DocumentUniqueId").text = unique_id
        response, parts = self._call("repository", soap.ACTION_ITI43, request, patient_id)
        self._check(
            response.find(f"{{{RS}}}RegistryResponse")
            if response.find(f"{{{RS}}}RegistryResponse") is not None
            else response
        )
        document = response.find(f"{{{XDS}}}DocumentResponse/{{{XDS}}}Document")
        if document is None:
            raise DmpRefused("Document introuvable dans le DMP.", detail=f"no document {unique_id}")
        return soap.include_content(document, parts)

    # --- ITI-57 --------------------------------------------------------------------------------------------

    def _update(self, patient_id: str, build: Callable[[Any, str], None]) -> None:
        request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
        objects = etree.SubElement(request, f"{{{RIM}}}RegistryObjectList")
        set_id = f"urn:uuid:{uuid.uuid4()}"
        package = etree.SubElement(objects, f"{{{RIM}}}RegistryPackage", id=set_id)
        xds.external_id(package, xds.UUID["SubmissionSet.patientId"], set_id, patient_id, "XDSSubmissionSet.patientId")
        xds.external_id(
            package, xds.UUID["SubmissionSet.sourceId"], set_id, self.source_id, "XDSSubmissionSet.sourceId"
        )
        build(objects, set_id)
        response, _ = self._call("registry", soap.ACTION_ITI57, request, patient_id)
        self._check(response)

    def deprecate(self, patient_id: str, entry: DmpEntry) -> None:
        def build(objects: Any, set_id: str) -> None:
            assoc = xds.association(
                objects, "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus", set_id, entry.entry_uuid
            )
            xds.slot(assoc, "OriginalStatus", xds.APPROVED)
            xds.slot(assoc, "NewStatus", xds.DEPRECATED)

        self._update(patient_id, build)

    def update_masking(self, patient_id: str, entry: DmpEntry, masking: tuple[str, ...]) -> None:
        """Change who may see the document (TD3.3a/b): a new version of the entry's confidentiality codes."""

        def build(objects: Any, set_id: str) -> None:
            new_id = f"urn:uuid:{uuid.uuid4()}"
            extrinsic = etree.SubElement(
                objects,
                f"{{{RIM}}}ExtrinsicObject",
                id=new_id,
                lid=entry.entry_uuid,
                objectType=xds.STABLE_ENTRY,
                mimeType="text/xml",
            )
            for code in masking:
                xds.classification(
                    extrinsic,
                    xds.UUID["DocumentEntry.confidentialityCode"],
                    new_id,
                    code,
                    codes.MASKING[code],
                    codes.OID_MASKING,
                )
            xds.external_id(
                extrinsic, xds.UUID["DocumentEntry.uniqueId"], new_id, entry.unique_id, "XDSDocumentEntry.uniqueId"
            )
            xds.association(objects, xds.HAS_MEMBER, set_id, new_id)

        self._update(patient_id, build)


def _entry(element: Any) -> DmpEntry:
    def slot_value(name: str) -> str:
        return element.findtext(f"{{{RIM}}}Slot[@name='{name}']/{{{RIM}}}ValueList/{{{RIM}}}Value", "") or ""

    def classified(scheme: str) -> list[Any]:
        return element.findall(f"{{{RIM}}}Classification[@classificationScheme='{scheme}']")

    def external(scheme: str) -> str:
        found = element.find(f"{{{RIM}}}ExternalIdentifier[@identificationScheme='{scheme}']")
        return found.get("value", "") if found is not None else ""

    type_code = classified(xds.UUID["DocumentEntry.typeCode"])
    type_name = type_code[0].find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString") if type_code else None
    authors = classified(xds.UUID["DocumentEntry.author"])[:1]
    author = "".join(
        a.findtext(f"{{{RIM}}}Slot[@name='authorPerson']/{{{RIM}}}ValueList/{{{RIM}}}Value", "") or "" for a in authors
    )
    role = "".join(
        a.findtext(f"{{{RIM}}}Slot[@name='authorRole']/{{{RIM}}}ValueList/{{{RIM}}}Value", "") or "" for a in authors
    )
    by_patient = role.strip().upper() == "PATIENT" or _INS_OID_PREFIX in author
    parts = author.split("^")
    name = element.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString")
    masking = tuple(
        c.get("nodeRepresentation", "")
        for c in classified(xds.UUID["DocumentEntry.confidentialityCode"])
        if c.get("nodeRepresentation") in codes.MASKING
    )
    return DmpEntry(
        entry_uuid=element.get("id", ""),
        unique_id=external(xds.UUID["DocumentEntry.uniqueId"]),
        title=name.get("value", "") if name is not None else "",
        type_code=type_code[0].get("nodeRepresentation", "") if type_code else "",
        type_display=type_name.get("value", "") if type_name is not None else "",
        creation_time=slot_value("creationTime"),
        author="le patient" if by_patient else (f"{parts[2]} {parts[1]}".strip() if len(parts) > 2 else author),
        status=element.get("status", ""),
        repository_unique_id=slot_value("repositoryUniqueId"),
        hash=slot_value("hash"),
        masking=masking,
        by_patient=by_patient,
    )
