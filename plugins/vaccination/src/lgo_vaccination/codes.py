"""The codes a note de vaccination uses, from the CI-SIS VAC-NOTE 2023.01 value sets (the project's own small
tables: the official value sets stay in ../shared and are checked by the ANS kit in the tests)."""

from __future__ import annotations

from dataclasses import dataclass

from lgo.api import ActDefinition, ValidationError

OID_EDQM = "0.4.0.127.0.16.1.1.2.1"
OID_SNOMED = "2.16.840.1.113883.6.96"
OID_ACT_CODE = "2.16.840.1.113883.5.4"
OID_CIS = "1.2.250.1.213.2.3.1"
OID_CIP = "1.2.250.1.213.2.3.2"
OID_ATC = "2.16.840.1.113883.6.73"
OID_LOINC = "2.16.840.1.113883.6.1"

NOTE_TYPE = ("87273-9", "Note de vaccination")
SECTION_CODE = ("11369-6", "Historique des vaccinations")

#: JDV_ImmunizationRouteCodes_CISIS (EDQM).
ROUTES = {
    "20035000": "Voie intramusculaire",
    "20030000": "Voie intradermique",
    "20020000": "Voie inhalée",
    "20053000": "Voie orale",
    "20066000": "Voie sous-cutanée",
}
#: JDV_ImmunizationApproachSiteCode_CISIS (SNOMED CT).
SITES = {
    "64262003": "avant-bras droit",
    "66480008": "avant-bras gauche",
    "16217661000119109": "deltoïde droit",
    "16217701000119102": "deltoïde gauche",
    "91774008": "épaule droite",
    "91775009": "épaule gauche",
    "11207009": "cuisse droite",
    "61396006": "cuisse gauche",
    "723980000": "fesse droite",
    "723979003": "fesse gauche",
}
#: JDV_HL7_ActSubstanceAdministrationImmunizationCode_CISIS.
ACT_TYPES = {
    "IMMUNIZ": "Vaccination sans autre précision",
    "INITIMMUNIZ": "1ère série vaccinante",
    "BOOSTER": "Rappel de vaccin",
}

#: The pharmacist's vaccination acts (metropolitan fees, see decision 0501).
ACTS = (
    ActDefinition("VGP", "Vaccination contre la grippe par le pharmacien", 750, reimbursement_rate=70),
    ActDefinition("INJ", "Injection du vaccin contre la Covid-19", 790, reimbursement_rate=100),
    ActDefinition("RVA", "Administration d'un vaccin par le pharmacien", 750, reimbursement_rate=70),
)
VACCINATION_ACTS = frozenset(act.code for act in ACTS)


@dataclass(frozen=True)
class VaccineProfile:
    """What a family of vaccines targets and how it is usually given (editable on each note)."""

    disease_fr: str
    route: str = "20035000"
    site: str = "16217701000119102"
    act_type: str = "IMMUNIZ"


#: By ATC prefix, longest first wins.
PROFILES = {
    "J07BB": VaccineProfile("Grippe"),
    "J07BN": VaccineProfile("Covid-19", act_type="BOOSTER"),
    "J07AL": VaccineProfile("Infections invasives à pneumocoque"),
    "J07CA01": VaccineProfile("Diphtérie, tétanos, poliomyélite", act_type="BOOSTER"),
    "J07AM": VaccineProfile("Tétanos", act_type="BOOSTER"),
    "J07AJ": VaccineProfile("Coqueluche", act_type="BOOSTER"),
    "J07BM": VaccineProfile("Papillomavirus humains", act_type="INITIMMUNIZ"),
    "J07BC": VaccineProfile("Hépatite"),
    "J07AH": VaccineProfile("Méningocoque"),
    "J07BG": VaccineProfile("Rage", act_type="INITIMMUNIZ"),
}
UNKNOWN = VaccineProfile("Maladie non précisée")


def profile(atc: str | None) -> VaccineProfile:
    if not atc:
        return UNKNOWN
    for prefix in sorted(PROFILES, key=len, reverse=True):
        if atc.startswith(prefix):
            return PROFILES[prefix]
    return UNKNOWN


def check_choice(table: dict[str, str], code: str, what: str) -> str:
    if code not in table:
        choices = ", ".join(f"{c} ({label})" for c, label in table.items())
        raise ValidationError(f"{what} inconnue : « {code} ». Valeurs possibles : {choices}.")
    return code
