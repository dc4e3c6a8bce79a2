"""Life cycle of health documents: draft, validation (fires the event), replacement and deprecation."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo.db import utcnow
from lgo.documents.model import DocumentStatus, HealthDocument
from lgo.domain import audit
from lgo.errors import NotFound, ValidationError
from lgo.events import DocumentDeprecated, DocumentValidated

if TYPE_CHECKING:
    from lgo.actions import ActionRequired
    from lgo.kernel import Kernel


def new_unique_id() -> str:
    """A globally unique OID for a document (ITU-T X.667: ``2.25.`` + the UUID as an integer)."""
    return f"2.25.{uuid.uuid4().int}"


def create_draft(
    session: Session,
    *,
    pharmacy_id: int,
    patient_id: int,
    author_operator_id: int,
    type_code: str,
    type_display: str,
    title: str,
    source_plugin: str,
    source_ref: str | None = None,
    invoice_id: int | None = None,
    content: bytes | None = None,
    mime_type: str = "text/xml",
    replaces: HealthDocument | None = None,
    confidentiality: str = "N",
) -> HealthDocument:
    """A new draft. With ``replaces`` it is the next version of that (validated) document: same ``set_id``."""
    if replaces is not None and replaces.status != DocumentStatus.VALIDATED:
        raise ValidationError(
            "Seul un document validé peut être remplacé.", detail=f"document {replaces.id} is {replaces.status}"
        )
    document = HealthDocument(
        pharmacy_id=pharmacy_id,
        patient_id=patient_id,
        author_operator_id=author_operator_id,
        unique_id=new_unique_id(),
        type_code=type_code,
        type_display=type_display,
        title=title,
        source_plugin=source_plugin,
        source_ref=source_ref,
        invoice_id=invoice_id,
        mime_type=mime_type,
        confidentiality=confidentiality,
        status=DocumentStatus.DRAFT,
    )
    if replaces is not None:
        document.set_id = replaces.set_id
        document.version = replaces.version + 1
        document.replaces_id = replaces.id
    else:
        document.set_id = new_unique_id()
        document.version = 1
    if content is not None:
        document.content = content
    session.add(document)
    session.flush()
    return document


class Act(Protocol):
    """A plugin's record of an act done for a patient (a TROD, a bilan, a vaccination), billed on an invoice."""

    id: int
    pharmacy_id: int
    patient_id: int
    operator_id: int
    invoice_id: int | None


def draft_of(
    session: Session,
    act: Act,
    document_type: tuple[str, str],
    title: str,
    *,
    source_plugin: str,
    source_ref: str,
    replaces: HealthDocument | None = None,
) -> HealthDocument:
    """A new draft reporting ``act``: its pharmacy and patient, written by who performed it, on its invoice;
    ``document_type`` is the (LOINC code, display) pair."""
    type_code, type_display = document_type
    return create_draft(
        session,
        pharmacy_id=act.pharmacy_id,
        patient_id=act.patient_id,
        author_operator_id=act.operator_id,
        type_code=type_code,
        type_display=type_display,
        title=title,
        source_plugin=source_plugin,
        source_ref=source_ref,
        invoice_id=act.invoice_id,
        replaces=replaces,
    )


def set_content(document: HealthDocument, content: bytes) -> None:
    if document.status != DocumentStatus.DRAFT:
        raise ValidationError(
            "Un document validé ne se modifie pas : créez un document de remplacement.",
            detail=f"document {document.id} is {document.status}",
        )
    document.content = content


def _get(session: Session, pharmacy_id: int, document_id: int) -> HealthDocument:
    document = session.get(HealthDocument, document_id)
    if document is None or document.pharmacy_id != pharmacy_id:
        raise NotFound("Document introuvable.", detail=f"document {document_id} in pharmacy {pharmacy_id}")
    return document


def _retitle(document: HealthDocument, title: str) -> None:
    """One title: the DMP takes a CDA document's title from its ``<title>``, so a title chosen at validation is
    written into the draft's CDA as well as into its metadata (a plugin that renders the title elsewhere, such as
    a PDF body, produces its draft again with the chosen title before validating)."""
    document.title = title
    if document.mime_type != "text/xml" or not document.content:
        return
    from lxml import etree

    from lgo.documents.cda import NS
    from lgo.safe_xml import parse_untrusted

    root = parse_untrusted(document.content, what="document CDA")
    element = root.find(f"{{{NS}}}title")
    if element is not None and element.text != title:
        element.text = title
        document.content = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _audit(
    session: Session, document: HealthDocument, action: str, message: str, operator_id: int, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        document.pharmacy_id,
        action,
        message,
        operator_id=operator_id,
        patient_id=document.patient_id,
        object_type="health_document",
        object_id=document.id,
        details=details,
    )


def _event_fields(document: HealthDocument, operator_id: int) -> dict[str, Any]:
    """What the validation and the deprecation events both say of the document."""
    return {
        "pharmacy_id": document.pharmacy_id,
        "operator_id": operator_id,
        "document_id": document.id,
        "document_type": document.type_code,
        "patient_id": document.patient_id,
        "unique_id": document.unique_id,
    }


def validate(
    kernel: Kernel,
    pharmacy_id: int,
    document_id: int,
    operator_id: int,
    *,
    title: str | None = None,
    hidden_from_patient: bool | None = None,
    hidden_from_legal_representatives: bool | None = None,
    masked_from_professionals: bool | None = None,
) -> list[ActionRequired]:
    """Validate a draft (its content must be final), mark the version it replaces, and tell the plugins."""
    with kernel.transaction() as session:
        document = _get(session, pharmacy_id, document_id)
        if document.status != DocumentStatus.DRAFT:
            raise ValidationError("Ce document est déjà validé.", detail=f"document {document_id} is {document.status}")
        if not document.content:
            raise ValidationError(
                "Le document est vide : il ne peut pas être validé.", detail=f"document {document_id}"
            )
        if title is not None:
            _retitle(document, title)
        if hidden_from_patient is not None:
            document.hidden_from_patient = hidden_from_patient
        if hidden_from_legal_representatives is not None:
            document.hidden_from_legal_representatives = hidden_from_legal_representatives
        if masked_from_professionals is not None:
            document.masked_from_professionals = masked_from_professionals
        now = utcnow()
        document.status = DocumentStatus.VALIDATED
        document.validated_at = now
        document.validated_by = operator_id
        document.status_changed_at = now
        if document.replaces_id is not None:
            previous = _get(session, pharmacy_id, document.replaces_id)
            previous.status = DocumentStatus.REPLACED
            previous.status_changed_at = now
            previous.status_reason = f"remplacé par la version {document.version}"
        _audit(
            session,
            document,
            "document.validated",
            f"Document « {document.title} » validé (version {document.version}).",
            operator_id,
            details={"type_code": document.type_code, "unique_id": document.unique_id},
        )
        event = DocumentValidated(
            **_event_fields(document, operator_id),
            replaces_document_id=document.replaces_id,
            source_plugin=document.source_plugin,
        )
    return kernel.hooks.on_document_validated(event)


def deprecate(
    kernel: Kernel, pharmacy_id: int, document_id: int, operator_id: int, reason_fr: str
) -> list[ActionRequired]:
    """Withdraw a validated document (a cancelled act, a document sent for the wrong patient...)."""
    with kernel.transaction() as session:
        document = _get(session, pharmacy_id, document_id)
        if document.status != DocumentStatus.VALIDATED:
            raise ValidationError(
                "Seul un document validé peut être supprimé.", detail=f"document {document_id} is {document.status}"
            )
        document.status = DocumentStatus.DEPRECATED
        document.status_changed_at = utcnow()
        document.status_reason = reason_fr[:300]
        _audit(
            session,
            document,
            "document.deprecated",
            f"Document « {document.title} » supprimé : {reason_fr}",
            operator_id,
            details={"unique_id": document.unique_id},
        )
        event = DocumentDeprecated(**_event_fields(document, operator_id), reason_fr=reason_fr)
    return kernel.hooks.on_document_deprecated(event)


def documents_for_patient(
    session: Session, pharmacy_id: int, patient_id: int, *, include_drafts: bool = True
) -> list[HealthDocument]:
    query = select(HealthDocument).where(
        HealthDocument.pharmacy_id == pharmacy_id, HealthDocument.patient_id == patient_id
    )
    if not include_drafts:
        query = query.where(HealthDocument.status != DocumentStatus.DRAFT)
    return list(session.scalars(query.order_by(HealthDocument.created_at, HealthDocument.id)))
