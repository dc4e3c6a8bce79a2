"""Product catalogue: CIP13 (check digit verified), CIS, price and reimbursement rate."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo.db import Base, str_enum
from lgo.errors import NotFound, ValidationError
from lgo.identifiers import check_cip13

#: Reimbursement rates of medicines by the Assurance Maladie (percent).
REIMBURSEMENT_RATES = (0, 15, 30, 65, 100)


class ListCategory(StrEnum):
    """Regulatory list of a medicine: listed medicines need a prescription and go to the ordonnancier."""

    NONE = ""
    LISTE_I = "I"
    LISTE_II = "II"
    STUPEFIANT = "stupefiant"


def check_cis(cis: str) -> str:
    if len(cis) != 8 or not cis.isdigit():
        raise ValidationError(f"Code CIS invalide : « {cis} » (8 chiffres attendus).")
    return cis


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("pharmacy_id", "cip13"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    cip13: Mapped[str] = mapped_column(String(13))
    cis: Mapped[str | None] = mapped_column(String(8), default=None)
    atc: Mapped[str | None] = mapped_column(String(7), default=None)
    label: Mapped[str] = mapped_column(String(200))
    is_vaccine: Mapped[bool] = mapped_column(Boolean, default=False)
    list_category: Mapped[ListCategory] = mapped_column(str_enum(ListCategory, 16), default=ListCategory.NONE)
    price_cents: Mapped[int] = mapped_column(Integer)
    reimbursement_rate: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def needs_prescription(self) -> bool:
        return self.list_category != ListCategory.NONE


def create_product(
    session: Session,
    pharmacy_id: int,
    *,
    cip13: str,
    label: str,
    price_cents: int,
    reimbursement_rate: int = 0,
    cis: str | None = None,
    atc: str | None = None,
    is_vaccine: bool = False,
    list_category: ListCategory = ListCategory.NONE,
) -> Product:
    if reimbursement_rate not in REIMBURSEMENT_RATES:
        raise ValidationError(f"Taux de remboursement invalide : {reimbursement_rate} %.")
    if price_cents < 0:
        raise ValidationError("Le prix ne peut pas être négatif.")
    product = Product(
        pharmacy_id=pharmacy_id,
        cip13=check_cip13(cip13),
        cis=check_cis(cis) if cis else None,
        atc=atc,
        label=label,
        price_cents=price_cents,
        reimbursement_rate=reimbursement_rate,
        is_vaccine=is_vaccine,
        list_category=list_category,
    )
    session.add(product)
    session.flush()
    return product


def product_by_cip13(session: Session, pharmacy_id: int, cip13: str) -> Product:
    check_cip13(cip13)
    product = session.scalar(select(Product).where(Product.pharmacy_id == pharmacy_id, Product.cip13 == cip13))
    if product is None:
        raise NotFound(f"Produit inconnu : CIP13 {cip13}.")
    return product
