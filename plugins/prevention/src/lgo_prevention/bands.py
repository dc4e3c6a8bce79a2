"""The four age bands of Mon bilan prévention, the themes of the interview in each, and the acts (decision 1300).

Sources: arrêté of 29 May 2024 (bilans de prévention aux âges clés: 18–25, 45–50, 60–65 and 70–75 years old, once
per person and per band), the official self-questionnaires of santé.gouv.fr whose headings the themes follow, and
the avenant to the convention pharmaceutique (act RDP, 30 €, 31,50 € in the DROM, one other act the same day: a
vaccination or the colorectal screening kit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lgo.api import ActDefinition, PartialDate, ValidationError


@dataclass(frozen=True)
class Theme:
    code: str
    label_fr: str
    #: What the pharmacist goes through with the patient.
    prompt_fr: str


THEMES: dict[str, Theme] = {
    t.code: t
    for t in (
        Theme("alimentation", "Alimentation", "Repas, fruits et légumes, sucre, sel, poids."),
        Theme("activite_physique", "Activité physique et sédentarité", "Marche, sport, temps assis, écrans."),
        Theme("sommeil", "Sommeil", "Durée, qualité, fatigue dans la journée."),
        Theme("tabac", "Tabac et vapotage", "Consommation, envie d'arrêter, aides au sevrage."),
        Theme("alcool", "Alcool", "Fréquence, quantités, repères de consommation."),
        Theme("drogues", "Cannabis et autres substances", "Consommations, contexte, risques."),
        Theme("ecrans", "Écrans et jeux", "Temps d'écran, jeux d'argent, usages problématiques."),
        Theme("sante_mentale", "Santé mentale et bien-être", "Moral, stress, anxiété, idées noires, entourage."),
        Theme("sante_sexuelle", "Santé sexuelle", "Contraception, infections sexuellement transmissibles, dépistage."),
        Theme("violences", "Violences", "Violences subies (couple, famille, travail, harcèlement)."),
        Theme("vaccinations", "Vaccinations", "Rappels à jour (dTcaP, grippe, COVID-19, HPV, zona, pneumocoque)."),
        Theme("depistages", "Dépistages des cancers", "Col de l'utérus, sein, côlon : dates des derniers dépistages."),
        Theme(
            "cardiovasculaire",
            "Risque cardiovasculaire",
            "Tension artérielle, diabète, cholestérol, antécédents familiaux.",
        ),
        Theme("travail_environnement", "Travail et environnement", "Conditions de travail, expositions, logement."),
        Theme("menopause", "Ménopause et andropause", "Symptômes, suivi, ostéoporose."),
        Theme("audition_vision", "Audition et vision", "Gêne auditive ou visuelle, dernier contrôle."),
        Theme("bucco_dentaire", "Santé bucco-dentaire", "Dernière visite chez le dentiste, douleurs."),
        Theme("medicaments", "Médicaments", "Traitements en cours, automédication, observance."),
        Theme("isolement", "Lien social et isolement", "Entourage, activités, aidant."),
        Theme("autonomie_chutes", "Autonomie et chutes", "Chutes récentes, équilibre, aménagement du logement."),
        Theme("memoire", "Mémoire", "Oublis, difficultés dans la vie quotidienne."),
    )
}


@dataclass(frozen=True)
class Band:
    code: str
    label_fr: str
    low: int
    high: int
    themes: tuple[str, ...]


_COMMON = ("alimentation", "activite_physique", "sommeil", "tabac", "alcool", "sante_mentale", "vaccinations")
BANDS: dict[str, Band] = {
    b.code: b
    for b in (
        Band(
            "18-25",
            "18 à 25 ans",
            18,
            25,
            (*_COMMON, "drogues", "ecrans", "sante_sexuelle", "violences", "depistages"),
        ),
        Band(
            "45-50",
            "45 à 50 ans",
            45,
            50,
            (*_COMMON, "cardiovasculaire", "depistages", "menopause", "travail_environnement", "bucco_dentaire"),
        ),
        Band(
            "60-65",
            "60 à 65 ans",
            60,
            65,
            (*_COMMON, "cardiovasculaire", "depistages", "audition_vision", "medicaments", "isolement"),
        ),
        Band(
            "70-75",
            "70 à 75 ans",
            70,
            75,
            (*_COMMON, "depistages", "audition_vision", "medicaments", "isolement", "autonomie_chutes", "memoire"),
        ),
    )
}


def band_for(birth: PartialDate, on: date) -> Band:
    """The patient's age band on that day; refused in French outside the bands or when an incomplete birth date
    leaves the band uncertain."""
    youngest, oldest = birth.ages_on(on)
    for band in BANDS.values():
        if band.low <= youngest and oldest <= band.high:
            return band
        if band.low <= oldest and youngest <= band.high:
            raise ValidationError(
                f"Âge incertain ({youngest} ou {oldest} ans, date de naissance incomplète) : complétez la date de "
                f"naissance pour savoir si le patient est dans la tranche {band.label_fr}."
            )
    bands = ", ".join(b.label_fr for b in BANDS.values())
    raise ValidationError(f"Mon bilan prévention concerne les tranches d'âge {bands} ; le patient a {youngest} ans.")


#: The act of the bilan and the colorectal screening kit, the other act the plugin declares (decision 1300).
RDP = "RDP"
KIT = "RKD"
#: Acts billable the same day as the bilan: a vaccination (acts of the vaccination plugin) or the kit.
SAME_DAY_ACTS = ("RVA", "VGP", KIT)
KIT_AGES = (50, 74)
ACTS = (
    ActDefinition("RDP", "Mon bilan prévention", 3000, reimbursement_rate=100, fee_cents_drom=3150),
    ActDefinition(
        "RKD", "Remise d'un kit de dépistage du cancer colorectal", 300, reimbursement_rate=100, fee_cents_drom=315
    ),
)
