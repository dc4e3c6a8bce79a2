"""Writing a message at the counter: a new one, a reply, a forward — to professionals (typed, or found in the
Annuaire Santé) and, only when the patient's INS is qualified, to the patient's Mon espace santé mailbox, with
documents of the patient's file attached (sent in an XDM archive with their PDF copy).

:func:`queue` checks everything and queues in one transaction (outbox ``mssante.send``); the worker composes and
submits. A message with documents takes the MSSanté subject ``XDM/1.0/DDM+<titre> <NOM> <prénom> <date>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lgo.api import (
    DocumentStatus,
    HealthDocument,
    IdentityNotShareable,
    NotFound,
    Operator,
    ValidationError,
    outbox,
)

from lgo_mssante import accounts, mailbox
from lgo_mssante import message as mail
from lgo_mssante.model import Direction, MessageStatus, MssMessage

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "mssante"
SEND = "mssante.send"

MAX_BODY = 20_000


def addresses(text: str | Sequence[str]) -> list[str]:
    """Addresses typed (separated by commas, semicolons or spaces), lower-cased, each once; a French error names the
    ones that are not e-mail addresses."""
    items = re.split(r"[,;\s]+", text) if isinstance(text, str) else list(text)
    found = list(dict.fromkeys(a.strip().lower() for a in items if a.strip()))
    bad = [a for a in found if not accounts.ADDRESS.match(a)]
    if bad:
        raise ValidationError(f"Adresse MSSanté invalide : {', '.join(bad)}.", detail=f"addresses {bad}")
    return found


def patient_address(kernel: Kernel, pharmacy_id: int, patient_id: int) -> str:
    """The patient's Mon espace santé address — only for a qualified INS (else a French refusal)."""
    try:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
    except IdentityNotShareable as exc:
        raise ValidationError(
            "L'INS du patient n'est pas qualifiée : la messagerie de Mon espace santé n'est accessible qu'avec une "
            "INS qualifiée, et les documents ne peuvent pas être envoyés par MSSanté. Qualifiez l'identité.",
            detail=f"patient {patient_id} not shareable: {exc.detail}",
        ) from exc
    domain = kernel.plugin_settings(pharmacy_id, PLUGIN).patient_domain  # type: ignore[attr-defined]
    return f"{identity.matricule}@{domain}"


def queue(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    *,
    professionals: Sequence[str] = (),
    patient_id: int | None = None,
    to_patient: bool = False,
    document_ids: Sequence[int] = (),
    subject: str = "",
    body: str = "",
    reply_to: int | None = None,
    forward_of: int | None = None,
    read_receipt: bool | None = None,
    block_patient_reply: bool = False,
) -> int:
    """Queue one message; returns its id. ``reply_to`` / ``forward_of``: a received message of the operator's boxes."""
    allowed = mailbox.require(kernel, pharmacy_id, operator_id, "send")
    settings = kernel.plugin_settings(pharmacy_id, PLUGIN)
    recipients = addresses(professionals)
    if to_patient:
        if patient_id is None:
            raise ValidationError("Choisissez d'abord le patient (F2) pour lui écrire.", detail="no patient")
        recipients.append(patient_address(kernel, pharmacy_id, patient_id))
    if document_ids and patient_id is None:
        raise ValidationError("Des documents ne s'envoient qu'au sujet d'un patient.", detail="documents, no patient")
    if patient_id is not None and document_ids:
        patient_address(kernel, pharmacy_id, patient_id)  # documents leave only with a qualified INS
    if not recipients:
        raise ValidationError("Choisissez au moins un destinataire.", detail="no recipient")
    if len(body) > MAX_BODY:
        raise ValidationError(f"Le message est trop long ({len(body)} caractères, {MAX_BODY} au plus).")
    provider = kernel.selected_provider(pharmacy_id, accounts.CAPABILITY) or ""
    with kernel.transaction() as session:
        account = accounts.sending_account(session, pharmacy_id, provider, operator_id)
        if account.id not in allowed.account_ids:
            raise NotFound("Boîte MSSanté indisponible pour vous.", detail=f"account {account.id}")
        documents = [session.get(HealthDocument, i) for i in document_ids]
        if any(d is None or d.pharmacy_id != pharmacy_id or d.patient_id != patient_id for d in documents):
            raise NotFound("Document introuvable pour ce patient.", detail=f"documents {list(document_ids)}")
        if any(d.status != DocumentStatus.VALIDATED for d in documents if d is not None):
            raise ValidationError("Seuls les documents validés peuvent être envoyés.", detail="not validated")
        answered = (
            mailbox.owned_row(session, pharmacy_id, reply_to or forward_of or 0, allowed.account_ids)
            if reply_to or forward_of
            else None
        )
        if documents and documents[0] is not None:
            title = documents[0].title
            subject = mail.subject(title, mail.cda_patient(documents[0].content or b""))
        elif answered is not None and not subject.strip():
            subject = ("RE: " if reply_to else "TR: ") + answered.subject
        subject = " ".join(subject.split())[:500]
        if not subject:
            raise ValidationError("Indiquez l'objet du message.", detail="no subject")
        if not documents and not body.strip() and forward_of is None:
            raise ValidationError("Écrivez le message (ou joignez un document).", detail="empty message")
        row = MssMessage(
            pharmacy_id=pharmacy_id,
            account_id=account.id,
            direction=Direction.OUT,
            message_id=mail.new_message_id(account.address),
            peer=", ".join(recipients),
            subject=subject,
            patient_id=patient_id if patient_id is not None else (answered.patient_id if answered else None),
            operator_id=operator_id,
            status=MessageStatus.QUEUED,
            body=body,
            in_reply_to=reply_to,
            forward_of=forward_of,
        )
        session.add(row)
        session.flush()
        outbox.enqueue(
            session,
            pharmacy_id,
            plugin=PLUGIN,
            kind=SEND,
            patient_id=row.patient_id,
            idempotency_key=f"mssante:send:{row.id}",
            payload={
                "message": row.id,
                "documents": list(document_ids),
                "recipients": recipients,
                "body": body,
                "block_patient_reply": block_patient_reply,
                "read_receipt": settings.read_receipt if read_receipt is None else read_receipt,  # type: ignore[attr-defined]
                "forward_of": forward_of,
                "in_reply_to": answered.message_id if answered is not None and reply_to else "",
            },
        )
        operator = session.get(Operator, operator_id)
        what = "Réponse" if reply_to else "Transfert" if forward_of else "Message"
        mailbox.audit_message(
            kernel,
            pharmacy_id,
            "mssante.queued",
            f"{what} MSSanté mis en file pour {', '.join(recipients)} ({len(documents)} document(s)) par "
            f"{operator.display_name if operator else operator_id}.",
            row.id,
            session=session,
            operator_id=operator_id,
            patient_id=row.patient_id,
        )
        return row.id


def mark_handled(kernel: Kernel, pharmacy_id: int, operator_id: int, message_id: int | str) -> None:
    from lgo.api import utcnow

    allowed = mailbox.require(kernel, pharmacy_id, operator_id, "read")
    with kernel.transaction() as session:
        row = mailbox.owned_row(session, pharmacy_id, message_id, allowed.account_ids)
        if row.status == MessageStatus.QUARANTINED:
            raise ValidationError(
                "Un message en quarantaine se traite en rattachant son document au bon patient.",
                detail=f"message {row.id} quarantined",
            )
        row.handled_at, row.handled_by = utcnow(), operator_id
        operator = session.get(Operator, operator_id)
        mailbox.audit_message(
            kernel,
            pharmacy_id,
            "mssante.handled",
            f"Message MSSanté de {row.peer} marqué traité par {operator.display_name if operator else operator_id}.",
            row.id,
            session=session,
            operator_id=operator_id,
            patient_id=row.patient_id,
        )
