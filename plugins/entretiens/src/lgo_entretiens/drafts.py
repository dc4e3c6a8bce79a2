"""Interviews and bilans at the counter: a draft the pharmacist writes over several visits, its PDF previewed, then
validated — the DMP's send window when the ``dmp`` plugin is active — and what follows: the document sent by
MSSanté to the médecin traitant and the patient when chosen (``mssante`` plugin, through its published API), and the
act billed once.

A record stays a draft while its document is not validated; every change is kept at once. The preview is the PDF the
document will carry (the local identity traits while the INS is not qualified, marked so)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActDefinition,
    Counter,
    DocumentStatus,
    HealthDocument,
    IdentityNotShareable,
    Invoice,
    LgoError,
    Patient,
    Pharmacy,
    ValidationError,
    euros,
    utcnow,
)

from lgo_entretiens import pdf, service
from lgo_entretiens.model import InterviewRecord, RecordKind
from lgo_entretiens.themes import ACTS, THEMES

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "entretiens"


@dataclass(frozen=True)
class Draft:
    id: int
    patient_id: int
    kind: str
    theme: str
    label_fr: str
    held_on: date
    analysis: str
    recommendations: str
    answers: dict[str, str]
    medications: list[dict[str, Any]]
    document_id: int | None
    validated: bool
    act_code: str | None
    invoice_id: int | None
    message_id: int | None
    follow_up: dict[str, Any]


def label_of(record: InterviewRecord) -> str:
    return "Bilan partagé de médication" if record.kind == RecordKind.BPM else THEMES[record.theme].label_fr


def get(kernel: Kernel, pharmacy_id: int, record_id: int | str) -> Draft:
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        document = session.get(HealthDocument, record.document_id) if record.document_id else None
        return Draft(
            record.id,
            record.patient_id,
            record.kind.value,
            record.theme,
            label_of(record),
            record.held_on,
            record.analysis,
            record.recommendations,
            dict(record.answers or {}),
            list(record.medications or []),
            record.document_id,
            document is not None and document.status != DocumentStatus.DRAFT,
            record.act_code,
            record.invoice_id,
            record.message_id,
            dict(record.follow_up or {}),
        )


def _record(session: Any, pharmacy_id: int, record_id: int | str) -> InterviewRecord:
    from lgo.api import get_scoped

    found = get_scoped(session, InterviewRecord, record_id, pharmacy_id, "entretien")
    assert isinstance(found, InterviewRecord)
    return found


def start(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int, kind: str) -> int:
    """A new draft of this kind (a theme code, or ``BPM``), dated today; the BPM's list from the dispensing history."""
    today = date.today()
    if kind.upper() == "BPM":
        return service.record_bpm(
            kernel, pharmacy_id, patient_id, operator_id, held_on=today, analysis="", recommendations=""
        )
    return service.record_interview(
        kernel, pharmacy_id, patient_id, operator_id, theme_code=kind, held_on=today, analysis="", recommendations=""
    )


def update(
    kernel: Kernel,
    pharmacy_id: int,
    record_id: int | str,
    operator_id: int,
    *,
    held_on: date,
    analysis: str,
    recommendations: str,
    answers: dict[str, str],
    kept_medications: list[str] | None = None,
) -> None:
    """Keep the pharmacist's changes to a draft (refused once validated). ``kept_medications``: for a BPM, the CIP13
    of the listed medicines the pharmacist keeps (the others are left out)."""
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        document = session.get(HealthDocument, record.document_id) if record.document_id else None
        if document is not None and document.status != DocumentStatus.DRAFT:
            raise ValidationError("Ce compte rendu est validé : il ne peut plus être modifié.")
        if held_on > date.today():
            raise ValidationError("La date de l'entretien ne peut pas être dans le futur.")
        record.held_on = held_on
        record.analysis = service._clean(analysis, "L'analyse")
        record.recommendations = service._clean(recommendations, "Les recommandations")
        record.answers = service.clean_answers(record.theme, answers)
        if record.kind == RecordKind.BPM and kept_medications is not None:
            record.medications = [m for m in record.medications if str(m.get("cip13", "")) in kept_medications]
        record.updated_at = utcnow()
        service.audit(session, record, "draft_saved", f"Brouillon enregistré : {label_of(record)}.", operator_id)


def preview(kernel: Kernel, pharmacy_id: int, record_id: int | str) -> bytes:
    """The PDF as it will be sent (with the local traits, marked, while the identity is not qualified)."""
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        patient_id, record_pk = record.patient_id, record.id
    try:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
        patient = (
            f"{identity.birth_name} {' '.join(identity.first_names)}, né(e) le {service._birth(identity.birth_date)}, "
            f"INS {identity.matricule}"
        )
    except IdentityNotShareable:
        identity = None
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_pk)
        if identity is None:
            local = session.get(Patient, patient_id)
            assert local is not None
            patient = (
                f"{local.birth_name} {local.first_names}, né(e) le {local.birth_date.display_fr()} "
                "(identité non qualifiée : aperçu seulement)"
            )
        pharmacy = session.get(Pharmacy, pharmacy_id)
        operator = service._pharmacist(session, pharmacy_id, record.operator_id)
        assert pharmacy is not None
        document = session.get(HealthDocument, record.document_id) if record.document_id else None
        title = document.title if document is not None else service._title(record)[2]
        return pdf.render(service.report(record, title, pharmacy, operator, patient))


def choose_follow_up(
    kernel: Kernel, pharmacy_id: int, record_id: int | str, *, doctor: str, to_patient: bool, bill: bool
) -> None:
    """What happens once the document is validated: MSSanté to the médecin traitant / the patient, the act billed."""
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        record.follow_up = {"doctor": doctor.strip().lower(), "to_patient": bool(to_patient), "bill": bool(bill)}


def act(record: Draft) -> ActDefinition | None:
    return next((a for a in ACTS if a.code == record.act_code), None)


def finish(kernel: Kernel, pharmacy_id: int, record_id: int | str, operator_id: int) -> list[str]:
    """After the validation: send by MSSanté and bill the act as chosen, each once; French lines of what was done."""
    draft = get(kernel, pharmacy_id, record_id)
    if not draft.validated or draft.document_id is None:
        raise ValidationError("Le compte rendu n'est pas encore validé.", detail=f"record {draft.id}")
    done = [f"« {draft.label_fr} » validé."]
    chosen = draft.follow_up
    if (chosen.get("doctor") or chosen.get("to_patient")) and draft.message_id is None:
        done.append(_send(kernel, pharmacy_id, operator_id, draft))
    elif draft.message_id is not None:
        done.append("Envoi MSSanté déjà en file.")
    if chosen.get("bill", True) and draft.invoice_id is None:
        done.append(_bill(kernel, pharmacy_id, operator_id, draft))
    elif draft.invoice_id is not None:
        with kernel.transaction() as session:
            invoice = session.get(Invoice, draft.invoice_id)
            done.append(f"Acte déjà facturé (facture n° {invoice.number if invoice else draft.invoice_id}).")
    return done


def _send(kernel: Kernel, pharmacy_id: int, operator_id: int, draft: Draft) -> str:
    if not kernel.is_active(pharmacy_id, "mssante"):
        return "MSSanté : le module n'est pas actif, rien n'est envoyé."
    from lgo_mssante import api as mssante

    doctor = str(draft.follow_up.get("doctor") or "")
    try:
        message = mssante.send_documents(
            kernel,
            pharmacy_id,
            operator_id,
            draft.patient_id,
            [draft.document_id or 0],
            professionals=[doctor] if doctor else [],
            to_patient=bool(draft.follow_up.get("to_patient")),
        )
    except LgoError as exc:
        return f"MSSanté : non envoyé — {exc.message_fr}"
    with kernel.transaction() as session:
        _record(session, pharmacy_id, draft.id).message_id = message
    who = [w for w in (doctor, "le patient (Mon espace santé)" if draft.follow_up.get("to_patient") else "") if w]
    return f"MSSanté : mis en file pour {', '.join(who)}."


def _bill(kernel: Kernel, pharmacy_id: int, operator_id: int, draft: Draft) -> str:
    from lgo.api import DraftLine, LineKind

    chosen = act(draft)
    if chosen is None:
        return "Aucun acte à facturer pour ce type d'entretien."
    counter = Counter(kernel, pharmacy_id, operator_id)
    billing = counter.start_billing(patient_id=draft.patient_id)
    billing.lines.append(
        DraftLine(LineKind.ACT, chosen.label_fr, 1, chosen.fee_cents, chosen.reimbursement_rate, act_code=chosen.code)
    )
    result = counter.end_billing(billing)
    with kernel.transaction() as session:
        _record(session, pharmacy_id, draft.id).invoice_id = result.invoice_id
    return (
        f"Acte {chosen.code} ({chosen.label_fr}, {euros(chosen.fee_cents)}) facturé : facture n° "
        f"{result.invoice_number}, part patient {euros(result.patient_cents)}."
    )
