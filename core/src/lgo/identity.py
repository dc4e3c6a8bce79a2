"""The kernel's view of a patient's *shareable* identity (the INS), answered by the identity plugin.

Qualifying an identity belongs to a plugin (``ins``); every other plugin that puts the INS in a document, an XDS
submission, an MSSanté address or a Datamatrix asks the kernel for it through :meth:`lgo.kernel.Kernel.
shareable_identity`, which calls ``lgo_shareable_identity`` on the active plugins. So no plugin imports another to
share an identity, a vendor may ship its own identity plugin, and the answer is always the same rule: only a
*qualifiée* identity is handed out (the plugin refuses otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Self

from lgo.errors import LgoError

#: OIDs of the matricule INS (ANS référentiel INS).
OID_NIR = "1.2.250.1.213.1.4.8"
OID_NIA = "1.2.250.1.213.1.4.9"
OID_TEST = "1.2.250.1.213.1.4.10"
OID_DEMO = "1.2.250.1.213.1.4.11"


@dataclass(frozen=True)
class InsTraits:
    """The INS and its traits, as the national services know a patient: INSi returns them, the DP and the other
    services are addressed with them (each plugin's own type of identity builds on this one)."""

    #: Matricule INS: 13 characters + 2-digit key.
    matricule: str
    #: OID of the matricule's authority (NIR, NIA, or test/demo in a pharmacy in test mode).
    oid: str
    birth_name: str
    #: Every first name, in order, as INSi returns them.
    first_names: tuple[str, ...]
    #: "M", "F" or "I".
    sex: str
    #: ISO date; a partial birth date keeps "00" for what is unknown (e.g. "1980-00-00").
    birth_date: str

    @classmethod
    def of(cls, identity: InsTraits, **more: Any) -> Self:
        """The INS and its traits taken from an identity that carries them (a :class:`SharedIdentity`...); ``more``
        gives the fields ``cls`` adds to them."""
        return cls(**{f.name: getattr(identity, f.name) for f in fields(InsTraits)}, **more)


@dataclass(frozen=True)
class _OfPatient:
    patient_id: int


@dataclass(frozen=True)
class SharedIdentity(InsTraits, _OfPatient):
    """A qualified identity as it may be shared: the INS traits as returned by INSi, never the local ones.

    Its fields start with ``patient_id`` (the base classes are listed last-first), then those of :class:`InsTraits`:
    the positional order every caller uses."""

    #: INSEE code (COG) of the birth place: commune (2A/2B in Corsica), 99xxx for a country, 99999 when unknown.
    #: An identity without it is never shared (:attr:`missing_traits`).
    birth_place_code: str | None = None
    used_name: str | None = None
    used_first_name: str | None = None

    @property
    def first_first_name(self) -> str:
        return self.first_names[0] if self.first_names else ""

    @property
    def xds_patient_id(self) -> str:
        """The patient id of XDS metadata: ``INS^^^&OID&ISO^NH``."""
        return f"{self.matricule}^^^&{self.oid}&ISO^NH"

    @property
    def missing_traits(self) -> list[str]:
        """The INS traits missing or malformed (French names): the structuration minimale of the CI-SIS needs all
        of them, birth place included, in every shared document."""
        from lgo.traits import missing_ins_traits

        return missing_ins_traits(
            birth_name=self.birth_name,
            first_names=self.first_names,
            sex=self.sex,
            birth_date=self.birth_date,
            birth_place_code=self.birth_place_code,
        )

    @property
    def birth_date_value(self) -> date | None:
        year, month, day = (int(part) for part in self.birth_date.split("-"))
        return date(year, month, day) if month and day else None


class IdentityNotShareable(LgoError):
    """The patient's identity is not qualified (or no identity plugin is active): it may not be shared."""

    def __init__(self, patient_id: int, reason_fr: str | None = None) -> None:
        super().__init__(
            reason_fr
            or "L'identité de ce patient n'est pas qualifiée : l'INS ne peut pas être partagé (qualifiez l'identité "
            "par l'appel INSi et une pièce d'identité à haut niveau de confiance).",
            detail=f"patient {patient_id}: no qualified identity",
        )
        self.patient_id = patient_id
