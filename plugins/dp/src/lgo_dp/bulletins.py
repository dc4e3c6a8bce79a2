"""Batch recalls (DP-Rappels) and health alerts (DP-Alertes).

``lgo worker`` fetches them from the DP every minute (periodic job): they reach the pharmacy within minutes. Each
bulletin not yet acknowledged is a **blocking** action (``lgo_counter_blocking``, asked by every counter page): every
counter session of the pharmacy shows only its window until one operator acknowledges it (who and when
recorded and traced, and the acknowledgement sent back to the DP through the outbox). For a recall, the lots concerned
are looked up in the stock (units on hand) and in the sales of the last 12 months (the patients who received them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Choice,
    Invoice,
    InvoiceLine,
    LgoError,
    Lot,
    Patient,
    PermanentFailure,
    Product,
    ValidationError,
    get_scoped,
    outbox,
    stock,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_dp import access, clock
from lgo_dp.model import DpBulletin, DpSync
from lgo_dp.settings import transport
from lgo_dp.transport import Bulletin, BulletinKind, DpRefused, Professional

if TYPE_CHECKING:
    from lgo.api import Delivery, Kernel

PLUGIN = "dp"
KIND_ACKNOWLEDGE = "dp.acknowledge"
#: How often ``lgo worker`` asks the DP for new bulletins (the Ordre: "within minutes").
FETCH_EVERY_SECONDS = 60.0
#: How far back the sales of a recalled lot are searched.
DISPENSED_MONTHS = 12


# --- fetching ---------------------------------------------------------------------------------------------------------


def fetch(kernel: Kernel, pharmacy_id: int) -> int:
    """Fetch the bulletins published since the last fetch; returns how many are new. A fault is recorded (visible to
    the administrator) and raised for the worker to log: the next turn tries again."""
    with kernel.transaction() as session:
        sync = session.get(DpSync, pharmacy_id)
        cursor = sync.bulletin_cursor if sync else None
    try:
        found, new_cursor = transport(kernel, pharmacy_id).bulletins(cursor)
    except LgoError as exc:
        with kernel.transaction() as session:
            sync = _sync(session, pharmacy_id)
            sync.last_error_fr = exc.message_fr[:500]
        raise
    with kernel.transaction() as session:
        known = set(
            session.scalars(
                select(DpBulletin.remote_id).where(
                    DpBulletin.pharmacy_id == pharmacy_id, DpBulletin.remote_id.in_([b.id for b in found])
                )
            )
        )
        added = [_store(session, pharmacy_id, item) for item in found if item.id not in known]
        sync = _sync(session, pharmacy_id)
        sync.bulletin_cursor, sync.last_fetch_at, sync.last_error_fr = new_cursor, clock.now(), ""
    return len(added)


def _sync(session: Session, pharmacy_id: int) -> DpSync:
    sync = session.get(DpSync, pharmacy_id)
    if sync is None:
        sync = DpSync(pharmacy_id=pharmacy_id, last_error_fr="")
        session.add(sync)
    return sync


def _store(session: Session, pharmacy_id: int, item: Bulletin) -> DpBulletin:
    row = DpBulletin(
        pharmacy_id=pharmacy_id,
        remote_id=item.id,
        kind=item.kind.value,
        title=item.title,
        message=item.message,
        issuer=item.issuer,
        published_at=item.published_at,
        products=[{"cip13": p.cip13, "label": p.label, "lots": list(p.lots)} for p in item.products],
    )
    session.add(row)
    session.flush()
    access.trace(
        session,
        pharmacy_id,
        "dp.bulletin.received",
        f"{item.kind.label_fr} reçu du DP : « {item.title} » ({item.issuer}).",
        details={"bulletin": item.id},
    )
    return row


# --- what a recall concerns here --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockHit:
    label: str
    cip13: str
    lot: str
    on_hand: int


@dataclass(frozen=True)
class DispensedHit:
    patient_id: int | None
    patient_name: str
    dispensed_on: str
    label: str
    lot: str
    quantity: int
    invoice_number: int


@dataclass(frozen=True)
class Impact:
    stock: tuple[StockHit, ...]
    dispensed: tuple[DispensedHit, ...]

    @property
    def patients(self) -> tuple[tuple[int, str], ...]:
        """The patients who received a concerned lot, once each: ``(id, name)``."""
        seen: dict[int, str] = {}
        for hit in self.dispensed:
            if hit.patient_id is not None:
                seen.setdefault(hit.patient_id, hit.patient_name)
        return tuple(seen.items())

    @property
    def text_fr(self) -> str:
        if self.stock:
            held = (
                "En stock : " + " ; ".join(f"{h.label}, lot {h.lot} : {h.on_hand} unité(s)" for h in self.stock) + "."
            )
        else:
            held = "Aucun lot concerné en stock."
        if self.dispensed:
            given = (
                "Délivré à : "
                + " ; ".join(
                    f"{h.patient_name} ({h.dispensed_on}, lot {h.lot}, × {h.quantity})" for h in self.dispensed
                )
                + "."
            )
        else:
            given = "Aucune délivrance d'un lot concerné depuis 12 mois."
        return f"{held} {given}"


def impact(session: Session, row: DpBulletin) -> Impact:
    lots: list[tuple[Lot, Product]] = []
    for item in row.products:
        query = (
            select(Lot, Product)
            .join(Product, Product.id == Lot.product_id)
            .where(Product.pharmacy_id == row.pharmacy_id, Product.cip13 == item["cip13"])
        )
        if item.get("lots"):
            query = query.where(Lot.lot_number.in_(item["lots"]))
        lots.extend((lot, product) for lot, product in session.execute(query.order_by(Lot.id)))
    held = [StockHit(p.label, p.cip13, lot.lot_number, stock.on_hand(session, lot.id)) for lot, p in lots]
    by_lot = {lot.id: (lot, product) for lot, product in lots}
    start = clock.months_before(clock.today(), DISPENSED_MONTHS)
    since = datetime.combine(start, time.min, tzinfo=clock.PARIS).astimezone(UTC)
    sales = session.execute(
        select(InvoiceLine, Invoice, Patient)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(Patient, Patient.id == Invoice.patient_id)
        .where(
            InvoiceLine.pharmacy_id == row.pharmacy_id,
            InvoiceLine.lot_id.in_(list(by_lot)),
            Invoice.validated_at >= since,
        )
        .order_by(Invoice.validated_at.desc())
    )
    given = [
        DispensedHit(
            patient_id=patient.id if patient else None,
            patient_name=patient.display_name if patient else f"vente sans patient identifié (facture n° {inv.number})",
            dispensed_on=f"{clock.local_date(inv.validated_at):%d/%m/%Y}",
            label=line.label,
            lot=by_lot[line.lot_id][0].lot_number if line.lot_id in by_lot else "",
            quantity=line.quantity,
            invoice_number=inv.number,
        )
        for line, inv, patient in sales
    ]
    return Impact(tuple(h for h in held if h.on_hand > 0), tuple(given))


# --- at the counter ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    id: int
    kind: BulletinKind
    title: str
    message: str
    issuer: str
    published_at: datetime
    products: tuple[dict[str, Any], ...]
    impact: Impact


def pending(kernel: Kernel, pharmacy_id: int) -> list[Pending]:
    """The bulletins no one has acknowledged yet, oldest first, with what they concern here."""
    with kernel.transaction() as session:
        rows = session.scalars(
            select(DpBulletin)
            .where(DpBulletin.pharmacy_id == pharmacy_id, DpBulletin.acknowledged_at.is_(None))
            .order_by(DpBulletin.published_at, DpBulletin.id)
        ).all()
        return [
            Pending(
                row.id,
                BulletinKind(row.kind),
                row.title,
                row.message,
                row.issuer,
                row.published_at,
                tuple(row.products),
                impact(session, row),
            )
            for row in rows
        ]


def actions(kernel: Kernel, pharmacy_id: int) -> list[ActionRequired]:
    """One blocking action per bulletin not yet acknowledged (``lgo_counter_blocking``): every counter of the pharmacy
    shows it instead of its page until someone acknowledges."""
    found = []
    for item in pending(kernel, pharmacy_id):
        found.append(
            ActionRequired(
                kind=f"dp.{item.kind.value}",
                plugin=PLUGIN,
                title_fr=f"{item.kind.label_fr} — {item.title}",
                message_fr=f"{item.message} (émis par {item.issuer}, le "
                f"{item.published_at.astimezone(clock.PARIS):%d/%m/%Y à %H:%M}). {item.impact.text_fr} "
                "Le comptoir reste bloqué jusqu'à l'accusé de lecture.",
                choices=(Choice("acknowledge", "J'ai pris connaissance (accusé de lecture)"),),
                blocking=True,
                data={
                    "key": f"bulletin-{item.id}",
                    "bulletin_id": item.id,
                    "kind_fr": item.kind.label_fr,
                    "title": item.title,
                    "message": item.message,
                    "issuer": item.issuer,
                    "published_fr": f"{item.published_at.astimezone(clock.PARIS):%d/%m/%Y à %H:%M}",
                    "products": list(item.products),
                    "stock": [h.__dict__ for h in item.impact.stock],
                    "patients": [{"patient_id": i, "name": n} for i, n in item.impact.patients],
                    "dispensed": [h.__dict__ for h in item.impact.dispensed],
                },
            )
        )
    return found


def acknowledge(kernel: Kernel, pharmacy_id: int, bulletin_id: int, operator_id: int) -> None:
    """The operator read the bulletin: it no longer blocks any counter; who and when are recorded, traced and sent to
    the DP. Acknowledging twice says who did it first."""
    who = access.authorise(kernel, pharmacy_id, operator_id, access.HABILITATION_BULLETINS, "accusé de lecture")
    with kernel.transaction() as session:
        row = get_scoped(session, DpBulletin, bulletin_id, pharmacy_id, "bulletin du DP")
        if row.acknowledged_at is not None:
            first = access.caller(session, pharmacy_id, row.acknowledged_by or 0)
            raise ValidationError(
                f"Ce bulletin a déjà été lu par {first.name if first else 'un autre opérateur'} le "
                f"{row.acknowledged_at.astimezone(clock.PARIS):%d/%m/%Y à %H:%M}."
            )
        now = clock.now()
        row.acknowledged_by, row.acknowledged_at = operator_id, now
        access.trace(
            session,
            pharmacy_id,
            "dp.bulletin.acknowledged",
            f"{BulletinKind(row.kind).label_fr} « {row.title} » : accusé de lecture par {who.name} le "
            f"{now.astimezone(clock.PARIS):%d/%m/%Y à %H:%M}.",
            operator_id=operator_id,
            details={"bulletin": row.remote_id},
        )
        outbox.enqueue(
            session,
            pharmacy_id,
            plugin=PLUGIN,
            kind=KIND_ACKNOWLEDGE,
            payload={"bulletin_id": row.id},
            idempotency_key=f"dp:acknowledge:{row.remote_id}",
        )


def deliver_acknowledgement(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler ``dp.acknowledge``."""
    with kernel.transaction() as session:
        row = session.get(DpBulletin, int(delivery.payload["bulletin_id"]))
        if row is None or row.pharmacy_id != delivery.pharmacy_id or row.acknowledged_at is None:
            raise PermanentFailure("bulletin not found or not acknowledged")
        who = access.caller(session, delivery.pharmacy_id, row.acknowledged_by or 0)
        remote_id, at = row.remote_id, row.acknowledged_at
    professional = who.professional if who else Professional("opérateur inconnu", "")
    try:
        transport(kernel, delivery.pharmacy_id).acknowledge(
            remote_id, professional, at, idempotency_key=delivery.idempotency_key
        )
    except DpRefused as exc:
        raise PermanentFailure(exc.message_fr) from exc
