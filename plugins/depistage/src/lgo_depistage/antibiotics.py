"""The antibiotics a pharmacist may dispense without a prescription after a positive TROD, with the protocol's
posology and duration (decision 1201).

Angine (streptocoque A): amoxicilline first; with an allergy to penicillins, cefpodoxime proxétil or céfuroxime
axétil (adults) unless cephalosporins are contraindicated; otherwise azithromycine or clarithromycine. Cystite
aiguë simple: fosfomycine-trométamol (single dose) or pivmécillinam. Children under 15 get the mg/kg posology
(weight needed), never above the adult dose; from 40 kg the adult one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lgo.api import ValidationError

CHILD_UNTIL_AGE = 15
ADULT_WEIGHT_KG = 40.0


@dataclass(frozen=True)
class Posology:
    dose_mg: int
    intakes_per_day: int
    days: int

    @property
    def text_fr(self) -> str:
        dose = f"{self.dose_mg // 1000} g" if self.dose_mg % 1000 == 0 else f"{self.dose_mg} mg"
        if self.days == 1 and self.intakes_per_day == 1:
            return f"{dose} en une prise unique"
        rhythm = {1: "une fois par jour", 2: "matin et soir", 3: "trois fois par jour"}[self.intakes_per_day]
        return f"{dose} {rhythm} pendant {self.days} jours"


@dataclass(frozen=True)
class Antibiotic:
    code: str
    label_fr: str
    atc: str
    adult: Posology
    #: Paediatric dose per day and its ceiling; None when the protocol keeps it for adults.
    child_mg_per_kg_day: int | None = None
    child_max_mg_day: int = 0

    def posology(self, youngest_age: int, weight_kg: float | None) -> Posology:
        if youngest_age >= CHILD_UNTIL_AGE or (weight_kg is not None and weight_kg >= ADULT_WEIGHT_KG):
            return self.adult
        if self.child_mg_per_kg_day is None:
            raise ValidationError(f"{self.label_fr} n'est pas proposée avant {CHILD_UNTIL_AGE} ans dans le protocole.")
        if weight_kg is None:
            raise ValidationError(
                f"Le poids de l'enfant est nécessaire pour la posologie de {self.label_fr.lower()} (mg/kg)."
            )
        per_day = min(round(self.child_mg_per_kg_day * weight_kg), self.child_max_mg_day)
        intakes = self.adult.intakes_per_day
        per_intake = max(5, round(per_day / intakes / 5) * 5)
        return Posology(per_intake, intakes, self.adult.days)


ANTIBIOTICS: dict[str, Antibiotic] = {
    a.code: a
    for a in (
        Antibiotic("amoxicilline", "Amoxicilline", "J01CA04", Posology(1000, 2, 6), 50, 2000),
        Antibiotic("cefpodoxime", "Cefpodoxime proxétil", "J01DD13", Posology(100, 2, 5), 8, 200),
        Antibiotic("cefuroxime", "Céfuroxime axétil", "J01DC02", Posology(250, 2, 4)),
        Antibiotic("azithromycine", "Azithromycine", "J01FA10", Posology(500, 1, 3), 20, 500),
        Antibiotic("clarithromycine", "Clarithromycine", "J01FA09", Posology(250, 2, 5), 15, 500),
        Antibiotic("fosfomycine", "Fosfomycine-trométamol", "J01XX01", Posology(3000, 1, 1)),
        Antibiotic("pivmecillinam", "Pivmécillinam", "J01CA08", Posology(400, 2, 3)),
    )
}


def options(kind: str, answers: Mapping[str, Any], youngest_age: int) -> list[Antibiotic]:
    """The protocol's antibiotics for this patient, first choice first."""
    if kind == "cystite":
        return [ANTIBIOTICS["fosfomycine"], ANTIBIOTICS["pivmecillinam"]]
    if kind != "angine":
        return []
    if not answers.get("allergie_penicilline"):
        return [ANTIBIOTICS["amoxicilline"]]
    if not answers.get("contre_indication_cephalosporines"):
        chosen = [ANTIBIOTICS["cefpodoxime"]]
        if youngest_age >= 18:
            chosen.append(ANTIBIOTICS["cefuroxime"])
        return chosen
    return [ANTIBIOTICS["azithromycine"], ANTIBIOTICS["clarithromycine"]]


def antibiotic(code: str) -> Antibiotic:
    found = ANTIBIOTICS.get(str(code).strip().lower())
    if found is None:
        raise ValidationError(f"Antibiotique inconnu : « {code} » (possibles : {', '.join(ANTIBIOTICS)}).")
    return found
