"""Billings being prepared at a counter, kept in the database until they are validated.

A counter page is a view of one draft: its patient, prescription header, lines and the actions waiting for the
operator, as JSON in ``state``. Keeping it in the database means that a second browser tab, an expired session or a
restarted server loses nothing, and that two tabs cannot overwrite each other silently: every change names the
``version`` it was made on, and a stale version is refused (:class:`StaleDraft`).

Validation is exactly-once: :meth:`lgo.counter.Counter.end_billing` locks the draft in the billing's own transaction
and refuses one that is no longer open (:class:`AlreadyValidated`, naming the invoice), so a double submit or a
second tab never bills twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base, UTCDateTime, str_enum, utcnow
from lgo.domain.scoped import get_scoped
from lgo.errors import LgoError


class DraftStatus(StrEnum):
    OPEN = "open"
    VALIDATED = "validated"
    ABANDONED = "abandoned"


class StaleDraft(LgoError):
    """The draft changed since the page was shown (another tab, another counter)."""


class AlreadyValidated(LgoError):
    """The draft is no longer open: it was validated (or abandoned) already."""

    def __init__(self, message_fr: str, *, invoice_id: int | None = None, detail: str = "") -> None:
        super().__init__(message_fr, detail=detail)
        self.invoice_id = invoice_id


class CounterDraft(Base):
    __tablename__ = "counter_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    #: Who opened it (another operator of the pharmacy may take it over at the same counter).
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), default=None)
    prescription_id: Mapped[int | None] = mapped_column(ForeignKey("prescription.id"), default=None)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[DraftStatus] = mapped_column(str_enum(DraftStatus, 12), default=DraftStatus.OPEN)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def open_draft(session: Session, pharmacy_id: int, operator_id: int, patient_id: int | None = None) -> CounterDraft:
    draft = CounterDraft(
        pharmacy_id=pharmacy_id,
        operator_id=operator_id,
        patient_id=patient_id,
        state={},
        version=1,
        status=DraftStatus.OPEN,
    )
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, pharmacy_id: int, draft_id: Any) -> CounterDraft:
    """The draft with this id (from a URL) in this pharmacy, else a French :class:`lgo.errors.NotFound`."""
    return get_scoped(session, CounterDraft, draft_id, pharmacy_id, "facturation")


def save(
    session: Session,
    draft: CounterDraft,
    expected_version: int,
    *,
    state: dict[str, Any] | None = None,
    patient_id: int | None = None,
    prescription_id: int | None = None,
    closed_ok: bool = False,
) -> int:
    """Write a change made on ``expected_version``; returns the new version. :class:`StaleDraft` when the draft
    changed meanwhile, :class:`AlreadyValidated` when it is closed (unless ``closed_ok``: the windows that follow a
    validated billing, such as the note de vaccination, are still answered on it). One conditional ``UPDATE``: two
    tabs saving at once cannot both win."""
    values: dict[str, Any] = {"version": expected_version + 1, "updated_at": utcnow()}
    if state is not None:
        values["state"] = state
    if patient_id is not None:
        values["patient_id"] = patient_id
    if prescription_id is not None:
        values["prescription_id"] = prescription_id
    result = session.execute(
        update(CounterDraft)
        .where(
            CounterDraft.id == draft.id,
            CounterDraft.version == expected_version,
            *(() if closed_ok else (CounterDraft.status == DraftStatus.OPEN,)),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(draft)
        if draft.status != DraftStatus.OPEN and not closed_ok:
            raise closed(draft)
        raise StaleDraft(
            "Cette facturation a été modifiée entre-temps (autre onglet ou autre poste) : la page est rechargée avec "
            "son contenu à jour ; refaites votre dernière saisie si elle n'y figure pas.",
            detail=f"draft {draft.id}: version {expected_version}, now {draft.version}",
        )
    session.refresh(draft)
    return expected_version + 1


def closed(draft: CounterDraft) -> AlreadyValidated:
    if draft.status == DraftStatus.VALIDATED:
        return AlreadyValidated(
            "Cette facturation est déjà validée : elle n'est pas facturée une seconde fois.",
            invoice_id=draft.invoice_id,
            detail=f"draft {draft.id} validated, invoice {draft.invoice_id}",
        )
    return AlreadyValidated("Cette facturation a été abandonnée.", detail=f"draft {draft.id} {draft.status}")


def lock_open(session: Session, pharmacy_id: int, draft_id: int) -> CounterDraft | None:
    """Inside the billing's transaction: the draft, locked, if it exists; :class:`AlreadyValidated` when closed."""
    draft = session.scalar(
        select(CounterDraft)
        .where(CounterDraft.id == draft_id, CounterDraft.pharmacy_id == pharmacy_id)
        .with_for_update()
    )
    if draft is not None and draft.status != DraftStatus.OPEN:
        raise closed(draft)
    return draft


def open_drafts(session: Session, pharmacy_id: int, operator_id: int, limit: int = 10) -> list[CounterDraft]:
    """The operator's drafts still open, latest first (shown on the counter's home so nothing is forgotten)."""
    return list(
        session.scalars(
            select(CounterDraft)
            .where(
                CounterDraft.pharmacy_id == pharmacy_id,
                CounterDraft.operator_id == operator_id,
                CounterDraft.status == DraftStatus.OPEN,
            )
            .order_by(CounterDraft.updated_at.desc())
            .limit(limit)
        )
    )
