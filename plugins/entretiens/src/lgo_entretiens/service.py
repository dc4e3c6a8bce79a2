"""Recording interviews and bilans partagés de médication, and turning them into validated health documents.

A record is kept as soon as the pharmacist writes it. Its document (PDF → CDA R2 level 1) needs the patient's
*qualified* INS in the header: until the identity is qualified the record waits, and the pharmacist is told so.
Validating the document fires the kernel's ``lgo_on_document_validated``; the ``dmp`` plugin, when active, feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Dispensation,
    HealthDocument,
    IdentityNotShareable,
    NotFound,
    Operator,
    Patient,
    Pharmacy,
    PluginError,
    Product,
    ValidationError,
    cda,
    documents,
)
from lgo.api import audit as journal
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lgo_entretiens import pdf
from lgo_entretiens.model import InterviewRecord, RecordKind
from lgo_entretiens.themes import BILAN_MEDICAMENTEUX, CR_ENTRETIEN, questions, theme

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "entretiens"
#: How far back the BPM looks in the dispensing history.
BPM_HISTORY_DAYS = 365
_MAX_TEXT = 20_000


@dataclass(frozen=True)
class PreparedDocument:
    record_id: int
    #: The kernel document, or None while the identity is not qualified.
    document_id: int | None
    #: What the pharmacist must do first (qualify the identity), if anything.
    actions: tuple[ActionRequired, ...] = ()


def _require_active(kernel: Kernel, pharmacy_id: int) -> None:
    if not kernel.is_active(pharmacy_id, PLUGIN):
        raise PluginError(
            "Le module « entretiens » n'est pas activé pour cette officine.", detail=f"pharmacy {pharmacy_id}"
        )


def _clean(text: str, what: str) -> str:
    text = text.strip()
    if len(text) > _MAX_TEXT:
        raise ValidationError(f"{what} est trop long ({len(text)} caractères, {_MAX_TEXT} au plus).")
    return text


def audit(session: Session, record: InterviewRecord, action: str, message: str, operator_id: int) -> None:
    journal.record_about(session, record, f"entretiens.{action}", message, actor=PLUGIN, operator_id=operator_id)


def _pharmacist(session: Session, pharmacy_id: int, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None or operator.pharmacy_id != pharmacy_id:
        raise NotFound("Opérateur introuvable.", detail=f"operator {operator_id}")
    if not operator.rpps:
        raise ValidationError(
            "Un entretien est conduit par un pharmacien identifié par son numéro RPPS.",
            detail=f"operator {operator_id} has no RPPS",
        )
    return operator


def _patient(session: Session, pharmacy_id: int, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.pharmacy_id != pharmacy_id:
        raise NotFound("Patient introuvable.", detail=f"patient {patient_id}")
    return patient


def record_interview(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int,
    *,
    theme_code: str,
    held_on: date,
    analysis: str,
    recommendations: str,
    answers: dict[str, str] | None = None,
) -> int:
    """Record a pharmaceutical interview (AVK, AOD, asthme, femme enceinte, anticancéreux oraux); ``answers`` are
    those of its form (:data:`lgo_entretiens.themes.QUESTIONS`)."""
    _require_active(kernel, pharmacy_id)
    chosen = theme(theme_code)
    with kernel.transaction() as session:
        _pharmacist(session, pharmacy_id, operator_id)
        _patient(session, pharmacy_id, patient_id)
        record = InterviewRecord(
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            operator_id=operator_id,
            kind=RecordKind.INTERVIEW,
            theme=chosen.code,
            act_code=chosen.act_code,
            held_on=held_on,
            analysis=_clean(analysis, "L'analyse"),
            recommendations=_clean(recommendations, "Les recommandations"),
            medications=[],
            answers=clean_answers(chosen.code, answers or {}),
        )
        session.add(record)
        session.flush()
        audit(session, record, "recorded", f"Entretien pharmaceutique enregistré : {chosen.label_fr}.", operator_id)
        return record.id


def medication_history(
    session: Session, pharmacy_id: int, patient_id: int, *, since: date
) -> list[dict[str, str | int]]:
    """The medicines dispensed to the patient since ``since``: one row per product, newest first."""
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    rows = session.execute(
        select(Product.label, Product.cip13, func.max(Dispensation.validated_at), func.sum(Dispensation.quantity))
        .join(Product, Product.id == Dispensation.product_id)
        .where(
            Dispensation.pharmacy_id == pharmacy_id,
            Dispensation.patient_id == patient_id,
            Dispensation.validated_at >= start,
        )
        .group_by(Product.label, Product.cip13)
        .order_by(func.max(Dispensation.validated_at).desc())
    ).all()
    return [
        {"label": label, "cip13": cip13, "last_dispensed": (_as_date(last)).isoformat(), "boxes": int(boxes or 0)}
        for label, cip13, last, boxes in rows
    ]


def _as_date(value: datetime | str) -> date:
    if isinstance(value, str):  # SQLite returns the aggregate as text
        value = datetime.fromisoformat(value)
    return value.date()


def record_bpm(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int,
    *,
    held_on: date,
    analysis: str,
    recommendations: str,
    first_year: bool = True,
    answers: dict[str, str] | None = None,
    medications: list[dict[str, str | int]] | None = None,
) -> int:
    """Record a bilan partagé de médication; the medication list comes from the dispensing history (or the
    pharmacist's revision of it, ``medications``)."""
    _require_active(kernel, pharmacy_id)
    with kernel.transaction() as session:
        _pharmacist(session, pharmacy_id, operator_id)
        _patient(session, pharmacy_id, patient_id)
        if medications is None:
            medications = medication_history(
                session, pharmacy_id, patient_id, since=held_on - timedelta(days=BPM_HISTORY_DAYS)
            )
        record = InterviewRecord(
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            operator_id=operator_id,
            kind=RecordKind.BPM,
            theme="BPM",
            act_code="BMI" if first_year else "BMT",
            held_on=held_on,
            analysis=_clean(analysis, "L'analyse"),
            recommendations=_clean(recommendations, "Les recommandations"),
            medications=medications,
            answers=clean_answers("BPM", answers or {}),
        )
        session.add(record)
        session.flush()
        audit(
            session,
            record,
            "recorded",
            f"Bilan partagé de médication enregistré ({len(medications)} médicament(s)).",
            operator_id,
        )
        return record.id


def _record(session: Session, pharmacy_id: int, record_id: int) -> InterviewRecord:
    record = session.get(InterviewRecord, record_id)
    if record is None or record.pharmacy_id != pharmacy_id:
        raise NotFound("Entretien introuvable.", detail=f"record {record_id}")
    return record


def _title(record: InterviewRecord) -> tuple[str, str, str]:
    """(LOINC code, type display, title) of the record's document."""
    if record.kind == RecordKind.BPM:
        return (*BILAN_MEDICAMENTEUX, "Bilan partagé de médication")
    return (*CR_ENTRETIEN, f"Compte rendu d'entretien pharmaceutique — {theme(record.theme).label_fr}")


def current_title(kernel: Kernel, pharmacy_id: int, record_id: int) -> str:
    """The document's title as it stands (the draft's, else the default one)."""
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        document = session.get(HealthDocument, record.document_id) if record.document_id else None
        return document.title if document is not None else _title(record)[2]


def prepare_document(kernel: Kernel, pharmacy_id: int, record_id: int, *, title: str | None = None) -> PreparedDocument:
    """Render the PDF and wrap it as CDA R2 level 1 in a draft kernel document (once; again returns the same).

    ``title`` replaces the default title while the document is a draft: the PDF, the CDA ``<title>`` and the
    kernel document (hence the DMP metadata) are written again with it — one title everywhere."""
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        if record.document_id is not None:
            document = session.get(HealthDocument, record.document_id)
            if document is None or document.status != documents.DocumentStatus.DRAFT:
                return PreparedDocument(record.id, record.document_id)
            title = title if title is not None else document.title  # a draft is written again with its last changes
        patient_id = record.patient_id
    try:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
    except IdentityNotShareable as exc:
        waiting = "Le compte rendu est conservé et sera produit après la qualification."
        return PreparedDocument(record_id, None, tuple(kernel.identity_actions(pharmacy_id, patient_id, exc, waiting)))
    with kernel.transaction() as session:
        record = _record(session, pharmacy_id, record_id)
        operator = _pharmacist(session, pharmacy_id, record.operator_id)
        pharmacy = session.get(Pharmacy, pharmacy_id)
        assert pharmacy is not None
        type_code, type_display, default_title = _title(record)
        title = _clean_title(title) if title is not None else default_title
        document = session.get(HealthDocument, record.document_id) if record.document_id is not None else None
        if document is None:
            document = documents.draft_of(
                session,
                record,
                (type_code, type_display),
                title,
                source_plugin=PLUGIN,
                source_ref=f"record:{record.id}",
            )
        elif document.status != documents.DocumentStatus.DRAFT:
            raise ValidationError("Ce compte rendu est déjà validé.", detail=f"document {document.id}")
        document.title = title
        patient_line = (
            f"{identity.birth_name} {' '.join(identity.first_names)}, né(e) le {_birth(identity.birth_date)}, "
            f"INS {identity.matricule}"
        )
        content = report(record, title, pharmacy, operator, patient_line)
        header = cda.header_for_document(session, document, identity)
        documents.set_content(document, cda.wrap_pdf(header, pdf.render(content)))
        record.document_id = document.id
        return PreparedDocument(record.id, document.id)


def report(record: InterviewRecord, title: str, pharmacy: Pharmacy, operator: Operator, patient: str) -> Any:
    """What the PDF says: the record's facts, its form's answers, the BPM's medication list."""
    subject = BILAN_MEDICAMENTEUX[1] if record.kind == RecordKind.BPM else theme(record.theme).label_fr
    answers = record.answers or {}
    return pdf.ReportContent(
        title=title,
        pharmacy=f"{pharmacy.name} — FINESS {pharmacy.finess} — {pharmacy.postal_code} {pharmacy.city}",
        pharmacist=f"{operator.display_name} (RPPS {operator.rpps})",
        patient=patient,
        held_on=record.held_on,
        theme=subject,
        analysis=record.analysis,
        recommendations=record.recommendations,
        medications=[
            (
                str(m["label"]),
                str(m.get("cip13", "")),
                _french_date(str(m.get("last_dispensed", ""))),
                str(m.get("boxes", "")),
            )
            for m in record.medications
        ],
        answers=[(q.label_fr, str(answers.get(q.key, ""))) for q in questions(record.theme) if answers.get(q.key)],
    )


def clean_answers(theme_code: str, answers: dict[str, str]) -> dict[str, str]:
    """The answers of the form, checked: known questions only, a choice among its values, short texts."""
    cleaned: dict[str, str] = {}
    for question in questions(theme_code):
        value = " ".join(str(answers.get(question.key, "")).split())
        if not value:
            continue
        if question.choices and value not in question.choices:
            raise ValidationError(
                f"« {question.label_fr} » : choisissez {', '.join(question.choices)}.",
                detail=f"{question.key}={value!r}",
            )
        if len(value) > 500:
            raise ValidationError(f"« {question.label_fr} » est trop long (500 caractères au plus).")
        cleaned[question.key] = value
    return cleaned


def _clean_title(title: str) -> str:
    cleaned = " ".join(str(title).split())
    if not cleaned or len(cleaned) > 200 or not cleaned.isprintable():
        raise ValidationError("Titre du document invalide : de 1 à 200 caractères imprimables.")
    return cleaned


def validate_document(
    kernel: Kernel,
    pharmacy_id: int,
    record_id: int,
    operator_id: int,
    *,
    title: str | None = None,
    hidden_from_patient: bool = False,
    masked_from_professionals: bool = False,
) -> list[ActionRequired]:
    """Validate the record's document (title and visibility chosen by the pharmacist); ``dmp`` then feeds it."""
    prepared = prepare_document(kernel, pharmacy_id, record_id, title=title)
    if prepared.document_id is None:
        return list(prepared.actions)
    with kernel.transaction() as session:
        _pharmacist(session, pharmacy_id, operator_id)
        document = session.get(HealthDocument, prepared.document_id)
        assert document is not None
        if document.status != documents.DocumentStatus.DRAFT:
            raise ValidationError("Ce compte rendu est déjà validé.", detail=f"document {document.id}")
    return documents.validate(
        kernel,
        pharmacy_id,
        prepared.document_id,
        operator_id,
        hidden_from_patient=hidden_from_patient,
        masked_from_professionals=masked_from_professionals,
    )


def _birth(value: str) -> str:
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}"


def _french_date(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value
