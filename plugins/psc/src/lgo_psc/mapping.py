"""What PSC says about the professional (pure functions over the userinfo claims).

``SubjectNameID`` is the national identifier (idNat): ``8`` + RPPS for professionals registered in the RPPS, other
prefixes (ADELI, internal test accounts ``ANS…``) otherwise. ``otherIds`` lists the identifiers with their origin.
``SubjectRefPro.exercices[]`` holds one entry per profession (``codeProfession`` 21 = pharmacien) with its
activities (``codeSecteurDactivite`` SA33 = pharmacie d'officine, ``numeroFinessSite`` = FINESS of the site,
``codeSectionPharmacien`` = section of the Ordre: A titulaires d'officine, D adjoints…)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lgo.api import identifiers

from lgo_psc.errors import SignInRefused

PHARMACIST = "21"
OFFICINE_SECTOR = "SA33"
RPPS_PREFIX = identifiers.IDNAT_RPPS


@dataclass(frozen=True)
class Activity:
    sector: str
    finess_site: str
    pharmacist_section: str
    organisation: str
    mode: str


@dataclass(frozen=True)
class Exercise:
    profession: str
    family_name: str
    given_name: str
    activities: tuple[Activity, ...]


@dataclass(frozen=True)
class PscProfessional:
    sub: str
    id_nat: str
    rpps: str | None
    family_name: str
    given_name: str
    exercises: tuple[Exercise, ...]

    @property
    def is_pharmacist(self) -> bool:
        return any(e.profession == PHARMACIST for e in self.exercises)

    def pharmacy_activity(self, finess: str) -> Activity | None:
        """The professional's activity as a pharmacist at this pharmacy (by FINESS site), if PSC declares one."""
        for exercise in self.exercises:
            if exercise.profession != PHARMACIST:
                continue
            for activity in exercise.activities:
                if activity.finess_site == finess:
                    return activity
        return None

    @property
    def officine_activities(self) -> tuple[Activity, ...]:
        return tuple(
            a for e in self.exercises if e.profession == PHARMACIST for a in e.activities if a.sector == OFFICINE_SECTOR
        )


def rpps_from_id_nat(id_nat: str) -> str | None:
    """``8`` + 11-digit RPPS → the RPPS; any other national identifier → ``None``."""
    return identifiers.rpps_from_idnat(id_nat)


def rpps_of(claims: Mapping[str, Any]) -> str | None:
    """The RPPS from ``SubjectNameID``, else from an ``otherIds`` entry of origin RPPS (11 or 12 digits)."""
    found = rpps_from_id_nat(str(claims.get("SubjectNameID") or ""))
    if found:
        return found
    for other in claims.get("otherIds") or []:
        if not isinstance(other, Mapping) or str(other.get("origine", "")).upper() != "RPPS":
            continue
        value = str(other.get("identifiant") or "")
        if len(value) == 11 and value.isdigit():
            return value
        found = rpps_from_id_nat(value)
        if found:
            return found
    return None


def professional(claims: Mapping[str, Any]) -> PscProfessional:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise SignInRefused("Pro Santé Connect n'a pas transmis l'identifiant du professionnel.", detail="no sub")
    exercises = []
    reference = claims.get("SubjectRefPro")
    for raw in (reference.get("exercices") if isinstance(reference, Mapping) else None) or []:
        if not isinstance(raw, Mapping):
            continue
        activities = tuple(
            Activity(
                str(a.get("codeSecteurDactivite") or ""),
                str(a.get("numeroFinessSite") or ""),
                str(a.get("codeSectionPharmacien") or ""),
                str(a.get("raisonSocialeSite") or ""),
                str(a.get("codeModeExercice") or ""),
            )
            for a in raw.get("activities") or []
            if isinstance(a, Mapping)
        )
        exercises.append(
            Exercise(
                str(raw.get("codeProfession") or ""),
                str(raw.get("nomDexercice") or ""),
                str(raw.get("prenomDexercice") or ""),
                activities,
            )
        )
    return PscProfessional(
        sub=sub,
        id_nat=str(claims.get("SubjectNameID") or claims.get("preferred_username") or ""),
        rpps=rpps_of(claims),
        family_name=str(claims.get("family_name") or ""),
        given_name=str(claims.get("given_name") or ""),
        exercises=tuple(exercises),
    )
