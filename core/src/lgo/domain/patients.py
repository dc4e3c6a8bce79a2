"""Patients: identity traits as declared or read from the carte Vitale.

Qualifying an identity (INS, RNIV statuses) belongs to the ``ins`` plugin; the kernel keeps the traits and
tells plugins when they change (:func:`update_traits` returns which strict traits changed).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from lgo import traits as rniv
from lgo.db import Base, UTCDateTime, str_enum, utcnow
from lgo.errors import ValidationError


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"
    UNDETERMINED = "I"


_PARTIAL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A birth date whose day, or day and month, may be unknown (written 00, as the RNIV does)."""

    year: int
    month: int = 0
    day: int = 0

    def __post_init__(self) -> None:
        if not 1850 <= self.year <= 2200:
            raise ValidationError(f"Année de naissance invalide : {self.year}.")
        if self.month == 0 and self.day != 0:
            raise ValidationError("Un jour de naissance sans mois n'est pas possible.")
        if self.month and not 1 <= self.month <= 12:
            raise ValidationError(f"Mois de naissance invalide : {self.month}.")
        if self.day:
            try:
                date(self.year, self.month, self.day)
            except ValueError as exc:
                raise ValidationError(f"Date de naissance invalide : {self}.") from exc

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _PARTIAL_DATE.match(text.strip())
        if not match:
            raise ValidationError(f"Date de naissance invalide : « {text} » (format AAAA-MM-JJ, 00 si inconnu).")
        year, month, day = (int(g) for g in match.groups())
        return cls(year, month, day)

    @classmethod
    def of(cls, value: date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @property
    def is_complete(self) -> bool:
        return self.day != 0

    def ages_on(self, day: date) -> tuple[int, int]:
        """The youngest and oldest age in completed years this birth date allows on ``day`` (equal when the date
        is complete; an unknown month or day leaves a range, for rules such as « 16 to 65 years old »)."""
        if self.is_complete:
            earliest = latest = date(self.year, self.month, self.day)
        elif self.month:
            earliest = date(self.year, self.month, 1)
            latest = date(self.year + self.month // 12, self.month % 12 + 1, 1) - timedelta(days=1)
        else:
            earliest, latest = date(self.year, 1, 1), date(self.year, 12, 31)

        def age(born: date) -> int:
            return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

        return age(latest), age(earliest)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def display_fr(self) -> str:
        if self.is_complete:
            return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"
        if self.month:
            return f"??/{self.month:02d}/{self.year:04d}"
        return f"??/??/{self.year:04d}"


#: Traits whose change demotes a qualified identity (the RNIV's "traits stricts").
STRICT_TRAITS = ("birth_name", "first_names", "sex", "birth_date", "birth_place_code")


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"), index=True)
    birth_name: Mapped[str] = mapped_column(String(100))
    #: The first names in birth-certificate order, separated by spaces (RNIV "liste des prénoms").
    first_names: Mapped[str] = mapped_column(String(200))
    used_first_name: Mapped[str | None] = mapped_column(String(100), default=None)
    used_name: Mapped[str | None] = mapped_column(String(100), default=None)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 1))
    birth_date_text: Mapped[str] = mapped_column("birth_date", String(10))
    #: INSEE code of the birth commune, or 99xxx for a country abroad.
    birth_place_code: Mapped[str | None] = mapped_column(String(5), default=None)
    #: Vitale beneficiary data: the NIR of the insured person (13 characters + key) and the beneficiary's rank.
    vitale_nir: Mapped[str | None] = mapped_column(String(15), default=None)
    vitale_rank: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Share of the ticket modérateur taken by the complementary insurer (percent, 0 when none).
    complementary_rate: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def birth_date(self) -> PartialDate:
        return PartialDate.parse(self.birth_date_text)

    @birth_date.setter
    def birth_date(self, value: PartialDate) -> None:
        self.birth_date_text = str(value)

    @property
    def display_name(self) -> str:
        first = self.used_first_name or self.first_names.split(" ")[0]
        name = self.used_name or self.birth_name
        return f"{first} {name.upper()}"


# Searched at the counter within one pharmacy (``lgo.domain.patient_search``).
Index("ix_patient_pharmacy_id_birth_date", Patient.pharmacy_id, Patient.birth_date_text)
Index("ix_patient_pharmacy_id_vitale_nir", Patient.pharmacy_id, Patient.vitale_nir)


def _check_name(value: str, what: str) -> str:
    """A name as typed (accents kept), accepted only if it has an RNIV transliteration: what the file holds can
    always be sent to INSi (:func:`lgo.traits.ins_name`)."""
    rniv.ins_name(value, what)
    return " ".join(unicodedata.normalize("NFC", value).split(" ")).strip()


def create_patient(
    session: Session,
    pharmacy_id: int,
    *,
    birth_name: str,
    first_names: str,
    sex: Sex | str,
    birth_date: PartialDate | str,
    birth_place_code: str | None = None,
    used_name: str | None = None,
    used_first_name: str | None = None,
    vitale_nir: str | None = None,
    vitale_rank: int | None = None,
    complementary_rate: int = 0,
) -> Patient:
    if isinstance(birth_date, str):
        birth_date = PartialDate.parse(birth_date)
    if birth_place_code is not None:
        birth_place_code = rniv.birth_place(birth_place_code)
    if not 0 <= complementary_rate <= 100:
        raise ValidationError("Le taux de prise en charge complémentaire doit être entre 0 et 100 %.")
    patient = Patient(
        pharmacy_id=pharmacy_id,
        birth_name=_check_name(birth_name, "Nom de naissance").upper(),
        first_names=_check_name(first_names, "Prénom(s)").upper(),
        used_name=_check_name(used_name, "Nom utilisé").upper() if used_name else None,
        used_first_name=_check_name(used_first_name, "Prénom utilisé").upper() if used_first_name else None,
        sex=Sex(sex),
        birth_date_text=str(birth_date),
        birth_place_code=birth_place_code,
        vitale_nir=vitale_nir,
        vitale_rank=vitale_rank,
        complementary_rate=complementary_rate,
    )
    session.add(patient)
    session.flush()
    return patient


def update_traits(session: Session, patient: Patient, **traits: object) -> list[str]:
    """Change identity traits; returns the strict traits that actually changed (for the INS plugin)."""
    changed: list[str] = []
    for name, value in traits.items():
        column = "birth_date_text" if name == "birth_date" else name
        if not hasattr(Patient, column):
            raise ValidationError(f"Trait d'identité inconnu : {name}.")
        new = str(value) if name == "birth_date" else value
        if isinstance(new, str) and name in ("birth_name", "first_names", "used_name", "used_first_name"):
            new = _check_name(new, "Nom").upper()
        if name == "birth_place_code" and new is not None:
            new = rniv.birth_place(new)
        if getattr(patient, column) != new:
            setattr(patient, column, new)
            if name in STRICT_TRAITS:
                changed.append(name)
    session.flush()
    return changed
