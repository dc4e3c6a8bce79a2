"""The codes a note de vaccination uses, from the CI-SIS VAC-NOTE 2023.01 value sets (the project's own small
tables: the official value sets stay in ../shared and are checked by the ANS kit in the tests)."""

from __future__ import annotations

from dataclasses import dataclass

from lgo.api import ActDefinition, ActTariff, ValidationError

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

#: The RVA tariff of a vaccine the pharmacist prescribes and administers (9,60 €).
PRESCRIBED = "prescription"

#: The pharmacist's vaccination acts (metropolitan fees, see decision 0501).
ACTS = (
    # VGP (bon de prise en charge) and RVA: the pharmacist prescribes the vaccine; INJ injects a prescribed one.
    ActDefinition(
        "VGP", "Vaccination contre la grippe par le pharmacien", 750, reimbursement_rate=70, pharmacist_prescribes=True
    ),
    ActDefinition("INJ", "Injection du vaccin contre la Covid-19", 790, reimbursement_rate=100),
    # RVA at its own fee: the vaccine was prescribed by another professional. At the PRESCRIBED tariff the pharmacist
    # prescribes it too, which is what the REMU NUM vaccination indicator counts (decision 1502).
    ActDefinition(
        "RVA",
        "Administration d'un vaccin par le pharmacien",
        750,
        reimbursement_rate=70,
        pharmacist_prescribes=True,
        tariffs=(ActTariff(PRESCRIBED, "Prescription et administration d'un vaccin par le pharmacien", 960),),
    ),
)
VACCINATION_ACTS = frozenset(act.code for act in ACTS)


@dataclass(frozen=True)
class VaccineProfile:
    """What a vaccine targets and how it is usually given (route, site and act type stay editable on each note)."""

    diseases: tuple[str, ...]
    route: str = "20035000"
    site: str = "16217701000119102"
    act_type: str = "IMMUNIZ"

    @property
    def disease_fr(self) -> str:
        """The targeted diseases as the DMP's carnet de vaccination shows them (« Pathologie »)."""
        return ", ".join(self.diseases)


_IM, _SC, _ORAL, _ID = "20035000", "20066000", "20053000", "20030000"
_DTP = ("Diphtérie", "Tétanos", "Poliomyélite")
_DTCAP = ("Diphtérie", "Tétanos", "Coqueluche", "Poliomyélite")
_HIB = "Infections à Haemophilus influenzae b"


def _p(*diseases: str, route: str = _IM, act_type: str = "IMMUNIZ") -> VaccineProfile:
    site = {_SC: "16217701000119102", _ORAL: "16217701000119102", _ID: "16217701000119102"}.get(route)
    return VaccineProfile(diseases, route, site or "16217701000119102", act_type)


#: The targeted diseases of every vaccine by its ATC code (WHO ATC J07, level 4 groups and level 5 substances;
#: the longest matching prefix wins). The BDPM gives each vaccine's ATC code, so every vaccine the BDPM lists
#: resolves here; the CI-SIS value sets of vaccines (JDV_VaccinCSE8/9/24) are covered (tests).
PROFILES: dict[str, VaccineProfile] = {
    # J07A — bacterial vaccines
    "J07AC": _p("Charbon"),
    "J07AD": _p("Brucellose"),
    "J07AE": _p("Choléra", route=_ORAL),
    "J07AF": _p("Diphtérie", act_type="BOOSTER"),
    "J07AG": _p(_HIB),
    "J07AH": _p("Infections invasives à méningocoque"),
    "J07AH01": _p("Infections invasives à méningocoque A"),
    "J07AH03": _p("Infections invasives à méningocoques A et C"),
    "J07AH04": _p("Infections invasives à méningocoques A, C, Y et W"),
    "J07AH07": _p("Infections invasives à méningocoque C"),
    "J07AH08": _p("Infections invasives à méningocoques A, C, Y et W"),
    "J07AH09": _p("Infections invasives à méningocoque B"),
    "J07AH10": _p("Infections invasives à méningocoque A"),
    "J07AJ": _p("Coqueluche", act_type="BOOSTER"),
    "J07AJ51": _p("Coqueluche", "Diphtérie", "Tétanos", act_type="BOOSTER"),
    "J07AJ52": _p("Coqueluche", "Diphtérie", "Tétanos", act_type="BOOSTER"),
    "J07AK": _p("Peste"),
    "J07AL": _p("Infections invasives à pneumocoque"),
    "J07AL52": _p("Infections invasives à pneumocoque", _HIB),
    "J07AM": _p("Tétanos", act_type="BOOSTER"),
    "J07AM51": _p("Diphtérie", "Tétanos", act_type="BOOSTER"),
    "J07AN": _p("Tuberculose", route=_ID),
    "J07AP": _p("Fièvre typhoïde"),
    "J07AP01": _p("Fièvre typhoïde", route=_ORAL),
    "J07AR": _p("Typhus"),
    "J07AX": _p("Leptospirose"),
    # J07B — viral vaccines
    "J07BA": _p("Encéphalite virale"),
    "J07BA01": _p("Encéphalite à tiques"),
    "J07BA02": _p("Encéphalite japonaise"),
    "J07BA03": _p("Encéphalite japonaise"),
    "J07BB": _p("Grippe"),
    "J07BC": _p("Hépatites virales"),
    "J07BC01": _p("Hépatite B"),
    "J07BC02": _p("Hépatite A"),
    "J07BC20": _p("Hépatite A", "Hépatite B"),
    "J07BD": _p("Rougeole", route=_SC),
    "J07BD51": _p("Rougeole", "Oreillons", route=_SC),
    "J07BD52": _p("Rougeole", "Oreillons", "Rubéole", route=_SC),
    "J07BD53": _p("Rougeole", "Rubéole", route=_SC),
    "J07BD54": _p("Rougeole", "Oreillons", "Rubéole", "Varicelle", route=_SC),
    "J07BE": _p("Oreillons", route=_SC),
    "J07BF": _p("Poliomyélite"),
    "J07BF01": _p("Poliomyélite", route=_ORAL),
    "J07BF02": _p("Poliomyélite", route=_ORAL),
    "J07BF04": _p("Poliomyélite", route=_ORAL),
    "J07BG": _p("Rage", act_type="INITIMMUNIZ"),
    "J07BH": _p("Gastro-entérite à rotavirus", route=_ORAL),
    "J07BJ": _p("Rubéole", route=_SC),
    "J07BJ51": _p("Rubéole", "Oreillons", route=_SC),
    "J07BK": _p("Varicelle", "Zona", route=_SC),
    "J07BK01": _p("Varicelle", route=_SC),
    "J07BK02": _p("Zona", route=_SC),
    "J07BK03": _p("Zona"),
    "J07BL": _p("Fièvre jaune", route=_SC),
    "J07BM": _p("Infections à papillomavirus humains", act_type="INITIMMUNIZ"),
    "J07BN": _p("Covid-19", act_type="BOOSTER"),
    "J07BX": _p("Infection virale (autre vaccin viral)"),
    "J07BX01": _p("Variole", "Mpox", route=_SC),
    "J07BX02": _p("Maladie à virus Ebola"),
    "J07BX04": _p("Dengue", route=_SC),
    "J07BX05": _p("Infections à virus respiratoire syncytial"),
    # J07C — bacterial and viral vaccines combined
    "J07CA": _p("Vaccin combiné bactérien et viral"),
    "J07CA01": _p(*_DTP, act_type="BOOSTER"),
    "J07CA02": _p(*_DTCAP, act_type="BOOSTER"),
    "J07CA03": _p("Diphtérie", "Rubéole", "Tétanos"),
    "J07CA04": _p(_HIB, "Poliomyélite"),
    "J07CA05": _p("Diphtérie", "Hépatite B", "Coqueluche", "Poliomyélite", "Tétanos"),
    "J07CA06": _p(*_DTCAP, _HIB),
    "J07CA07": _p("Diphtérie", "Hépatite B", "Tétanos"),
    "J07CA08": _p(_HIB, "Hépatite B"),
    "J07CA09": _p(*_DTCAP, _HIB, "Hépatite B"),
    "J07CA10": _p("Fièvre typhoïde", "Hépatite A"),
    "J07CA11": _p("Diphtérie", "Tétanos", "Coqueluche", _HIB, "Hépatite B"),
    "J07CA12": _p(*_DTCAP, "Hépatite B"),
    "J07CA13": _p("Diphtérie", "Tétanos", "Coqueluche", _HIB, "Hépatite B", "Infections à méningocoques A et C"),
    # J07X — other vaccines
    "J07X": _p("Autre vaccin"),
}
_BY_LENGTH = sorted(PROFILES, key=len, reverse=True)


def is_vaccine_atc(atc: str | None) -> bool:
    return bool(atc) and str(atc).upper().startswith("J07")


def profile(atc: str | None) -> VaccineProfile | None:
    """The profile of a vaccine from its ATC code, ``None`` for a code outside the vaccines (J07)."""
    code = (atc or "").strip().upper()
    for prefix in _BY_LENGTH:
        if code.startswith(prefix):
            return PROFILES[prefix]
    return None


def disease_fr(atc: str | None) -> str:
    """The targeted diseases of a vaccine, or a French error for a code that is not a vaccine's."""
    found = profile(atc)
    if found is None:
        raise ValidationError(
            f"Le code ATC « {atc or ''} » n'est pas celui d'un vaccin (classe J07) : corrigez la fiche produit pour "
            "que la note de vaccination dise quelles maladies le vaccin prévient.",
            detail=f"atc {atc!r} outside J07",
        )
    return found.disease_fr


def check_choice(table: dict[str, str], code: str, what: str) -> str:
    if code not in table:
        choices = ", ".join(f"{c} ({label})" for c, label in table.items())
        raise ValidationError(f"{what} inconnue : « {code} ». Valeurs possibles : {choices}.")
    return code
