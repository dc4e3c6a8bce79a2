"""Attaching a quarantined document to a patient by hand, with the identity checks (RNIV).

A document the software could not integrate (unknown patient, INS absent or different, identity not qualified…)
waits in the quarantine. A person holding the quarantine right chooses the patient; the screen shows the document's
identity traits beside the patient's, each one compared, and the INS. Attaching is refused when a trait differs
or when the document's INS is not the patient's qualified INS; otherwise the person confirms having checked, and the
documents join the patient's file — written to the audit log with the operator's name, as is a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from lgo.api import IdentityNotShareable, Kernel, LgoError, NotFound, Patient, ValidationError, traits, utcnow
from sqlalchemy import select

from lgo_mssante import mailbox
from lgo_mssante import message as mail
from lgo_mssante.model import MessageStatus, MssMessage, MssReceivedDocument

PLUGIN = "mssante"


@dataclass(frozen=True)
class TraitCheck:
    label_fr: str
    document: str
    patient: str
    same: bool


@dataclass(frozen=True)
class Checks:
    rows: tuple[TraitCheck, ...]
    ins_fr: str
    #: Why attaching is refused (empty: the person may confirm and attach).
    blocking_fr: str = ""

    @property
    def ok(self) -> bool:
        return not self.blocking_fr


def _iso(birth_time: str) -> str:
    return f"{birth_time[0:4]}-{birth_time[4:6]}-{birth_time[6:8]}" if len(birth_time) >= 8 else birth_time


def _french(iso: str) -> str:
    parts = iso.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else iso


def checks(kernel: Kernel, pharmacy_id: int, message_row: int, patient_id: int) -> Checks:
    """The document's identity against the patient's, trait by trait, and the INS."""
    documents = mailbox.documents_of(kernel, pharmacy_id, message_row)
    if not documents:
        return Checks((), "", "Ce message ne contient aucun document à rattacher.")
    try:
        found = [mail.cda_patient(d.cda) for d in documents]
    except LgoError as exc:
        return Checks((), "", f"Document illisible : {exc.message_fr}")
    document = found[0]
    if any(
        (p.matricule, p.birth_name, p.birth_time) != (document.matricule, document.birth_name, document.birth_time)
        for p in found[1:]
    ):
        return Checks((), "", "Les documents de ce message concernent plusieurs patients : rattachement impossible.")
    with kernel.transaction() as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.pharmacy_id != pharmacy_id:
            raise NotFound("Patient introuvable.", detail=f"patient {patient_id}")
        sex = {"U": "I", "UN": "I"}.get(document.sex, document.sex)
        rows = (
            TraitCheck(
                "Nom de naissance",
                document.birth_name,
                patient.birth_name,
                traits.same_name(document.birth_name, patient.birth_name),
            ),
            TraitCheck(
                "Premier prénom",
                document.first_name,
                patient.first_names,
                bool(document.first_name) and traits.first_name_in(document.first_name, patient.first_names),
            ),
            TraitCheck(
                "Date de naissance",
                document.birth_date_fr,
                _french(patient.birth_date_text),
                _iso(document.birth_time) == patient.birth_date_text,
            ),
            TraitCheck("Sexe", sex, patient.sex.value, sex == patient.sex.value),
        )
    try:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
    except IdentityNotShareable:
        identity = None
    blocking = ""
    if identity is None:
        ins_fr = (
            f"INS du document : {document.matricule or 'absente'} ; identité du patient non qualifiée à l'officine "
            "— vérifiez avec une pièce d'identité avant de rattacher."
        )
    elif document.has_ins and (document.matricule, document.oid) != (identity.matricule, identity.oid):
        ins_fr = f"INS du document : {document.matricule} ; INS qualifiée du patient : {identity.matricule}."
        blocking = "L'INS du document n'est pas celle du patient choisi : ce document ne le concerne pas."
    else:
        ins_fr = (
            f"INS du document : {document.matricule or 'absente'} ; INS qualifiée du patient : {identity.matricule}."
        )
    different = [row.label_fr.lower() for row in rows if not row.same]
    if different and not blocking:
        blocking = (
            "Les traits du document ne correspondent pas à ceux du patient choisi ("
            + ", ".join(different)
            + ") : choisissez le bon patient, ou laissez le document en quarantaine."
        )
    return Checks(rows, ins_fr, blocking)


def attach(
    kernel: Kernel, pharmacy_id: int, operator_id: int, message_id: int | str, patient_id: int, *, confirmed: bool
) -> int:
    """Attach the documents of a quarantined message to the patient; returns how many."""
    from lgo_mssante.provider import NotAllowed

    allowed = mailbox.require(kernel, pharmacy_id, operator_id, "quarantine")
    name = _operator_name(kernel, operator_id)
    with kernel.transaction() as session:
        row = mailbox.owned_row(session, pharmacy_id, message_id, allowed.account_ids)
        if row.status != MessageStatus.QUARANTINED:
            raise NotAllowed("Ce message n'est pas (ou plus) en quarantaine.", detail=f"message {row.id} {row.status}")
        pk, sender, code = row.id, row.peer, row.error_code
    found = checks(kernel, pharmacy_id, pk, patient_id)
    if not found.ok or not confirmed:
        reason = found.blocking_fr or "Cochez « J'ai vérifié l'identité du patient » pour rattacher le document."
        mailbox.audit_message(
            kernel,
            pharmacy_id,
            "mssante.attach.refused",
            f"Rattachement à la main refusé à {name} (message de {sender}) : {reason}",
            pk,
            operator_id=operator_id,
            patient_id=patient_id,
        )
        raise ValidationError(reason, detail=f"message {pk} patient {patient_id}")
    documents = mailbox.documents_of(kernel, pharmacy_id, pk)
    with kernel.transaction() as session:
        message = session.get(MssMessage, pk)
        assert message is not None
        already = set(
            session.scalars(
                select(MssReceivedDocument.unique_id).where(
                    MssReceivedDocument.pharmacy_id == pharmacy_id, MssReceivedDocument.message_id == pk
                )
            )
        )
        for document in documents:
            if document.unique_id in already:
                continue
            session.add(
                MssReceivedDocument(
                    pharmacy_id=pharmacy_id,
                    message_id=pk,
                    patient_id=patient_id,
                    unique_id=document.unique_id,
                    type_code=document.type_code,
                    title=document.title[:500],
                    content=document.cda,
                    attached_by=operator_id,
                )
            )
        message.status, message.patient_id, message.updated_at = MessageStatus.INTEGRATED, patient_id, utcnow()
        message.reason_fr = f"rattaché à la main par {name}"[:1000]
        patient = session.get(Patient, patient_id)
        mailbox.audit_message(
            kernel,
            pharmacy_id,
            "mssante.attached",
            f"{len(documents)} document(s) du message de {sender} rattaché(s) à la main au dossier de "
            f"{patient.display_name if patient else patient_id} par {name}"
            + (f" (quarantaine, erreur {code})." if code else "."),
            pk,
            session=session,
            operator_id=operator_id,
            patient_id=patient_id,
        )
    return len(documents)


def _operator_name(kernel: Kernel, operator_id: int) -> str:
    from lgo.api import Operator

    with kernel.transaction() as session:
        operator = session.get(Operator, operator_id)
        return operator.display_name if operator is not None else f"opérateur n° {operator_id}"
