"""The pharmacy (FINESS) and its operators with their roles, RPPS and habilitations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lgo.db import Base, UTCDateTime, str_enum, utcnow
from lgo.db.limits import check_text, column_length
from lgo.enums import LabelledEnum
from lgo.errors import NotFound, ValidationError
from lgo.identifiers import check_finess
from lgo.identifiers import check_rpps as check_rpps  # re-exported: imported from here before the team module


class Role(LabelledEnum):
    TITULAIRE = "titulaire", "pharmacien titulaire"
    ADJOINT = "pharmacien_adjoint", "pharmacien adjoint"
    PREPARATEUR = "preparateur", "préparateur"
    ADMINISTRATEUR = "administrateur", "administrateur"

    @property
    def is_pharmacist(self) -> bool:
        return self in (Role.TITULAIRE, Role.ADJOINT)


class Habilitation(StrEnum):
    """The kernel's own rights beyond the counter. Plugins declare theirs (``dmp.consult``...) with the hook
    ``lgo_register_habilitations``; :meth:`lgo.kernel.Kernel.habilitations` lists both."""

    STOCK_FORCE = "stock.force"
    SETTINGS_EDIT = "settings.edit"
    ORDONNANCIER_CORRECT = "ordonnancier.correct"

    @property
    def label_fr(self) -> str:
        return KERNEL_HABILITATION_LABELS[self][0]


#: French label and help of each kernel habilitation.
KERNEL_HABILITATION_LABELS: dict[Habilitation, tuple[str, str]] = {
    Habilitation.STOCK_FORCE: (
        "Vendre au-delà du stock",
        "Valider une délivrance quand le stock informatique est insuffisant, avec un motif.",
    ),
    Habilitation.SETTINGS_EDIT: (
        "Modifier les paramètres",
        "Changer les modules, les fournisseurs et les paramètres de l'officine.",
    ),
    Habilitation.ORDONNANCIER_CORRECT: (
        "Corriger l'ordonnancier",
        "Enregistrer une ligne de correction d'une délivrance déjà inscrite.",
    ),
}

#: Kernel habilitations granted by default to each role (an administrator may grant or remove others; plugins give
#: the default roles of their own habilitations).
DEFAULT_HABILITATIONS: dict[Role, tuple[str, ...]] = {
    Role.TITULAIRE: tuple(h.value for h in Habilitation),
    Role.ADJOINT: (Habilitation.STOCK_FORCE, Habilitation.ORDONNANCIER_CORRECT),
    Role.PREPARATEUR: (),
    Role.ADMINISTRATEUR: (Habilitation.SETTINGS_EDIT,),
}


class Pharmacy(Base):
    __tablename__ = "pharmacy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    finess: Mapped[str] = mapped_column(String(9), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    test_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Operator(Base):
    __tablename__ = "operator"
    __table_args__ = (UniqueConstraint("pharmacy_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role, 32))
    rpps: Mapped[str | None] = mapped_column(String(11), default=None)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set when an administrator gives a temporary password: the operator chooses their own at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    habilitations: Mapped[list[OperatorHabilitation]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def has(self, habilitation: str) -> bool:
        return any(h.habilitation == habilitation for h in self.habilitations)

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and verify_password(password, self.password_hash)


class OperatorHabilitation(Base):
    __tablename__ = "operator_habilitation"
    __table_args__ = (UniqueConstraint("operator_id", "habilitation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"), index=True)
    habilitation: Mapped[str] = mapped_column(String(64))


# scrypt (RFC 7914) from the standard library: a memory-hard KDF with no extra dependency.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationError("Le mot de passe doit contenir au moins 8 caractères.")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest_b64)
    digest = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(digest, expected)


def create_pharmacy(
    session: Session,
    *,
    name: str,
    finess: str,
    address: str = "",
    postal_code: str = "",
    city: str = "",
    test_mode: bool = False,
) -> Pharmacy:
    fields = {"name": name, "address": address, "postal_code": postal_code, "city": city}
    labels = {"name": "nom de l'officine", "address": "adresse", "postal_code": "code postal", "city": "commune"}
    for field, value in fields.items():
        check_text(value, length=column_length(Pharmacy, field), label_fr=labels[field])
    finess = check_finess(finess)
    if session.scalar(select(Pharmacy.id).where(Pharmacy.finess == finess)) is not None:
        raise ValidationError(f"Une officine de FINESS {finess} est déjà enregistrée dans cette base.")
    pharmacy = Pharmacy(finess=finess, test_mode=test_mode, **fields)
    session.add(pharmacy)
    session.flush()
    return pharmacy


def get_pharmacy(session: Session, finess: str | None = None) -> Pharmacy:
    """The pharmacy with this FINESS, or the only one when there is one."""
    if finess:
        pharmacy = session.scalar(select(Pharmacy).where(Pharmacy.finess == finess))
        if pharmacy is None:
            raise NotFound(f"Aucune officine avec le FINESS {finess}.")
        return pharmacy
    pharmacies = session.scalars(select(Pharmacy).limit(2)).all()
    if not pharmacies:
        raise NotFound("Aucune officine n'est encore enregistrée : lancez « lgo init --name … --finess … ».")
    if len(pharmacies) > 1:
        raise NotFound("Plusieurs officines dans cette base : précisez LGO_PHARMACY=<FINESS>.")
    return pharmacies[0]


#: Checked instead of a real hash when the code is unknown (or the operator inactive, or without a password), so that
#: a wrong password costs the same time for every code: the answer's delay does not tell which codes exist.
_DECOY_HASH = (
    f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${base64.b64encode(secrets.token_bytes(16)).decode()}$"
    f"{base64.b64encode(secrets.token_bytes(32)).decode()}"
)


def authenticate(session: Session, pharmacy_id: int, code: str, password: str) -> Operator | None:
    """The active operator with this code and password, else None — in the same time whether the code exists."""
    operator = session.scalar(select(Operator).where(Operator.pharmacy_id == pharmacy_id, Operator.code == code[:32]))
    usable = operator is not None and operator.active and bool(operator.password_hash)
    stored = operator.password_hash if operator is not None and usable else _DECOY_HASH
    if not verify_password(password, stored) or not usable:
        return None
    return operator


def acting_pharmacist(session: Session, pharmacy_id: int, operator_id: int, why_fr: str) -> Operator:
    """The active pharmacist with an RPPS number who performs or validates an act; ``why_fr`` says why one is
    needed (« Un TROD est réalisé et validé par un pharmacien identifié par son numéro RPPS. »)."""
    from lgo.domain.scoped import get_scoped

    operator = get_scoped(session, Operator, operator_id, pharmacy_id, "opérateur")
    if not (operator.active and operator.role.is_pharmacist and operator.rpps):
        raise ValidationError(why_fr, detail=f"operator {operator_id} is not an active pharmacist with an RPPS")
    return operator
