"""What the line field of the billing screen understands: a box's GS1 DataMatrix (scanned), a CIP13, an act code
(VGP, INJ, RVA, an interview...), or the beginning of a product's name. ``3*`` in front sets the quantity.
Every refusal is a French :class:`lgo.errors.LgoError`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lgo import gs1
from lgo.counter import act_line
from lgo.domain import stock
from lgo.domain.billing import ActDefinition, LineKind
from lgo.domain.products import Product, product_by_cip13
from lgo.errors import NotFound, ValidationError
from lgo.identifiers import check_cip13
from lgo.kernel import Kernel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lgo_web.counter.state import Line

_QUANTITY = re.compile(r"^(\d{1,3})\s*[*xX]\s*(.+)$")
#: How many products a name may match before the operator is asked to type more.
MAX_CHOICES = 9
#: Between an act's code and one of its named tariffs in a chosen line (``RVA/prescription``; ``RVA/``: its own fee).
TARIFF = "/"


@dataclass(frozen=True)
class Entry:
    """A line to add, or products (or an act's fees) to choose from."""

    line: Line | None = None
    choices: tuple[dict[str, object], ...] = ()


def split_quantity(text: str) -> tuple[int, str]:
    match = _QUANTITY.match(text.strip())
    if match:
        quantity = int(match.group(1))
        if not 1 <= quantity <= 99:
            raise ValidationError("La quantité doit être entre 1 et 99.")
        return quantity, match.group(2)
    return 1, text.strip("\r\n ")


def _product_line(session: Session, product: Product, quantity: int, today: date) -> Line:
    line = Line(
        kind=LineKind.PRODUCT,
        label=product.label,
        quantity=quantity,
        unit_price_cents=product.price_cents,
        reimbursement_rate=product.reimbursement_rate,
        product_id=product.id,
        cip13=product.cip13,
        is_vaccine=product.is_vaccine,
        needs_prescription=product.needs_prescription,
    )
    lot = stock.pick_lot(session, product, quantity, today)
    if lot is not None:  # the lot the kernel would take: shown, and billed as shown
        line.lot_number, line.lot_expiry, line.lot_source = lot.lot_number, lot.expiry.isoformat(), "proposé"
    return line


def _scanned_line(session: Session, pharmacy_id: int, text: str, quantity: int, today: date) -> Line:
    scan = gs1.parse(text)
    if scan.cip13 is None:
        raise ValidationError(
            f"La boîte scannée (GTIN {scan.gtin}) n'est pas un médicament à CIP13 français : saisissez son code."
        )
    product = product_by_cip13(session, pharmacy_id, scan.cip13)
    if scan.expiry is not None and scan.expiry < today:
        raise ValidationError(f"Boîte périmée ({scan.expiry:%d/%m/%Y}) : ne la délivrez pas.")
    line = _product_line(session, product, quantity, today)
    if scan.lot:
        lot = session.scalar(
            select(stock.Lot).where(stock.Lot.product_id == product.id, stock.Lot.lot_number == scan.lot)
        )
        if lot is None:
            raise NotFound(
                f"Lot « {scan.lot} » de {product.label} absent du stock : enregistrez la réception de ce lot, ou "
                "délivrez une boîte d'un lot reçu."
            )
        line.lot_number, line.lot_expiry, line.lot_source = lot.lot_number, lot.expiry.isoformat(), "scan"
    line.serial = scan.serial
    return line


def _act_entry(
    session: Session, pharmacy_id: int, act: ActDefinition, tariff: str | None, quantity: int, *, chosen: bool
) -> Entry:
    """An act at its fee (the kernel's line: the DROM fee overseas); an act with named tariffs (RVA at 9,60 € when
    the pharmacist prescribes the vaccine too) is a choice between its fees, unless the choice was just made."""
    if act.tariffs and not chosen:
        names = (None, *(t.name for t in act.tariffs))
        fees = {name: act_line(session, pharmacy_id, act, name, quantity) for name in names}
        return Entry(
            choices=tuple(
                {
                    "code": f"{act.code}{TARIFF}{name or ''}",
                    "label": line.label,
                    "price_cents": line.unit_price_cents,
                    "quantity": quantity,
                }
                for name, line in fees.items()
            )
        )
    return Entry(Line(**vars(act_line(session, pharmacy_id, act, tariff, quantity))))


def resolve(kernel: Kernel, session: Session, pharmacy_id: int, text: str, today: date) -> Entry:
    quantity, what = split_quantity(text)
    if not what:
        raise ValidationError("Saisissez un nom de produit, un CIP13, un code d'acte ou scannez la boîte.")
    if gs1.looks_like_gs1(what):
        return Entry(_scanned_line(session, pharmacy_id, what, quantity, today))
    if what.isdigit():
        if len(what) != 13:
            raise ValidationError(f"Code « {what[:20]} » : un CIP13 a 13 chiffres (ou scannez le Datamatrix).")
        product = product_by_cip13(session, pharmacy_id, check_cip13(what))
        return Entry(_product_line(session, product, quantity, today))
    code, separator, tariff = what.partition(TARIFF)
    act = kernel.acts.get(code.upper())
    if act is not None:
        return _act_entry(session, pharmacy_id, act, tariff or None, quantity, chosen=bool(separator))
    words = [w for w in what.upper().replace("%", "").replace("_", "").split() if w]
    query = select(Product).where(Product.pharmacy_id == pharmacy_id)
    for word in words:
        query = query.where(func.upper(Product.label).like(f"%{word}%"))
    found = list(session.scalars(query.order_by(Product.label).limit(MAX_CHOICES + 1)))
    if not found:
        raise NotFound(f"Aucun produit ni acte ne correspond à « {what[:40]} ».")
    if len(found) == 1:
        return Entry(_product_line(session, found[0], quantity, today))
    return Entry(
        choices=tuple(
            {"code": p.cip13, "label": p.label, "price_cents": p.price_cents, "quantity": quantity}
            for p in found[:MAX_CHOICES]
        )
    )
