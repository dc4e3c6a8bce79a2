"""Stock: lots with their expiry and movements. The quantity on hand is the sum of movements, never a
stored counter, so that every unit is explained by a movement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lgo.db import Base, UTCDateTime, str_enum, utcnow
from lgo.domain.products import Product
from lgo.errors import InsufficientStock, ValidationError


class MovementKind(StrEnum):
    RECEPTION = "reception"
    SALE = "sale"
    RETURN = "return"
    INVENTORY = "inventory"
    CORRECTION = "correction"


class Lot(Base):
    __tablename__ = "stock_lot"
    __table_args__ = (UniqueConstraint("pharmacy_id", "product_id", "lot_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    lot_number: Mapped[str] = mapped_column(String(40))
    expiry: Mapped[date] = mapped_column(Date)

    product: Mapped[Product] = relationship(lazy="joined")


class Movement(Base):
    __tablename__ = "stock_movement"
    # The units on hand of a lot are summed from the index alone, however many sales the lot has seen.
    __table_args__ = (Index("ix_stock_movement_lot_id_quantity", "lot_id", "quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind, 16))
    #: The operator sold more than was on hand, knowingly (reason required).
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), default=None)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), default=None, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def receive(
    session: Session,
    pharmacy_id: int,
    product: Product,
    *,
    lot_number: str,
    expiry: date,
    quantity: int,
    operator_id: int | None = None,
) -> Lot:
    """A delivery from the wholesaler: finds or creates the lot and records the incoming units."""
    if quantity <= 0:
        raise ValidationError("La quantité reçue doit être positive.")
    lot = session.scalar(
        select(Lot).where(Lot.pharmacy_id == pharmacy_id, Lot.product_id == product.id, Lot.lot_number == lot_number)
    )
    if lot is None:
        lot = Lot(pharmacy_id=pharmacy_id, product_id=product.id, lot_number=lot_number, expiry=expiry)
        session.add(lot)
        session.flush()
    session.add(
        Movement(
            pharmacy_id=pharmacy_id,
            lot_id=lot.id,
            quantity=quantity,
            kind=MovementKind.RECEPTION,
            operator_id=operator_id,
        )
    )
    session.flush()
    return lot


def on_hand(session: Session, lot_id: int) -> int:
    return on_hand_by_lot(session, [lot_id])[lot_id]


def on_hand_by_lot(session: Session, lot_ids: Iterable[int]) -> dict[int, int]:
    """Units on hand of each lot, in one query (the index on ``(lot_id, quantity)`` answers it without the table)."""
    wanted = sorted(set(lot_ids))
    if not wanted:
        return {}
    query = (
        select(Movement.lot_id, func.sum(Movement.quantity))
        .where(Movement.lot_id.in_(wanted))
        .group_by(Movement.lot_id)
    )
    found = {lot_id: int(quantity or 0) for lot_id, quantity in session.execute(query)}
    return {lot_id: found.get(lot_id, 0) for lot_id in wanted}


def product_on_hand(session: Session, product_id: int) -> int:
    query = select(func.coalesce(func.sum(Movement.quantity), 0)).join(Lot).where(Lot.product_id == product_id)
    return int(session.scalar(query) or 0)


def lock_lot(session: Session, lot_id: int) -> Lot:
    """Serialise sellers of one lot: a row lock on PostgreSQL (SQLite already holds the database lock)."""
    lot = session.scalar(select(Lot).where(Lot.id == lot_id).with_for_update())
    if lot is None:
        raise ValidationError(f"Lot inconnu : {lot_id}.")
    return lot


def pick_lot(session: Session, product: Product, quantity: int, today: date) -> Lot | None:
    """First-expired-first-out among the unexpired lots that can serve the whole quantity; else the
    unexpired lot with the most units (the seller is then told what is missing)."""
    lots = session.scalars(
        select(Lot).where(Lot.product_id == product.id, Lot.expiry >= today).order_by(Lot.expiry, Lot.id)
    ).all()
    return choose_lot(lots, on_hand_by_lot(session, [lot.id for lot in lots]), quantity, today)


def choose_lot(lots: Iterable[Lot], units: Mapping[int, int], quantity: int, today: date) -> Lot | None:
    """The rule of :func:`pick_lot` over lots already read, with their ``units`` on hand: first-expired-first-out
    among the unexpired lots that hold the whole quantity, else the unexpired lot with the most units."""
    best: tuple[int, Lot] | None = None
    for lot in sorted((lot for lot in lots if lot.expiry >= today), key=lambda lot: (lot.expiry, lot.id)):
        qty = units.get(lot.id, 0)
        if qty >= quantity:
            return lot
        if best is None or qty > best[0]:
            best = (qty, lot)
    return best[1] if best else None


def lots_for_sale(session: Session, picks: Iterable[tuple[int, str | None]], today: date) -> list[Lot]:
    """The lots a billing may take from, in one query that locks its products' rows (in id order, so that two
    counters never wait on each other in a cycle; SQLite already holds the database lock). ``picks`` holds each
    product line's (product id, lot number or None): a lot named by number is read alone, even expired (the seller is
    then told why not); a product sold without a lot number brings its unexpired lots, for first-expired-first-out.
    Only these lots' movements are summed afterwards: a popular product's old lots are never read."""
    first_expired = sorted({product for product, number in picks if number is None})
    named = sorted({(product, number) for product, number in picks if number is not None})
    wanted = []
    if first_expired:
        wanted.append(and_(Lot.product_id.in_(first_expired), Lot.expiry >= today))
    if named:
        wanted.append(tuple_(Lot.product_id, Lot.lot_number).in_(named))
    if not wanted:
        return []
    query = (
        select(Lot)
        .join(Product, Product.id == Lot.product_id)
        .where(or_(*wanted))
        .order_by(Product.id, Lot.expiry, Lot.id)
        .with_for_update(of=Product)
    )
    return list(session.scalars(query).unique())


def take(
    session: Session,
    lot: Lot,
    quantity: int,
    *,
    operator_id: int,
    invoice_id: int | None,
    force: bool = False,
    reason: str = "",
    available: int | None = None,
) -> Movement:
    """Take units out of a locked lot. Refused when they are not on hand unless ``force`` (with a reason).
    ``available``: the units on hand as the caller already counted them in this transaction (a billing counts its
    lots once and takes its lines from that count); the movement is added to the session, not flushed."""
    if available is None:
        available = on_hand(session, lot.id)
    if quantity > available:
        if not force:
            raise InsufficientStock(
                f"Stock insuffisant pour {lot.product.label} (lot {lot.lot_number}) : "
                f"{available} en stock, {quantity} demandé(s).",
                detail=f"lot {lot.id}: on hand {available}, requested {quantity}",
            )
        if not reason.strip():
            raise ValidationError("Une vente au-delà du stock doit être motivée.")
    movement = Movement(
        pharmacy_id=lot.pharmacy_id,
        lot_id=lot.id,
        quantity=-quantity,
        kind=MovementKind.SALE,
        forced=quantity > available,
        reason=reason,
        operator_id=operator_id,
        invoice_id=invoice_id,
    )
    session.add(movement)
    return movement
