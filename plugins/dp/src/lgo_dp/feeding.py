"""Feeding the DP with every dispensation.

Inside the billing's transaction (``lgo_on_billing_commit``), each product line sold to an identified patient becomes a
``dp_line`` row — product, quantity, lot, date — and the billing's lines one outbox message (kind ``dp.feed``): they
exist if and only if the billing does, and the counter never waits on the DP. A correction of an ordonnancier line
(``lgo_on_correction_commit``) is queued the same way, as a line that replaces the corrected one in the DP.

The handler checks again, just before sending, that the patient has not refused or closed the DP, then needs the
qualified INS: without it the lines wait (``waiting_identity``) and leave when the identity is qualified. A patient
without a DP keeps their lines waiting (``waiting_file``) until the DP is created. Every line has a stable reference
and every message an idempotency key, so a DP down then back receives each dispensation exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lgo.api import (
    Dispensation,
    IdentityNotShareable,
    LgoError,
    Lot,
    PermanentFailure,
    Pharmacy,
    Product,
    outbox,
    utcnow,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_dp import access, clock, consent
from lgo_dp.model import FedLine, LineStatus, PatientFile
from lgo_dp.settings import transport
from lgo_dp.transport import DispensedLine, DpFile, DpPatient, DpRefused, FileState, Refusal

if TYPE_CHECKING:
    from lgo.api import BillingEnded, Delivery, DispensationValidated, IdentityQualified, Kernel

PLUGIN = "dp"
KIND_FEED = "dp.feed"


def reference_of(finess: str, *, dispensation_number: int | None, invoice_number: int, position: int) -> str:
    """The line's reference in the DP: its ordonnancier number, else its invoice line (a sale without prescription)."""
    if dispensation_number is not None:
        return f"{finess}-O{dispensation_number}"
    return f"{finess}-F{invoice_number}-{position}"


# --- in the billing's transaction ----------------------------------------------------------------------------------


def on_billing_commit(kernel: Kernel, session: Session, event: BillingEnded) -> None:
    if event.patient_id is None:
        return
    lines = [line for line in event.lines if line.kind == "product" and line.product_id is not None]
    if not lines:
        return
    pharmacy = session.get(Pharmacy, event.pharmacy_id)
    assert pharmacy is not None
    numbers = [line.dispensation_number for line in lines if line.dispensation_number is not None]
    dispensations = {
        d.number: d.id
        for d in session.scalars(
            select(Dispensation).where(Dispensation.pharmacy_id == event.pharmacy_id, Dispensation.number.in_(numbers))
        )
    }
    blocked = consent.feeding_blocked(consent.record(session, event.pharmacy_id, event.patient_id), clock.today())
    rows = []
    for line in lines:
        assert line.product_id is not None
        row = FedLine(
            pharmacy_id=event.pharmacy_id,
            patient_id=event.patient_id,
            reference=reference_of(
                pharmacy.finess,
                dispensation_number=line.dispensation_number,
                invoice_number=event.invoice_number,
                position=line.position,
            ),
            invoice_id=event.invoice_id,
            dispensation_id=dispensations.get(line.dispensation_number or 0),
            product_id=line.product_id,
            lot_id=line.lot_id,
            cip13=line.cip13 or "",
            label=line.label[:200],
            lot_number=line.lot_number,
            quantity=line.quantity,
            dispensed_at=event.validated_at,
            status=LineStatus.NOT_FED if blocked else LineStatus.QUEUED,
            reason_fr=blocked,
            masked=False,
            rounds=0,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    if not blocked:
        queue(session, rows)


def on_correction_commit(kernel: Kernel, session: Session, event: DispensationValidated) -> None:
    """A corrected ordonnancier line: the correction replaces, in the DP, the line it corrects."""
    if event.corrects_number is None:
        return
    pharmacy = session.get(Pharmacy, event.pharmacy_id)
    correction = session.get(Dispensation, event.dispensation_id)
    product = session.get(Product, event.product_id)
    assert pharmacy is not None and correction is not None and product is not None
    original = session.scalars(
        select(FedLine)
        .join(Dispensation, Dispensation.id == FedLine.dispensation_id)
        .where(FedLine.pharmacy_id == event.pharmacy_id, Dispensation.number == event.corrects_number)
    ).one_or_none()
    lot = session.get(Lot, correction.lot_id) if correction.lot_id else None
    blocked = consent.feeding_blocked(consent.record(session, event.pharmacy_id, event.patient_id), clock.today())
    status, reason = LineStatus.QUEUED, ""
    if blocked:
        status, reason = LineStatus.NOT_FED, blocked
    elif original is not None and original.status in (LineStatus.NOT_FED, LineStatus.FAILED):
        status, reason = LineStatus.NOT_FED, f"la ligne corrigée n'est pas dans le DP ({original.status_fr})"
    elif original is not None and original.status in (LineStatus.WAITING_IDENTITY, LineStatus.WAITING_FILE):
        status, reason = original.status, original.reason_fr
    row = FedLine(
        pharmacy_id=event.pharmacy_id,
        patient_id=event.patient_id,
        reference=reference_of(pharmacy.finess, dispensation_number=event.number, invoice_number=0, position=0),
        invoice_id=correction.invoice_id,
        dispensation_id=correction.id,
        product_id=product.id,
        lot_id=correction.lot_id,
        cip13=product.cip13,
        label=product.label[:200],
        lot_number=lot.lot_number if lot else None,
        quantity=event.quantity,
        dispensed_at=original.dispensed_at if original is not None else correction.validated_at,
        replaces=original.reference if original is not None else None,
        status=status,
        reason_fr=reason,
        masked=False,
        rounds=0,
    )
    session.add(row)
    session.flush()
    if status == LineStatus.QUEUED:
        queue(session, [row])


def queue(session: Session, rows: Sequence[FedLine]) -> None:
    """One outbox message for these lines of one patient (its key changes with each queuing of the first line)."""
    for row in rows:
        row.rounds += 1
        row.status, row.reason_fr = LineStatus.QUEUED, ""
    first = rows[0]
    outbox.enqueue(
        session,
        first.pharmacy_id,
        plugin=PLUGIN,
        kind=KIND_FEED,
        payload={"lines": [row.id for row in rows]},
        idempotency_key=f"dp:feed:{first.reference}:{first.rounds}",
        patient_id=first.patient_id,
    )


def requeue(kernel: Kernel, pharmacy_id: int, patient_id: int, status: LineStatus) -> int:
    """Queue again the patient's lines waiting with ``status`` (identity now qualified, DP now created)."""
    with kernel.transaction() as session:
        rows = list(
            session.scalars(
                select(FedLine)
                .where(FedLine.pharmacy_id == pharmacy_id, FedLine.patient_id == patient_id, FedLine.status == status)
                .order_by(FedLine.id)
            )
        )
        if rows:
            queue(session, rows)
        return len(rows)


def on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    requeue(kernel, event.pharmacy_id, event.patient_id, LineStatus.WAITING_IDENTITY)


# --- delivery -----------------------------------------------------------------------------------------------------


def _mark(kernel: Kernel, ids: Sequence[int], status: LineStatus, reason_fr: str = "") -> None:
    with kernel.transaction() as session:
        for row in session.scalars(select(FedLine).where(FedLine.id.in_(ids))):
            if row.status == LineStatus.QUEUED:
                row.status, row.reason_fr = status, reason_fr[:300]
                if status == LineStatus.SENT:
                    row.sent_at = utcnow()


def _learn_open(kernel: Kernel, pharmacy_id: int, patient_id: int) -> None:
    """The DP accepted lines: the patient has an open DP."""
    with kernel.transaction() as session:
        row = consent.record(session, pharmacy_id, patient_id)
        if row is None:
            session.add(PatientFile(pharmacy_id=pharmacy_id, patient_id=patient_id, state=FileState.ACTIVE.value))
        elif row.state != FileState.ACTIVE.value:
            row.state = FileState.ACTIVE.value


def _learn_absent(kernel: Kernel, pharmacy_id: int, patient_id: int) -> None:
    """The DP has no file for the patient: the creation will be proposed at the counter."""
    with kernel.transaction() as session:
        row = consent.record(session, pharmacy_id, patient_id)
        if row is None:
            session.add(PatientFile(pharmacy_id=pharmacy_id, patient_id=patient_id, state=FileState.NONE.value))
        elif row.state == FileState.ACTIVE.value:
            row.state = FileState.NONE.value


def deliver(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler ``dp.feed``: the queued lines of one patient, sent once."""
    pharmacy_id = delivery.pharmacy_id
    with kernel.transaction() as session:
        rows = list(
            session.scalars(
                select(FedLine)
                .where(
                    FedLine.pharmacy_id == pharmacy_id,
                    FedLine.id.in_([int(i) for i in delivery.payload["lines"]]),
                    FedLine.status == LineStatus.QUEUED,
                )
                .order_by(FedLine.id)
            )
        )
        if not rows:
            return  # already sent, or stopped by a refusal, a closing or a masking
        patient_id, ids = rows[0].patient_id, [row.id for row in rows]
        blocked = consent.feeding_blocked(consent.record(session, pharmacy_id, patient_id), clock.today())
        pending_originals = [
            row.replaces
            for row in rows
            if row.replaces
            and row.replaces not in {r.reference for r in rows}
            and session.scalar(
                select(FedLine.status).where(FedLine.pharmacy_id == pharmacy_id, FedLine.reference == row.replaces)
            )
            == LineStatus.QUEUED
        ]
        lines = [
            DispensedLine(
                reference=row.reference,
                dispensed_on=clock.local_date(row.dispensed_at),
                cip13=row.cip13,
                label=row.label,
                quantity=row.quantity,
                lot=row.lot_number,
                replaces=row.replaces,
            )
            for row in rows
        ]
    if blocked:
        _mark(kernel, ids, LineStatus.NOT_FED, blocked)
        return
    if pending_originals:
        raise RuntimeError(f"the corrected lines {pending_originals} are not in the DP yet: the correction waits")
    try:
        patient = DpPatient.of(kernel.shareable_identity(pharmacy_id, patient_id))
    except IdentityNotShareable:
        _mark(kernel, ids, LineStatus.WAITING_IDENTITY)
        return
    try:
        transport(kernel, pharmacy_id).feed(patient, lines, idempotency_key=delivery.idempotency_key)
    except DpRefused as exc:
        _refused(kernel, pharmacy_id, patient_id, ids, exc)
        return
    except LgoError as exc:  # the DP down, or the pharmacy's certificate missing: retried
        if delivery.last_attempt:
            _mark(kernel, ids, LineStatus.FAILED, exc.message_fr)
        raise
    _mark(kernel, ids, LineStatus.SENT)
    _learn_open(kernel, pharmacy_id, patient_id)
    with kernel.transaction() as session:
        lots = ", ".join(sorted({line.lot for line in lines if line.lot})) or "sans lot"
        access.trace(
            session,
            pharmacy_id,
            "dp.fed",
            f"{len(lines)} ligne(s) de dispensation transmise(s) au DP de "
            f"{access.patient_name(session, pharmacy_id, patient_id)} (lots : {lots}).",
            patient_id=patient_id,
            details={"references": [line.reference for line in lines]},
        )


def _refused(kernel: Kernel, pharmacy_id: int, patient_id: int, ids: Sequence[int], exc: DpRefused) -> None:
    if exc.code == Refusal.NO_FILE:
        _mark(kernel, ids, LineStatus.WAITING_FILE)
        _learn_absent(kernel, pharmacy_id, patient_id)
        return
    if exc.code in (Refusal.REFUSED, Refusal.CLOSED):
        state = FileState.REFUSED if exc.code == Refusal.REFUSED else FileState.CLOSED
        with kernel.transaction() as session:
            row = consent.record(session, pharmacy_id, patient_id)
            if row is None or row.state not in (FileState.REFUSED.value, FileState.CLOSED.value):
                consent.apply_file(session, pharmacy_id, patient_id, DpFile(state, refused_on=clock.today()))
        _mark(kernel, ids, LineStatus.NOT_FED, state.label_fr)
        return
    _mark(kernel, ids, LineStatus.FAILED, exc.message_fr)
    with kernel.transaction() as session:
        access.trace(
            session,
            pharmacy_id,
            "dp.feed.failed",
            f"Lignes refusées par le DP : {exc.message_fr}",
            patient_id=patient_id,
            details={"lines": list(ids)},
        )
    raise PermanentFailure(exc.message_fr) from exc


# --- follow-up ----------------------------------------------------------------------------------------------------


def status_lines(kernel: Kernel, pharmacy_id: int, patient_id: int | None = None) -> list[str]:
    """One French line per fed line: date, product, quantity, lot, where its feeding stands."""
    with kernel.transaction() as session:
        query = select(FedLine).where(FedLine.pharmacy_id == pharmacy_id)
        if patient_id is not None:
            query = query.where(FedLine.patient_id == patient_id)
        return [
            f"{clock.local_date(row.dispensed_at):%d/%m/%Y} — {row.label} × {row.quantity}"
            f"{f', lot {row.lot_number}' if row.lot_number else ''} (patient n° {row.patient_id}, "
            f"{row.reference}) : {row.status_fr}"
            for row in session.scalars(query.order_by(FedLine.id))
        ]
