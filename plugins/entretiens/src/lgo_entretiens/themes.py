"""Interview themes, billable acts and document types (see decision 0500 for the sources and their limits)."""

from __future__ import annotations

from dataclasses import dataclass

from lgo.api import ActDefinition

#: LOINC types of the documents (the same codes the DMP plugin maps to its class codes).
CR_ENTRETIEN = ("78601-2", "CR d'entretien pharmaceutique")
BILAN_MEDICAMENTEUX = ("56445-0", "Bilan médicamenteux (Officine)")


@dataclass(frozen=True)
class Theme:
    code: str
    label_fr: str
    #: Act billed for the first year of the accompaniment (or the single interview), if any.
    act_code: str | None


THEMES: dict[str, Theme] = {
    theme.code: theme
    for theme in (
        Theme("AVK", "Accompagnement des patients sous antivitamine K (AVK)", "ASI"),
        Theme("AOD", "Accompagnement des patients sous anticoagulants oraux directs (AOD)", "ASI"),
        Theme("ASTHME", "Accompagnement des patients asthmatiques sous corticoïdes inhalés", "ASI"),
        Theme("GROSSESSE", "Entretien femme enceinte", "EFE"),
        Theme("ANTICANCEREUX", "Accompagnement des patients sous anticancéreux oraux", None),
    )
}

#: The acts this plugin declares to the kernel (fees in euro cents, metropolitan France).
ACTS = (
    ActDefinition("TAC", "Adhésion à un accompagnement pharmaceutique", 1, reimbursement_rate=100),
    ActDefinition("ASI", "Accompagnement AVK / AOD / asthme, première année", 5000, reimbursement_rate=70),
    ActDefinition("ASS", "Accompagnement AVK / AOD / asthme, années suivantes", 3000, reimbursement_rate=70),
    ActDefinition("EFE", "Entretien femme enceinte", 500, reimbursement_rate=70),
    ActDefinition("BMI", "Bilan partagé de médication, première année", 6000, reimbursement_rate=70),
    ActDefinition("BMT", "Bilan partagé de médication, années suivantes", 3000, reimbursement_rate=70),
)


def theme(code: str) -> Theme:
    from lgo.api import ValidationError

    found = THEMES.get(code.upper())
    if found is None:
        choices = ", ".join(sorted(THEMES))
        raise ValidationError(f"Type d'entretien inconnu : « {code} » (types possibles : {choices}).")
    return found


@dataclass(frozen=True)
class Question:
    """One field of an interview's form: a short answer (``text``) or a choice among ``choices``."""

    key: str
    label_fr: str
    choices: tuple[str, ...] = ()


_ADHERENCE = ("bonne", "à renforcer", "insuffisante")
_KNOWN = ("connus", "à revoir")

#: The form of each interview kind (the points of the Assurance Maladie's interview guides the pharmacist records).
QUESTIONS: dict[str, tuple[Question, ...]] = {
    "AVK": (
        Question("molecule", "Médicament AVK et posologie"),
        Question("inr_cible", "INR cible"),
        Question("dernier_inr", "Dernier INR (date et valeur)"),
        Question("carnet", "Carnet de suivi AVK tenu", ("oui", "non")),
        Question("surdosage", "Signes de surdosage et de sous-dosage", _KNOWN),
        Question("interactions", "Automédication, alimentation, interactions abordées"),
    ),
    "AOD": (
        Question("molecule", "Anticoagulant oral direct et posologie"),
        Question("fonction_renale", "Dernière clairance de la créatinine"),
        Question("oubli", "Conduite à tenir en cas d'oubli connue", ("oui", "non")),
        Question("saignements", "Signes de saignement", _KNOWN),
        Question("observance", "Observance", _ADHERENCE),
    ),
    "ASTHME": (
        Question("traitement", "Traitement de fond (corticoïde inhalé) et de crise"),
        Question("technique", "Technique d'inhalation", ("maîtrisée", "à reprendre")),
        Question("crises", "Fréquence des crises et des réveils nocturnes"),
        Question("facteurs", "Facteurs déclenchants identifiés"),
        Question("observance", "Observance du traitement de fond", _ADHERENCE),
    ),
    "GROSSESSE": (
        Question("terme", "Terme (semaines d'aménorrhée)"),
        Question("medicaments", "Médicaments et automédication en cours"),
        Question("vaccinations", "Vaccinations (grippe, coqueluche, COVID-19)"),
        Question("risques", "Tabac, alcool, toxoplasmose, listériose abordés", ("oui", "non")),
    ),
    "ANTICANCEREUX": (
        Question("molecule", "Anticancéreux oral et posologie"),
        Question("effets", "Effets indésirables rapportés"),
        Question("observance", "Observance", _ADHERENCE),
    ),
    "BPM": (
        Question("autres", "Autres médicaments (automédication, hors ordonnancier)"),
        Question("observance", "Observance", _ADHERENCE),
    ),
}


def questions(code: str) -> tuple[Question, ...]:
    return QUESTIONS.get(code.upper(), ())
