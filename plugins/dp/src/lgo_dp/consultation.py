"""Consulting the DP: the last 12 months from every pharmacy, merged with this pharmacy's own lines, each with its
pharmacy and lot; duplicates against the current billing flagged.

The DP's lines and the ordonnancier's are merged by reference: a line this pharmacy sent comes back from the DP with
its reference and is shown once, with where its feeding stands; a line not sent yet (queued, waiting) is shown from
the ordonnancier; a corrected line is shown as its correction. When the DP cannot be reached the pharmacist still
sees this pharmacy's lines, with a French notice. Every consultation is traced before the call and after it.

The flags compare each product of the current billing with the history through the kernel's catalogue: the same CIS
or ATC code is the same substance (a duplicate), the same ATC level 4 (the first five characters, e.g. ``N02BE``) the
same therapeutic class. A product of another pharmacy that is not in this pharmacy's catalogue cannot be compared:
the line says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import partial
from typing import TYPE_CHECKING

from lgo.api import Dispensation, LabelledEnum, LgoError, Lot, Pharmacy, Product
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_dp import access, clock, consent
from lgo_dp.feeding import reference_of
from lgo_dp.model import FedLine, LineStatus
from lgo_dp.settings import transport
from lgo_dp.transport import DpFile, DpLine, DpRefused, FileState, Refusal

if TYPE_CHECKING:
    from lgo.api import Billing, Kernel

#: A pharmacist sees this many months of the DP.
HISTORY_MONTHS = 12


class FlagKind(LabelledEnum):
    SAME_SUBSTANCE = "same_substance", "même substance (doublon)"
    SAME_CLASS = "same_class", "même classe thérapeutique"


@dataclass(frozen=True)
class HistoryLine:
    dispensed_on: date
    label: str
    cip13: str
    quantity: int
    lot: str | None
    pharmacy_finess: str
    pharmacy_name: str
    reference: str
    #: Dispensed by this pharmacy.
    own: bool
    #: Returned by the DP (else known from this pharmacy's ordonnancier only).
    in_dp: bool
    #: For this pharmacy's lines: where the feeding stands.
    status_fr: str = ""
    atc: str | None = None
    cis: str | None = None

    @property
    def text_fr(self) -> str:
        lot = f", lot {self.lot}" if self.lot else ", lot non renseigné"
        return f"{self.dispensed_on:%d/%m/%Y} — {self.label} × {self.quantity}{lot} — {self.pharmacy_name}"


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    billed_label: str
    line: HistoryLine

    @property
    def text_fr(self) -> str:
        return (
            f"{self.kind.label_fr} : {self.billed_label} / {self.line.label}, délivré le "
            f"{self.line.dispensed_on:%d/%m/%Y} par {self.line.pharmacy_name}"
        )


@dataclass(frozen=True)
class Consultation:
    patient_id: int
    since: date
    lines: tuple[HistoryLine, ...]
    flags: tuple[Flag, ...]
    #: The patient's DP as the DP said (None when it could not be reached).
    file_state: FileState | None
    dp_reached: bool
    notice_fr: str = ""

    @property
    def pharmacies(self) -> int:
        return len({line.pharmacy_finess for line in self.lines})


# --- the merge (pure) -----------------------------------------------------------------------------------------------


def merge(own: Sequence[HistoryLine], remote: Iterable[DpLine], finess: str) -> list[HistoryLine]:
    """This pharmacy's lines and the DP's, once each (a line sent from here is matched by its reference; a line the
    DP repeats is shown once), newest first."""
    by_reference = {line.reference: line for line in own}
    merged: list[HistoryLine] = []
    seen: set[tuple[str, str]] = set()
    for item in remote:
        if (item.pharmacy_finess, item.reference) in seen:
            continue  # the DP said it twice: shown once
        seen.add((item.pharmacy_finess, item.reference))
        mine = by_reference.pop(item.reference, None) if item.pharmacy_finess == finess else None
        if mine is not None:
            merged.append(_in_dp(mine, item))
            continue
        merged.append(
            HistoryLine(
                dispensed_on=item.dispensed_on,
                label=item.label,
                cip13=item.cip13,
                quantity=item.quantity,
                lot=item.lot,
                pharmacy_finess=item.pharmacy_finess,
                pharmacy_name=item.pharmacy_name,
                reference=item.reference,
                own=item.pharmacy_finess == finess,
                in_dp=True,
            )
        )
    merged.extend(by_reference.values())
    merged.sort(key=lambda line: (line.dispensed_on, line.pharmacy_finess, line.reference), reverse=True)
    return merged


def _in_dp(mine: HistoryLine, item: DpLine) -> HistoryLine:
    return HistoryLine(
        dispensed_on=mine.dispensed_on,
        label=mine.label,
        cip13=mine.cip13,
        quantity=mine.quantity,
        lot=mine.lot or item.lot,
        pharmacy_finess=mine.pharmacy_finess,
        pharmacy_name=mine.pharmacy_name,
        reference=mine.reference,
        own=True,
        in_dp=True,
        status_fr=LineStatus.SENT.label_fr,
        atc=mine.atc,
        cis=mine.cis,
    )


def flags(billed: Sequence[tuple[str, str | None, str | None]], history: Sequence[HistoryLine]) -> list[Flag]:
    """``billed`` is ``(label, atc, cis)`` for each product of the current billing."""
    found = []
    for label, atc, cis in billed:
        for line in history:
            if (cis and line.cis == cis) or (atc and line.atc == atc):
                found.append(Flag(FlagKind.SAME_SUBSTANCE, label, line))
            elif atc and line.atc and len(atc) >= 5 and line.atc[:5] == atc[:5]:
                found.append(Flag(FlagKind.SAME_CLASS, label, line))
    return found


# --- reading ---------------------------------------------------------------------------------------------------------


def own_lines(session: Session, pharmacy: Pharmacy, patient_id: int, since: date) -> list[HistoryLine]:
    """This pharmacy's lines for the patient since ``since``: the ordonnancier (a corrected line shown as its
    correction) and the sales without prescription recorded for the DP."""
    start = datetime.combine(since, time.min, tzinfo=clock.PARIS).astimezone(UTC)
    status = {
        row.reference: row
        for row in session.scalars(
            select(FedLine).where(
                FedLine.pharmacy_id == pharmacy.id, FedLine.patient_id == patient_id, FedLine.dispensed_at >= start
            )
        )
    }
    rows = session.execute(
        select(Dispensation, Product, Lot)
        .join(Product, Product.id == Dispensation.product_id)
        .outerjoin(Lot, Lot.id == Dispensation.lot_id)
        .where(
            Dispensation.pharmacy_id == pharmacy.id,
            Dispensation.patient_id == patient_id,
            Dispensation.validated_at >= start,
        )
        .order_by(Dispensation.number)
    ).all()
    corrected = {d.corrects_id for d, _, _ in rows if d.corrects_id is not None}
    originals = {d.id: d for d, _, _ in rows}
    own_line = partial(HistoryLine, pharmacy_finess=pharmacy.finess, pharmacy_name=pharmacy.name, own=True, in_dp=False)
    lines = []
    for dispensation, product, lot in rows:
        if dispensation.id in corrected or dispensation.quantity <= 0:
            continue
        reference = reference_of(pharmacy.finess, dispensation_number=dispensation.number, invoice_number=0, position=0)
        fed = status.pop(reference, None)
        first = originals.get(dispensation.corrects_id or 0, dispensation)
        lines.append(
            own_line(
                dispensed_on=clock.local_date(first.validated_at),
                label=product.label,
                cip13=product.cip13,
                quantity=dispensation.quantity,
                lot=lot.lot_number if lot else None,
                reference=reference,
                status_fr=fed.status_fr if fed else "non suivie pour le DP (avant l'activation du module)",
                atc=product.atc,
                cis=product.cis,
            )
        )
    products = _catalogue(session, pharmacy.id, {row.cip13 for row in status.values()})
    for fed in status.values():
        if fed.dispensation_id is not None or fed.quantity <= 0:
            continue  # ordonnancier lines are above
        known = products.get(fed.cip13)
        lines.append(
            own_line(
                dispensed_on=clock.local_date(fed.dispensed_at),
                label=fed.label,
                cip13=fed.cip13,
                quantity=fed.quantity,
                lot=fed.lot_number,
                reference=fed.reference,
                status_fr=fed.status_fr,
                atc=known.atc if known else None,
                cis=known.cis if known else None,
            )
        )
    return lines


def _catalogue(session: Session, pharmacy_id: int, cip13s: Iterable[str]) -> dict[str, Product]:
    wanted = sorted(set(cip13s))
    found: dict[str, Product] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for product in session.scalars(
            select(Product).where(Product.pharmacy_id == pharmacy_id, Product.cip13.in_(chunk))
        ):
            found[product.cip13] = product
    return found


def _with_codes(session: Session, pharmacy_id: int, lines: list[HistoryLine]) -> list[HistoryLine]:
    """The DP's lines with the ATC and CIS of the matching product of this pharmacy's catalogue."""
    products = _catalogue(session, pharmacy_id, (line.cip13 for line in lines if line.atc is None))
    out = []
    for line in lines:
        product = products.get(line.cip13) if line.atc is None and line.cis is None else None
        if product is not None:
            line = replace(line, atc=product.atc, cis=product.cis)
        out.append(line)
    return out


def _billed(
    session: Session, pharmacy_id: int, billing: Billing | None, product_ids: Sequence[int]
) -> list[tuple[str, str | None, str | None]]:
    wanted = list(product_ids) + [line.product_id for line in (billing.lines if billing else []) if line.product_id]
    if not wanted:
        return []
    products = {
        p.id: p
        for p in session.scalars(select(Product).where(Product.pharmacy_id == pharmacy_id, Product.id.in_(wanted)))
    }
    return [(products[i].label, products[i].atc, products[i].cis) for i in dict.fromkeys(wanted) if i in products]


# --- the consultation -------------------------------------------------------------------------------------------------


def consult(
    kernel: Kernel,
    pharmacy_id: int,
    operator_id: int,
    patient_id: int,
    *,
    billing: Billing | None = None,
    product_ids: Sequence[int] = (),
) -> Consultation:
    """The patient's 12-month history (DP and this pharmacy), with the flags against ``billing`` (or the products
    ``product_ids``). Needs the habilitation ``dp.consult`` and a qualified INS; traced before and after the call."""
    who = access.authorise(kernel, pharmacy_id, operator_id, access.HABILITATION_CONSULT, "consultation", patient_id)
    patient = access.require_identity(kernel, pharmacy_id, who, patient_id, "consultation")
    since = clock.months_before(clock.today(), HISTORY_MONTHS)
    with kernel.transaction() as session:
        name = access.patient_name(session, pharmacy_id, patient_id)
        access.trace(
            session,
            pharmacy_id,
            "dp.consult.requested",
            f"Consultation du DP de {name} par {who.name} (depuis le {since:%d/%m/%Y}).",
            operator_id=operator_id,
            patient_id=patient_id,
        )
    remote: list[DpLine] = []
    state: FileState | None = FileState.ACTIVE
    notice = ""
    try:
        remote = transport(kernel, pharmacy_id).history(patient, who.professional, since)
    except DpRefused as exc:
        state = _state_of(exc)
        if state is None:
            _traced_failure(kernel, pharmacy_id, operator_id, patient_id, name, who.name, exc.message_fr)
            raise
        notice = f"{exc.message_fr} Seules les délivrances de l'officine sont affichées."
    except LgoError as exc:  # the DP down, or the pharmacy's certificate or provider missing: this pharmacy's lines
        state = None
        notice = f"{exc.message_fr} Seules les délivrances de l'officine sont affichées."
    with kernel.transaction() as session:
        pharmacy = session.get(Pharmacy, pharmacy_id)
        assert pharmacy is not None
        pending = consent.operation_pending(session, pharmacy_id, patient_id)
        if state is not None and state is not FileState.ACTIVE and not pending:  # a refusal queued here stays
            consent.apply_file(session, pharmacy_id, patient_id, DpFile(state))
        lines = _with_codes(
            session, pharmacy_id, merge(own_lines(session, pharmacy, patient_id, since), remote, pharmacy.finess)
        )
        found = flags(_billed(session, pharmacy_id, billing, product_ids), lines)
        others = len({line.pharmacy_finess for line in lines if not line.own})
        outcome = "completed" if state is not None else "degraded"
        access.trace(
            session,
            pharmacy_id,
            f"dp.consult.{outcome}",
            f"Consultation du DP de {name} par {who.name} : {len(lines)} ligne(s), dont {len(remote)} du DP "
            f"({others} autre(s) officine(s)), {len(found)} signalement(s)" + (f" — {notice}" if notice else "."),
            operator_id=operator_id,
            patient_id=patient_id,
        )
    return Consultation(patient_id, since, tuple(lines), tuple(found), state, state is not None, notice)


def _state_of(exc: DpRefused) -> FileState | None:
    return {
        Refusal.NO_FILE: FileState.NONE,
        Refusal.REFUSED: FileState.REFUSED,
        Refusal.CLOSED: FileState.CLOSED,
    }.get(Refusal(exc.code) if exc.code in set(Refusal) else Refusal.REQUEST)


def _traced_failure(
    kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int, name: str, who: str, message_fr: str
) -> None:
    with kernel.transaction() as session:
        access.trace(
            session,
            pharmacy_id,
            "dp.consult.failed",
            f"Consultation du DP de {name} par {who} refusée par le DP : {message_fr}",
            operator_id=operator_id,
            patient_id=patient_id,
        )
