"""The eligibility questionnaire of each TROD and its exclusion criteria (decision 1200).

Sources: décret 2024-550 and the arrêté of 17 June 2024 (CSP R5125-33-5 to -12), the Assurance Maladie's
logigrammes « angine » and « cystite » as summarised in public sources: angine from 10 years old when the patient
comes on his or her own (3 years old with an ordonnance conditionnelle of at most 7 days), cystite for women aged 16
to 65. Every rule here is a pure function of the patient's sex, possible ages on the day of the test, and the
answers, so that its boundaries are tested one by one (age 9/10, 15/16, 65/66, 39.5 °C, the 15-day window).

An exclusion criterion (or an age outside the protocol) does not forbid the test, it forbids the antibiotic without
a prescription: the attestation then orients the patient to a physician and says why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lgo.api import PartialDate, ValidationError

#: Above this temperature an angine is excluded from the protocol (« fièvre > 39,5 °C »).
ANGINE_MAX_TEMPERATURE = 39.5
#: A similar episode within this many days before the test excludes an angine from the protocol.
ANGINE_EPISODE_WINDOW_DAYS = 15
ANGINE_MIN_AGE = 10
ANGINE_MIN_AGE_CONDITIONAL = 3
#: An ordonnance conditionnelle « si TROD angine positif » is valid 7 calendar days.
CONDITIONAL_VALIDITY_DAYS = 7
CYSTITE_AGES = (16, 65)
#: From this temperature a cystite is not « simple » (fever: pyélonéphrite suspected).
CYSTITE_FEVER = 38.0
#: The weights the questionnaire and the antibiotic window accept (kg).
WEIGHT_KG = (2.0, 300.0)
#: McIsaac score threshold from 15 years old: below it the TROD is not indicated (likely viral angine).
MCISAAC_THRESHOLD = 2


@dataclass(frozen=True)
class Question:
    code: str
    label_fr: str
    #: ``oui_non``, ``temperature`` (°C), ``date`` (JJ/MM/AAAA, optional) or ``poids`` (kg, optional).
    kind: str = "oui_non"
    #: A « oui » excludes the patient from the protocol (the attestation orients to a physician).
    excludes: bool = False
    required: bool = True
    help_fr: str = ""


_ANGINE = (
    Question("temperature", "Température mesurée (°C)", "temperature", help_fr="Au-dessus de 39,5 °C : orientation."),
    Question("grossesse", "Grossesse en cours ou possible", excludes=True),
    Question("immunodepression", "Immunodépression (maladie ou traitement immunosuppresseur)", excludes=True),
    Question("antibiotique_en_cours", "Antibiothérapie en cours pour une autre raison", excludes=True),
    Question(
        "signes_complication",
        "Signes de gravité ou de complication (trismus, torticolis, difficulté à respirer ou à avaler la salive, "
        "altération de l'état général)",
        excludes=True,
    ),
    Question("retour_pays_tropical", "Retour récent d'un pays tropical", excludes=True),
    Question("troubles_digestifs", "Troubles digestifs importants (enfant)", excludes=True),
    Question(
        "episode_precedent",
        "Date d'un épisode semblable récent (laisser vide s'il n'y en a pas)",
        "date",
        required=False,
        help_fr="Un épisode semblable dans les 15 jours précédents : orientation.",
    ),
    Question("toux_absente", "Absence de toux (score de McIsaac)"),
    Question("adenopathies", "Adénopathies cervicales antérieures sensibles (score de McIsaac)"),
    Question("amygdales", "Augmentation de volume ou exsudat des amygdales (score de McIsaac)"),
    Question("allergie_penicilline", "Allergie aux pénicillines"),
    Question("contre_indication_cephalosporines", "Contre-indication aux céphalosporines"),
    Question("poids", "Poids (kg), pour la posologie de l'enfant de moins de 15 ans", "poids", required=False),
)
_CYSTITE = (
    Question(
        "temperature", "Température mesurée (°C)", "temperature", help_fr="Fièvre à partir de 38 °C : orientation."
    ),
    Question("frissons", "Frissons", excludes=True),
    Question("douleur_lombaire", "Douleur lombaire ou du flanc", excludes=True),
    Question("grossesse", "Grossesse en cours ou possible", excludes=True),
    Question("immunodepression", "Immunodépression (maladie ou traitement immunosuppresseur)", excludes=True),
    Question(
        "anomalie_urinaire",
        "Anomalie connue de l'appareil urinaire, sonde urinaire ou insuffisance rénale sévère",
        excludes=True,
    ),
    Question("recidive", "Au moins 4 épisodes de cystite dans les 12 derniers mois", excludes=True),
    Question(
        "signes_gravite",
        "Symptômes depuis plus de 3 jours, vomissements ou altération de l'état général",
        excludes=True,
    ),
)
_RESPIRATORY = (
    Question(
        "signes_gravite",
        "Signes de gravité (gêne respiratoire, confusion, déshydratation, altération de l'état général)",
        excludes=True,
    ),
)
QUESTIONS: dict[str, tuple[Question, ...]] = {
    "angine": _ANGINE,
    "cystite": _CYSTITE,
    "grippe": _RESPIRATORY,
    "covid": _RESPIRATORY,
    "covid_grippe": _RESPIRATORY,
}


@dataclass(frozen=True)
class Eligibility:
    """Whether the protocol applies (a positive test then allows the antibiotic without a prescription)."""

    eligible: bool
    #: Why not, in French: written on the attestation as the reasons of the orientation to a physician.
    reasons_fr: tuple[str, ...] = ()
    #: False when the test itself is not indicated (McIsaac score below 2: likely viral angine).
    test_indicated: bool = True


_YES = {"oui", "o", "yes", "y", "1", "true", "vrai"}
_NO = {"non", "n", "no", "0", "false", "faux"}


def _yes_no(question: Question, value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValidationError(f"Réponse invalide à « {question.label_fr} » : « {value} » (oui ou non).")


def _number(question: Question, value: Any, low: float, high: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError as exc:
        raise ValidationError(f"Réponse invalide à « {question.label_fr} » : « {value} » (un nombre).") from exc
    if not low <= number <= high:
        raise ValidationError(f"Réponse invalide à « {question.label_fr} » : {value} (entre {low:g} et {high:g}).")
    return number


def _date(question: Question, value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    text = str(value).strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"Date invalide pour « {question.label_fr} » : « {value} » (JJ/MM/AAAA).") from exc


def clean_answers(kind: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers checked and typed (JSON-ready: dates as ISO text); unknown or missing ones refused in French."""
    questions = QUESTIONS[kind]
    known = {q.code for q in questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValidationError(f"Question inconnue pour ce TROD : {', '.join(unknown)}.")
    cleaned: dict[str, Any] = {}
    missing = []
    for question in questions:
        raw = answers.get(question.code)
        value: Any
        if question.kind == "oui_non":
            value = _yes_no(question, raw)
        elif question.kind == "temperature":
            value = _number(question, raw, 34.0, 43.0)
        elif question.kind == "poids":
            value = _number(question, raw, *WEIGHT_KG)
        else:
            day = _date(question, raw)
            value = day.isoformat() if day else None
        if value is None and question.required:
            missing.append(question.label_fr)
        cleaned[question.code] = value
    if missing:
        raise ValidationError("Répondez à toutes les questions : " + " ; ".join(missing) + ".")
    return cleaned


def _age_reason(birth: PartialDate, on: date, low: int | None, high: int | None, what: str) -> str | None:
    youngest, oldest = birth.ages_on(on)
    if low is not None and oldest < low:
        return f"âge inférieur à {low} ans ({oldest} ans) : {what}"
    if high is not None and youngest > high:
        return f"âge supérieur à {high} ans ({youngest} ans) : {what}"
    if (low is not None and youngest < low) or (high is not None and oldest > high):
        return (
            f"âge incertain ({youngest} ou {oldest} ans, date de naissance incomplète) : {what}, complétez la date "
            "de naissance"
        )
    return None


def _excluding(kind: str, answers: Mapping[str, Any]) -> list[str]:
    return [q.label_fr[0].lower() + q.label_fr[1:] for q in QUESTIONS[kind] if q.excludes and answers.get(q.code)]


def mcisaac(answers: Mapping[str, Any], youngest: int) -> int:
    """The McIsaac score (fever > 38 °C, no cough, tender anterior nodes, tonsils; -1 from 45 years old)."""
    score = sum(bool(answers.get(code)) for code in ("toux_absente", "adenopathies", "amygdales"))
    score += (answers.get("temperature") or 0) > 38.0
    return score - (youngest >= 45)


def assess(
    kind: str,
    *,
    sex: str,
    birth: PartialDate,
    on: date,
    answers: Mapping[str, Any],
    conditional_prescription_on: date | None = None,
) -> Eligibility:
    """The protocol's decision for these (cleaned) answers on the day ``on``."""
    reasons: list[str] = []
    indicated = True
    if kind == "angine":
        minimum = ANGINE_MIN_AGE_CONDITIONAL if conditional_prescription_on else ANGINE_MIN_AGE
        age = _age_reason(birth, on, minimum, None, "hors du protocole angine")
        if age:
            reasons.append(age)
        if conditional_prescription_on is not None:
            elapsed = (on - conditional_prescription_on).days
            if elapsed < 0:
                raise ValidationError("La date de l'ordonnance conditionnelle ne peut pas être dans le futur.")
            if elapsed > CONDITIONAL_VALIDITY_DAYS:
                reasons.append(
                    f"ordonnance conditionnelle de plus de {CONDITIONAL_VALIDITY_DAYS} jours ({elapsed} jours)"
                )
        temperature = answers.get("temperature")
        if temperature is not None and temperature > ANGINE_MAX_TEMPERATURE:
            reasons.append(f"fièvre à {temperature:.1f} °C (plus de 39,5 °C)".replace(".", ","))
        reasons += _excluding(kind, answers)
        episode = answers.get("episode_precedent")
        if episode:
            elapsed = (on - date.fromisoformat(episode)).days
            if elapsed < 0:
                raise ValidationError("La date de l'épisode précédent ne peut pas être après le jour du test.")
            if elapsed <= ANGINE_EPISODE_WINDOW_DAYS:
                reasons.append(f"épisode semblable il y a {elapsed} jour(s) (moins de 15 jours)")
        youngest = birth.ages_on(on)[0]
        if not conditional_prescription_on and youngest >= 15 and mcisaac(answers, youngest) < MCISAAC_THRESHOLD:
            indicated = False
            reasons.append("score de McIsaac inférieur à 2 : angine probablement virale, TROD non indiqué")
    elif kind == "cystite":
        if sex != "F":
            reasons.append("le protocole cystite concerne les femmes")
        age = _age_reason(birth, on, CYSTITE_AGES[0], CYSTITE_AGES[1], "hors du protocole cystite (16 à 65 ans)")
        if age:
            reasons.append(age)
        temperature = answers.get("temperature")
        if temperature is not None and temperature >= CYSTITE_FEVER:
            reasons.append(f"fièvre à {temperature:.1f} °C".replace(".", ","))
        reasons += _excluding(kind, answers)
    else:
        reasons += _excluding(kind, answers)
    return Eligibility(not reasons, tuple(reasons), indicated)
