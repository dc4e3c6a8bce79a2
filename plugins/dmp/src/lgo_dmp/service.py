"""Feeding the DMP from validated documents, and consulting it.

Feeding: a validated document of a type the pharmacy feeds automatically gets a ``dmp_submission`` row; if the
patient's identity is qualified it is queued in the outbox (kind ``dmp.send``, idempotency key = the document's
unique id), else it waits with a visible reason until ``lgo_on_identity_qualified``. Delivery is idempotent: a
retry first asks the DMP whether it holds the document (one call settles a lost answer), and sends only if not; a
document whose sending may have reached the DMP is never shown as failed, only as not confirmed.

Consultation needs the habilitation ``dmp.consult``; every access is traced before the call and its outcome after,
whatever happens (:mod:`lgo_dmp.access`), which :func:`access_history` reads back for the patient.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgo.api import (
    DocumentStatus,
    HealthDocument,
    IdentityNotShareable,
    KeySigner,
    LgoError,
    NotFound,
    Operator,
    PermissionDenied,
    Pharmacy,
    Role,
    SharedIdentity,
    ValidationError,
    audit,
    client_tls_context,
    datetime_fr,
    get_scoped,
    identifiers,
    outbox,
    parse_untrusted,
    utcnow,
)
from lgo.api import cda as cda_builder
from lgo.api import xds_codes as codes
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_dmp.access import (  # noqa: F401 - the published names of consultation
    HABILITATION_CONSULT,
    Access,
    access_history,
    traced,
)
from lgo_dmp.client import DmpClient, DmpEntry, DmpRefused, DmpUnavailable
from lgo_dmp.model import DmpSubmission, SubmissionStatus
from lgo_dmp.settings import client_credentials, settings, source_id
from lgo_dmp.soap import ACTION_ITI41
from lgo_dmp.vihf import VihfContext, build_vihf

if TYPE_CHECKING:
    from lgo.api import Delivery, DocumentDeprecated, DocumentValidated, IdentityQualified, Kernel

PLUGIN = "dmp"
#: Habilitations this plugin declares (``lgo_register_habilitations``) and checks (consultation: :mod:`access`).
HABILITATION_FEED = "dmp.feed"

KIND_SEND = "dmp.send"
KIND_DEPRECATE = "dmp.deprecate"
#: ``DmpSubmission.result`` while a sending's answer was lost.
UNCONFIRMED = "unconfirmed"
WAITING_IDENTITY = "identité non qualifiée"


# --- the client, as the pharmacy and the operator -------------------------------------------------------------


def make_client(kernel: Kernel, pharmacy_id: int, operator_id: int) -> DmpClient:
    current = settings(kernel, pharmacy_id)
    if not current.endpoint:
        raise ValidationError(
            "L'adresse des services du DMP n'est pas renseignée : choisissez-la dans Paramètres › DMP.",
            detail="dmp endpoint not configured",
        )
    credential, ca = client_credentials(kernel, pharmacy_id)
    with kernel.transaction() as session:
        operator = session.get(Operator, operator_id)
        pharmacy = session.get(Pharmacy, pharmacy_id)
        if operator is None or pharmacy is None:
            raise NotFound("Opérateur ou officine introuvable.", detail=f"operator {operator_id}")
        rpps, family, given = operator.rpps or "", operator.last_name.upper(), operator.first_name
        section = "A" if operator.role == Role.TITULAIRE else "DA"
        structure = identifiers.idnat_structure(pharmacy.finess)
        installation = source_id(current, pharmacy.finess)
    signer = KeySigner.from_credential(credential)

    def vihf(patient_id: str) -> Any:
        return build_vihf(
            signer,
            VihfContext(
                structure_id=structure,
                rpps=rpps,
                family=family,
                given=given,
                patient_id=patient_id,
                cnop_section=section,
                lps_id=installation,
            ),
        )

    return DmpClient(
        current.endpoint,
        ssl_context=client_tls_context(credential, ca),
        vihf=vihf,
        source_id=installation,
        signer=signer,
        timeout=current.timeout_seconds,
    )


def masking_of(document: HealthDocument) -> tuple[str, ...]:
    chosen = []
    if document.hidden_from_patient:
        chosen.append("INVISIBLE_PATIENT")
    if document.hidden_from_legal_representatives:
        chosen.append("INVISIBLE_REPRESENTANTS_LEGAUX")
    if document.masked_from_professionals:
        chosen.append("MASQUE_PS")
    return tuple(chosen)


def content_for_dmp(document: HealthDocument, identity: SharedIdentity) -> bytes:
    """The CDA as sent: the document's own bytes, with the qualified INS in ``recordTarget`` when the document was
    validated before the identity was qualified (the header then names the patient by local traits only)."""
    if not document.content:
        raise ValidationError("Le document est vide.", detail=f"document {document.id}")
    root = parse_untrusted(document.content, what="document CDA")
    ns = {"h": cda_builder.NS}
    patient_id = root.find("h:recordTarget/h:patientRole/h:id", ns)
    if (
        patient_id is not None
        and patient_id.get("root") == identity.oid
        and patient_id.get("extension") == identity.matricule
    ):
        return document.content
    old = root.find("h:recordTarget", ns)
    scratch = etree.Element(f"{{{cda_builder.NS}}}ClinicalDocument")
    new = cda_builder.add_record_target(scratch, identity)
    if old is not None:
        old.addprevious(new)
        root.remove(old)
    else:
        anchor = root.find("h:versionNumber", ns)
        if anchor is None:
            raise ValidationError("En-tête CDA incomplet (versionNumber).", detail=f"document {document.id}")
        anchor.addnext(new)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --- feeding ------------------------------------------------------------------------------------------------


def _submission(session: Session, pharmacy_id: int, document_id: int) -> DmpSubmission | None:
    return session.scalar(
        select(DmpSubmission).where(DmpSubmission.pharmacy_id == pharmacy_id, DmpSubmission.document_id == document_id)
    )


def _queue(session: Session, submission: DmpSubmission, *, round_: int = 0) -> None:
    key = f"dmp:send:{submission.unique_id}" + (f":{round_}" if round_ else "")
    outbox.enqueue(
        session,
        submission.pharmacy_id,
        plugin=PLUGIN,
        kind=KIND_SEND,
        payload={"document_id": submission.document_id},
        idempotency_key=key,
        patient_id=submission.patient_id,
    )
    submission.status = SubmissionStatus.QUEUED
    submission.reason_fr = None
    submission.updated_at = utcnow()


def track(kernel: Kernel, pharmacy_id: int, document_id: int, *, force: bool = False) -> DmpSubmission | None:
    """Create or refresh the submission of a validated document; queue it when the identity is shareable."""
    current = settings(kernel, pharmacy_id)
    shareable: bool | None = None
    with kernel.transaction() as session:
        document = session.get(HealthDocument, document_id)
        if document is None or document.pharmacy_id != pharmacy_id or document.status != DocumentStatus.VALIDATED:
            return None
        if not force and document.type_code not in current.auto_feed_types:
            return None
        codes.kind(document.type_code)
        patient_id = document.patient_id
    shareable = kernel.is_identity_shareable(pharmacy_id, patient_id)
    with kernel.transaction() as session:
        document = session.get(HealthDocument, document_id)
        assert document is not None
        submission = _submission(session, pharmacy_id, document_id)
        if submission is None:
            submission = DmpSubmission(
                pharmacy_id=pharmacy_id,
                document_id=document_id,
                patient_id=patient_id,
                unique_id=document.unique_id,
                status=SubmissionStatus.WAITING,
                sends=0,
            )
            session.add(submission)
            session.flush()
        if submission.status in (SubmissionStatus.SENT, SubmissionStatus.QUEUED):
            session.flush()
            session.expunge(submission)
            return submission
        if shareable:
            _queue(session, submission, round_=submission.sends)
            audit.record(
                session,
                pharmacy_id,
                "dmp.queued",
                f"Document « {document.title} » mis en file d'envoi vers le DMP.",
                actor=PLUGIN,
                patient_id=patient_id,
                object_type="health_document",
                object_id=document_id,
            )
        elif submission.reason_fr != WAITING_IDENTITY:
            submission.status = SubmissionStatus.WAITING
            submission.reason_fr = WAITING_IDENTITY
            submission.updated_at = utcnow()
            audit.record(
                session,
                pharmacy_id,
                "dmp.waiting",
                f"Document « {document.title} » en attente de la qualification de l'identité pour le DMP.",
                actor=PLUGIN,
                patient_id=patient_id,
                object_type="health_document",
                object_id=document_id,
            )
        session.flush()
        session.expunge(submission)
        return submission


def on_document_validated(kernel: Kernel, event: DocumentValidated) -> None:
    track(kernel, event.pharmacy_id, event.document_id)


def on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    with kernel.transaction() as session:
        waiting = list(
            session.scalars(
                select(DmpSubmission.document_id).where(
                    DmpSubmission.pharmacy_id == event.pharmacy_id,
                    DmpSubmission.patient_id == event.patient_id,
                    DmpSubmission.status == SubmissionStatus.WAITING,
                )
            )
        )
    for document_id in waiting:
        track(kernel, event.pharmacy_id, document_id, force=True)


def on_document_deprecated(kernel: Kernel, event: DocumentDeprecated) -> None:
    with kernel.transaction() as session:
        submission = _submission(session, event.pharmacy_id, event.document_id)
        if submission is None:
            return
        if submission.status == SubmissionStatus.WAITING:
            submission.status = SubmissionStatus.DEPRECATED
            submission.reason_fr = "document supprimé avant l'envoi"
            return
        outbox.enqueue(
            session,
            event.pharmacy_id,
            plugin=PLUGIN,
            kind=KIND_DEPRECATE,
            payload={"document_id": event.document_id, "operator_id": event.operator_id},
            idempotency_key=f"dmp:deprecate:{event.unique_id}",
            patient_id=event.patient_id,
        )


def _mark(kernel: Kernel, pharmacy_id: int, document_id: int, **fields: Any) -> None:
    with kernel.transaction() as session:
        submission = _submission(session, pharmacy_id, document_id)
        if submission is None:
            return
        for name, value in fields.items():
            setattr(submission, name, value)
        submission.updated_at = utcnow()


def deliver(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler ``dmp.send``: send one document (idempotent by its unique id)."""
    from lgo.api import PermanentFailure

    pharmacy_id = delivery.pharmacy_id
    document_id = int(delivery.payload["document_id"])
    with kernel.transaction() as session:
        document = session.get(HealthDocument, document_id)
        if document is None:
            raise PermanentFailure(
                f"document {document_id} not found",
                message_fr=f"Le document n° {document_id} n'existe plus : il ne peut pas être envoyé au DMP.",
            )
        session.expunge(document)
        submission = _submission(session, pharmacy_id, document_id)
        if submission is not None:
            submission.attempts += 1
        if submission is not None and submission.status == SubmissionStatus.SENT:
            return
        # A sending of an earlier attempt may have reached the DMP (answer lost, worker stopped): ask first.
        unconfirmed = submission is not None and submission.result == UNCONFIRMED
    if document.status == DocumentStatus.DEPRECATED:
        _mark(
            kernel,
            pharmacy_id,
            document_id,
            status=SubmissionStatus.DEPRECATED,
            reason_fr="document supprimé avant l'envoi",
        )
        return
    try:
        identity = kernel.shareable_identity(pharmacy_id, document.patient_id)
    except IdentityNotShareable:
        _mark(kernel, pharmacy_id, document_id, status=SubmissionStatus.WAITING, reason_fr=WAITING_IDENTITY)
        return
    if document.replaces_id is not None:
        with kernel.transaction() as session:
            previous = _submission(session, pharmacy_id, document.replaces_id)
            previous_status = previous.status if previous is not None else None
        if previous_status in (SubmissionStatus.WAITING, SubmissionStatus.QUEUED):
            # The DMP must hold the version this one replaces: wait for it (the outbox retries later).
            _mark(
                kernel,
                pharmacy_id,
                document_id,
                status=SubmissionStatus.QUEUED,
                reason_fr="en attente de l'envoi de la version précédente",
            )
            raise DmpUnavailable(
                "La version précédente n'est pas encore dans le DMP : nouvel essai plus tard.",
                detail=f"document {document.replaces_id} is {previous_status}",
            )
    operator_id = document.validated_by or document.author_operator_id
    try:
        with make_client(kernel, pharmacy_id, operator_id) as client:
            result = _send(kernel, client, document, content_for_dmp(document, identity), ask_first=unconfirmed)
    except DmpRefused as refused:
        _mark(
            kernel,
            pharmacy_id,
            document_id,
            status=SubmissionStatus.UNCONFIRMED
            if _maybe_held(kernel, pharmacy_id, document_id)
            else SubmissionStatus.FAILED,
            reason_fr=refused.message_fr[:500],
            last_error=refused.detail,
        )
        kernel.audit(
            pharmacy_id,
            "dmp.refused",
            f"Document « {document.title} » refusé par le DMP : {refused.message_fr}",
            actor=PLUGIN,
            patient_id=document.patient_id,
            object_type="health_document",
            object_id=document_id,
        )
        raise PermanentFailure(refused.detail, message_fr=refused.message_fr) from refused
    except (DmpUnavailable, LgoError) as failure:
        if delivery.last_attempt and _maybe_held(kernel, pharmacy_id, document_id):
            # The DMP may hold it (an answer was lost): not a failure. Sending it again asks the DMP first.
            status, reason_fr = (
                SubmissionStatus.UNCONFIRMED,
                f"le DMP n'a pas confirmé l'envoi après {delivery.attempt} essais ({failure.message_fr}) ; il le "
                "détient peut-être : « relancer » le vérifie d'abord, sans doublon",
            )
        elif delivery.last_attempt:
            # The outbox gives up after this attempt: say so, so that the pharmacist can send it again.
            status, reason_fr = (
                SubmissionStatus.FAILED,
                f"abandon après {delivery.attempt} essais : {failure.message_fr}",
            )
        else:
            status, reason_fr = SubmissionStatus.QUEUED, f"nouvel essai prévu : {failure.message_fr}"
        _mark(kernel, pharmacy_id, document_id, status=status, reason_fr=reason_fr[:500], last_error=failure.detail)
        raise
    _mark(
        kernel,
        pharmacy_id,
        document_id,
        status=SubmissionStatus.SENT,
        reason_fr=None,
        result=result,
        sent_at=utcnow(),
        last_error=None,
    )
    kernel.audit(
        pharmacy_id,
        "dmp.sent",
        f"Document « {document.title} » déposé dans le DMP.",
        actor=PLUGIN,
        patient_id=document.patient_id,
        object_type="health_document",
        object_id=document_id,
        details={"unique_id": document.unique_id, "result": result},
    )


def _send(kernel: Kernel, client: DmpClient, document: HealthDocument, content: bytes, *, ask_first: bool) -> str:
    """Send the document, in one call after a lost answer: the DMP is asked first and the document sent only if the
    DMP does not hold it. From the moment the sending leaves until the DMP answers, it is "unconfirmed", so that
    a worker stopped meanwhile (or an answer lost) makes the next attempt ask first too."""
    if ask_first and client.holds(content):
        return "already"
    _mark(kernel, document.pharmacy_id, document.id, result=UNCONFIRMED)
    try:
        return client.provide_and_register(content, masking=masking_of(document), title=document.title)
    except DmpUnavailable as failure:
        if not (failure.maybe_processed and failure.action == ACTION_ITI41):
            _mark(kernel, document.pharmacy_id, document.id, result=None)  # it never reached the DMP
        raise
    except Exception:  # refused, or stopped before the sending: the DMP does not hold it
        _mark(kernel, document.pharmacy_id, document.id, result=None)
        raise


def _maybe_held(kernel: Kernel, pharmacy_id: int, document_id: int) -> bool:
    with kernel.transaction() as session:
        submission = _submission(session, pharmacy_id, document_id)
        return submission is not None and submission.result == UNCONFIRMED


def deliver_deprecation(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler ``dmp.deprecate``: withdraw a document from the DMP (TD3.3c)."""
    from lgo.api import PermanentFailure

    pharmacy_id = delivery.pharmacy_id
    document_id = int(delivery.payload["document_id"])
    with kernel.transaction() as session:
        document = session.get(HealthDocument, document_id)
        if document is None:
            raise PermanentFailure(
                f"document {document_id} not found",
                message_fr=f"Le document n° {document_id} n'existe plus : il ne peut pas être envoyé au DMP.",
            )
        session.expunge(document)
    identity = kernel.shareable_identity(pharmacy_id, document.patient_id)
    with make_client(kernel, pharmacy_id, int(delivery.payload["operator_id"])) as client:
        entry = client.get_document_entry(identity.xds_patient_id, document.unique_id)
        if entry is not None and not entry.status.endswith("Deprecated"):
            client.deprecate(identity.xds_patient_id, entry)
    _mark(kernel, pharmacy_id, document_id, status=SubmissionStatus.DEPRECATED, reason_fr=None)
    kernel.audit(
        pharmacy_id,
        "dmp.deprecated",
        f"Document « {document.title} » supprimé du DMP.",
        actor=PLUGIN,
        patient_id=document.patient_id,
        object_type="health_document",
        object_id=document_id,
    )


# --- the operator's sending (title, visibility, send, confirmation) -----------------------------------------


@dataclass(frozen=True)
class SendChoices:
    """What the operator is shown before sending, with the defaults."""

    document_id: int
    title: str
    visible_to_patient: bool
    visible_to_legal_representatives: bool
    visible_to_professionals: bool


def send_choices(kernel: Kernel, pharmacy_id: int, document_id: int) -> SendChoices:
    current = settings(kernel, pharmacy_id)
    with kernel.transaction() as session:
        document = get_scoped(session, HealthDocument, document_id, pharmacy_id, "document")
        return SendChoices(
            document_id,
            document.title,
            current.default_visible_to_patient,
            current.default_visible_to_legal_representatives,
            current.default_visible_to_professionals,
        )


def validate_and_send(
    kernel: Kernel, pharmacy_id: int, document_id: int, operator_id: int, choices: SendChoices
) -> str:
    """Validate the draft with the operator's title and visibility, send it, and return the confirmation."""
    from lgo.api import documents

    documents.validate(
        kernel,
        pharmacy_id,
        document_id,
        operator_id,
        title=choices.title,
        hidden_from_patient=not choices.visible_to_patient,
        hidden_from_legal_representatives=not choices.visible_to_legal_representatives,
        masked_from_professionals=not choices.visible_to_professionals,
    )
    submission = track(kernel, pharmacy_id, document_id, force=True)
    who = [
        label
        for label, visible in (
            ("le patient", choices.visible_to_patient),
            ("ses représentants légaux", choices.visible_to_legal_representatives),
            ("les professionnels de santé", choices.visible_to_professionals),
        )
        if visible
    ]
    seen = ", ".join(who) if who else "personne d'autre que vous"
    if submission is not None and submission.status == SubmissionStatus.WAITING:
        return f"« {choices.title} » validé ; envoi au DMP en attente : {WAITING_IDENTITY}. Visible par : {seen}."
    return f"« {choices.title} » validé et mis en file d'envoi vers le DMP. Visible par : {seen}."


def resend(kernel: Kernel, pharmacy_id: int, document_id: int, operator_id: int) -> None:
    """Send again a document whose sending failed (after correcting the cause)."""
    with kernel.transaction() as session:
        submission = _submission(session, pharmacy_id, document_id)
        if submission is None or submission.status not in (SubmissionStatus.FAILED, SubmissionStatus.UNCONFIRMED):
            raise ValidationError(
                "Seul un envoi en échec ou non confirmé peut être relancé.", detail=f"document {document_id}"
            )
        submission.sends += 1
        _queue(session, submission, round_=submission.sends)
        audit.record(
            session,
            pharmacy_id,
            "dmp.resend",
            "Nouvel envoi au DMP demandé.",
            operator_id=operator_id,
            patient_id=submission.patient_id,
            object_type="health_document",
            object_id=document_id,
        )


def submissions_for_patient(kernel: Kernel, pharmacy_id: int, patient_id: int) -> list[DmpSubmission]:
    with kernel.transaction() as session:
        rows = list(
            session.scalars(
                select(DmpSubmission)
                .where(DmpSubmission.pharmacy_id == pharmacy_id, DmpSubmission.patient_id == patient_id)
                .order_by(DmpSubmission.id)
            )
        )
        for row in rows:
            session.expunge(row)
        return rows


# --- consultation --------------------------------------------------------------------------------------------


def authorise_send(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, what: str) -> SharedIdentity:
    """The patient's shareable identity if the operator may feed the DMP (``dmp.feed``) and the identity is
    qualified; else a French refusal, written to the audit log with the operator's name (the send window)."""
    with kernel.transaction() as session:
        operator = session.get(Operator, operator_id)
        name = operator.display_name if operator is not None else f"opérateur n° {operator_id}"
        allowed = (
            operator is not None
            and operator.pharmacy_id == pharmacy_id
            and operator.active
            and operator.has(HABILITATION_FEED)
        )
        if not allowed:
            audit.record(
                session,
                pharmacy_id,
                "dmp.send.refused",
                f"Envoi au DMP refusé ({what}) à {name} : habilitation manquante.",
                operator_id=operator_id,
                patient_id=patient_id,
                actor=PLUGIN,
            )
    if not allowed:
        raise PermissionDenied(
            "Vous n'êtes pas habilité(e) à alimenter le DMP.",
            detail=f"operator {operator_id} lacks {HABILITATION_FEED}",
        )
    try:
        return kernel.shareable_identity(pharmacy_id, patient_id)
    except IdentityNotShareable:
        kernel.audit(
            pharmacy_id,
            "dmp.send.refused",
            f"Envoi au DMP impossible ({what}) pour {name} : identité non qualifiée.",
            operator_id=operator_id,
            patient_id=patient_id,
            actor=PLUGIN,
        )
        raise


def list_documents(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> list[DmpEntry]:
    with traced(kernel, pharmacy_id, operator_id, patient_id, "liste des documents") as trace:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
        with make_client(kernel, pharmacy_id, operator_id) as client:
            entries = client.find_documents(identity.xds_patient_id, include_deprecated=True)
        trace.done_action = "dmp.consult.list"
        trace.done_fr = (
            f"Consultation de la liste des documents du DMP par {trace.operator_name} ({len(entries)} document(s))."
        )
    return sorted(entries, key=lambda e: e.creation_time, reverse=True)


def open_document(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, entry: DmpEntry) -> bytes:
    with traced(kernel, pharmacy_id, operator_id, patient_id, f"document « {entry.title} »") as trace:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
        with make_client(kernel, pharmacy_id, operator_id) as client:
            content = client.retrieve(identity.xds_patient_id, entry.unique_id, entry.repository_unique_id)
        trace.done_action = "dmp.consult.document"
        trace.done_fr = f"Consultation du document « {entry.title} » du DMP par {trace.operator_name}."
        trace.details = {"unique_id": entry.unique_id}
    return content


def render_document(content: bytes) -> str:
    from lgo.api import rendering

    return rendering.render_html(content)


def documents_of_types(
    kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, type_codes: Collection[str], purpose_fr: str
) -> list[tuple[DmpEntry, bytes]]:
    """The patient's current DMP documents of these types with their content (each access traced, and the selection
    itself, with what it was for)."""
    with traced(kernel, pharmacy_id, operator_id, patient_id, purpose_fr) as trace:
        entries = [
            e
            for e in list_documents(kernel, pharmacy_id, operator_id, patient_id)
            if e.type_code in type_codes and not e.status.endswith("Deprecated")
        ]
        found = [(entry, open_document(kernel, pharmacy_id, operator_id, patient_id, entry)) for entry in entries]
        trace.done_action = "dmp.consult.selection"
        trace.done_fr = f"Consultation du DMP par {trace.operator_name} : {purpose_fr} ({len(found)} document(s))."
    return found


def status_lines(kernel: Kernel, pharmacy_id: int, patient_id: int | None = None) -> list[str]:
    """One French line per document followed for the DMP: title, type, state (waiting reason, failure message)."""
    with kernel.transaction() as session:
        query = (
            select(DmpSubmission, HealthDocument)
            .join(HealthDocument, HealthDocument.id == DmpSubmission.document_id)
            .where(DmpSubmission.pharmacy_id == pharmacy_id)
        )
        if patient_id is not None:
            query = query.where(DmpSubmission.patient_id == patient_id)
        lines = []
        for submission, document in session.execute(query.order_by(DmpSubmission.id)):
            when = f", le {datetime_fr(submission.sent_at)}" if submission.sent_at else ""  # Paris time
            lines.append(
                f"n° {document.id} « {document.title} » ({document.type_display}, patient n° "
                f"{document.patient_id}) : {submission.status_fr}{when} — {submission.attempts} tentative(s)"
            )
    return lines
