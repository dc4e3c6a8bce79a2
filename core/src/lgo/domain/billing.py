"""Invoices: product lines and act lines, with the mandatory (AMO), complementary (AMC) and patient shares.

An invoice is written once, validated, when the billing ends; it is never changed afterwards (a cancellation
is a new invoice with opposite amounts that points at the one it cancels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lgo.db import Base, Immutable, UTCDateTime, str_enum, utcnow
from lgo.errors import ValidationError

INVOICE = "facture"


#: Postal-code prefixes of the overseas departments (DROM: Guadeloupe, Martinique, Guyane, La Réunion, Mayotte),
#: where the convention sets some acts' fees higher.
DROM_POSTAL_PREFIXES = ("971", "972", "973", "974", "976")


def in_drom(postal_code: str) -> bool:
    """Whether a pharmacy at this postal code is in an overseas department (its acts take their DROM fee)."""
    return postal_code.strip().startswith(DROM_POSTAL_PREFIXES)


@dataclass(frozen=True)
class ActTariff:
    """Another fee of the same act code, chosen by the plugin that bills it (e.g. a TROD angine followed by the
    dispensing of an antibiotic without a prescription: same code, higher fee)."""

    name: str
    label_fr: str
    fee_cents: int
    #: The fee in the overseas departments, when the convention sets another one.
    fee_cents_drom: int | None = None


@dataclass(frozen=True)
class ActDefinition:
    """A billable pharmacist act (e.g. VGP, INJ, RVA), declared by the plugin that performs it.

    ``fee_cents_drom`` is the fee in the overseas departments when it differs; ``tariffs`` are the act's other
    fees, named, that the billing plugin picks (``Counter.add_act(..., tariff=name)``)."""

    code: str
    label_fr: str
    fee_cents: int
    reimbursement_rate: int = 0
    #: The pharmacist prescribes what this act administers (vaccination by the pharmacist): a vaccine billed with
    #: it needs no medical prescription. API 2.1.
    pharmacist_prescribes: bool = False
    fee_cents_drom: int | None = None
    tariffs: tuple[ActTariff, ...] = ()

    def __post_init__(self) -> None:
        if not self.code.isalnum() or not self.code.isupper():
            raise ValidationError(f"Code d'acte invalide : « {self.code} ».")
        fees = [self.fee_cents, self.fee_cents_drom or 0]
        fees += [t.fee_cents for t in self.tariffs] + [t.fee_cents_drom or 0 for t in self.tariffs]
        if min(fees) < 0:
            raise ValidationError(f"Honoraire négatif pour l'acte {self.code}.")
        names = [t.name for t in self.tariffs]
        if len(set(names)) != len(names):
            raise ValidationError(f"Tarif déclaré deux fois pour l'acte {self.code}.")

    def fee(self, tariff: str | None = None, *, drom: bool = False) -> tuple[str, int]:
        """The line's label and fee for ``tariff`` (the act's own fee when ``None``), in the DROM when ``drom``."""
        if tariff is None:
            return self.label_fr, (self.fee_cents_drom if drom and self.fee_cents_drom is not None else self.fee_cents)
        chosen = next((t for t in self.tariffs if t.name == tariff), None)
        if chosen is None:
            known = ", ".join(t.name for t in self.tariffs) or "aucun"
            raise ValidationError(f"Tarif « {tariff} » inconnu pour l'acte {self.code} (tarifs possibles : {known}).")
        fee = chosen.fee_cents_drom if drom and chosen.fee_cents_drom is not None else chosen.fee_cents
        return chosen.label_fr, fee


@dataclass(frozen=True)
class Shares:
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int


def _percent(amount: int, rate: int) -> int:
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compute_shares(total_cents: int, reimbursement_rate: int, complementary_rate: int) -> Shares:
    """The AMO pays its rate; the complementary pays its share of what remains (the ticket modérateur)."""
    amo = _percent(total_cents, reimbursement_rate)
    amc = _percent(total_cents - amo, complementary_rate)
    return Shares(total_cents, amo, amc, total_cents - amo - amc)


class LineKind(StrEnum):
    PRODUCT = "product"
    ACT = "act"


class Invoice(Immutable, Base):
    __tablename__ = "invoice"
    # The day's invoices of one pharmacy without reading its whole year (decision 1401).
    __table_args__ = (
        UniqueConstraint("pharmacy_id", "number"),
        Index("ix_invoice_pharmacy_id_validated_at", "pharmacy_id", "validated_at"),
    )
    __immutable_label__ = "facture validée"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"))
    number: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), default=None, index=True)
    prescription_id: Mapped[int | None] = mapped_column(ForeignKey("prescription.id"), default=None)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    total_cents: Mapped[int] = mapped_column(Integer)
    amo_cents: Mapped[int] = mapped_column(Integer)
    amc_cents: Mapped[int] = mapped_column(Integer)
    patient_cents: Mapped[int] = mapped_column(Integer)
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancels_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), default=None)

    lines: Mapped[list[InvoiceLine]] = relationship(lazy="selectin", order_by="InvoiceLine.position")


class InvoiceLine(Immutable, Base):
    __tablename__ = "invoice_line"
    __immutable_label__ = "ligne de facture validée"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[LineKind] = mapped_column(str_enum(LineKind, 8))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), default=None)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_lot.id"), default=None)
    act_code: Mapped[str | None] = mapped_column(String(8), default=None)
    label: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    reimbursement_rate: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    amo_cents: Mapped[int] = mapped_column(Integer)
    amc_cents: Mapped[int] = mapped_column(Integer)
    patient_cents: Mapped[int] = mapped_column(Integer)


def euros(cents: int) -> str:
    """French display of an amount: 1 234,50 €."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", "\u202f") + f",{frac:02d} €"
