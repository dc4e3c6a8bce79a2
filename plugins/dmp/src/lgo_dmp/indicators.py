"""REMU NUM « accompagnements et bilans versés au DMP » (90 %): among the entretiens, bilans partagés de médication
and plans personnalisés de prévention validated in the period (the version in force), those the DMP registered.
The misses say why: never queued, waiting (often an identity that is not qualified), refused (decision 1502)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lgo.api import IndicatorSource, Miss, Tally

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CODE = "dmp_accompagnements"


def _type_codes() -> tuple[str, ...]:
    from lgo.api import xds_codes

    return (xds_codes.CR_ENTRETIEN, xds_codes.BILAN_MEDICAMENTEUX, xds_codes.PLAN_PREVENTION)


def _documents(query: Any, pharmacy_id: int, start: datetime, end: datetime) -> Any:
    """``query`` (selecting from the document and its submission) limited to the period's validated documents."""
    from lgo.api import DocumentStatus, HealthDocument

    from lgo_dmp.model import DmpSubmission

    return (
        query.select_from(HealthDocument)
        .outerjoin(
            DmpSubmission,
            (DmpSubmission.document_id == HealthDocument.id) & (DmpSubmission.pharmacy_id == pharmacy_id),
        )
        .where(
            HealthDocument.pharmacy_id == pharmacy_id,
            HealthDocument.type_code.in_(_type_codes()),
            HealthDocument.status == DocumentStatus.VALIDATED,
            HealthDocument.validated_at >= start,
            HealthDocument.validated_at < end,
        )
    )


def count(session: Session, pharmacy_id: int, start: datetime, end: datetime) -> Tally:
    from lgo.api import HealthDocument
    from sqlalchemy import case, func, select

    from lgo_dmp.model import DmpSubmission, SubmissionStatus

    sent = case((DmpSubmission.status == SubmissionStatus.SENT, HealthDocument.id), else_=None)
    query = select(func.count(func.distinct(HealthDocument.id)), func.count(func.distinct(sent)))
    row = session.execute(_documents(query, pharmacy_id, start, end)).one()
    return Tally(int(row[1]), int(row[0]))


def misses(session: Session, pharmacy_id: int, start: datetime, end: datetime, limit: int) -> list[Miss]:
    from lgo.api import HealthDocument, Patient
    from sqlalchemy import or_, select

    from lgo_dmp.model import DmpSubmission, SubmissionStatus

    query = (
        _documents(select(HealthDocument, DmpSubmission, Patient), pharmacy_id, start, end)
        .outerjoin(Patient, Patient.id == HealthDocument.patient_id)
        .where(or_(DmpSubmission.id.is_(None), DmpSubmission.status != SubmissionStatus.SENT))
        .order_by(HealthDocument.validated_at, HealthDocument.id)
        .limit(limit)
    )
    found: list[Miss] = []
    for document, submission, patient in session.execute(query):
        if submission is None:
            why = "jamais mis en file d'envoi pour le DMP (module DMP inactif ou document validé avant lui)"
        else:
            status = SubmissionStatus(submission.status)
            why = status.label_fr + (f" : {submission.reason_fr}" if submission.reason_fr else "")
        found.append(
            Miss(
                document.validated_at or document.created_at,
                document.title,
                f"Non versé au DMP — {why}.",
                document.patient_id,
                patient.display_name if patient is not None else "",
            )
        )
    return found


def sources() -> list[IndicatorSource]:
    return [IndicatorSource(CODE, count, misses)]
