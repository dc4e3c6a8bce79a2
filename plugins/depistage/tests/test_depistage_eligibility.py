"""The protocol's rules at their boundaries: age 9/10 for angine (3 with an ordonnance conditionnelle of at most 7
days), 15/16 and 65/66 for cystite, 39.5 °C, the 15-day window, the McIsaac score; women only for cystite; an
incomplete birth date that straddles a boundary; the antibiotics and their posology."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from lgo.domain.patients import PartialDate
from lgo.errors import ValidationError
from lgo_depistage import antibiotics, protocols

TODAY = date(2026, 12, 2)
ANGINE = protocols.clean_answers(
    "angine",
    {
        "temperature": "38,6",
        "grossesse": "non",
        "immunodepression": "non",
        "antibiotique_en_cours": "non",
        "signes_complication": "non",
        "retour_pays_tropical": "non",
        "troubles_digestifs": "non",
        "toux_absente": "oui",
        "adenopathies": "oui",
        "amygdales": "non",
        "allergie_penicilline": "non",
        "contre_indication_cephalosporines": "non",
    },
)
CYSTITE = protocols.clean_answers(
    "cystite",
    {
        "temperature": "37",
        "frissons": "non",
        "douleur_lombaire": "non",
        "grossesse": "non",
        "immunodepression": "non",
        "anomalie_urinaire": "non",
        "recidive": "non",
        "signes_gravite": "non",
    },
)


def _born(years: int, days_after: int = 0) -> PartialDate:
    """Born ``years`` years before TODAY, plus ``days_after`` days (so one day short of the birthday)."""
    return PartialDate.of(date(TODAY.year - years, TODAY.month, TODAY.day) + timedelta(days=days_after))


def _angine(birth: PartialDate, answers: dict[str, Any] = ANGINE, **options: Any) -> protocols.Eligibility:
    return protocols.assess("angine", sex="M", birth=birth, on=TODAY, answers=answers, **options)


def _cystite(birth: PartialDate, sex: str = "F", answers: dict[str, Any] = CYSTITE) -> protocols.Eligibility:
    return protocols.assess("cystite", sex=sex, birth=birth, on=TODAY, answers=answers)


@pytest.mark.parametrize(
    ("birth", "eligible"), [(_born(10), True), (_born(10, days_after=1), False), (_born(9), False)]
)
def test_angine_from_10_years_old(birth: PartialDate, eligible: bool) -> None:
    result = _angine(birth)
    assert result.eligible is eligible
    if not eligible:
        assert result.reasons_fr == ("âge inférieur à 10 ans (9 ans) : hors du protocole angine",)


@pytest.mark.parametrize(
    ("birth", "prescribed_days_ago", "eligible"),
    [(_born(3), 0, True), (_born(3, days_after=1), 0, False), (_born(5), 7, True), (_born(5), 8, False)],
)
def test_angine_with_an_ordonnance_conditionnelle_from_3_years_old_and_within_7_days(
    birth: PartialDate, prescribed_days_ago: int, eligible: bool
) -> None:
    on = TODAY - timedelta(days=prescribed_days_ago)
    assert _angine(birth, conditional_prescription_on=on).eligible is eligible


@pytest.mark.parametrize(("temperature", "eligible"), [("39,5", True), ("39.6", False), ("39,51", False)])
def test_angine_up_to_39_5_degrees(temperature: str, eligible: bool) -> None:
    answers = protocols.clean_answers("angine", ANGINE | {"temperature": temperature})
    result = _angine(_born(30), answers)
    assert result.eligible is eligible
    if not eligible:
        assert "(plus de 39,5 °C)" in result.reasons_fr[0]


@pytest.mark.parametrize(("days_ago", "eligible"), [(0, False), (15, False), (16, True), (60, True)])
def test_angine_after_a_similar_episode_outside_the_15_day_window(days_ago: int, eligible: bool) -> None:
    answers = ANGINE | {"episode_precedent": (TODAY - timedelta(days=days_ago)).isoformat()}
    result = _angine(_born(30), answers)
    assert result.eligible is eligible
    if not eligible:
        assert result.reasons_fr == (f"épisode semblable il y a {days_ago} jour(s) (moins de 15 jours)",)


def test_an_episode_after_the_test_is_refused() -> None:
    with pytest.raises(ValidationError, match="ne peut pas être après le jour du test"):
        _angine(_born(30), ANGINE | {"episode_precedent": (TODAY + timedelta(days=1)).isoformat()})


def test_the_mcisaac_score_below_2_from_15_years_old_says_the_test_is_not_indicated() -> None:
    low = ANGINE | {"toux_absente": False, "adenopathies": False, "temperature": 38.6}
    adult = _angine(_born(30), low)
    assert not adult.eligible and not adult.test_indicated
    # Under 15 the score is not used; at 45 and over it loses a point.
    assert _angine(_born(12), low).eligible
    two = ANGINE | {"adenopathies": False}  # fever and no cough
    assert not _angine(_born(45), two).test_indicated
    assert _angine(_born(44), two).eligible


@pytest.mark.parametrize(
    ("birth", "eligible"),
    [
        (_born(15), False),
        (_born(16, days_after=1), False),
        (_born(16), True),
        (_born(65), True),
        (_born(66, days_after=1), True),
        (_born(66), False),
    ],
)
def test_cystite_from_16_to_65_years_old(birth: PartialDate, eligible: bool) -> None:
    assert _cystite(birth).eligible is eligible


@pytest.mark.parametrize("sex", ["M", "I"])
def test_cystite_concerns_women(sex: str) -> None:
    assert _cystite(_born(30), sex=sex).reasons_fr == ("le protocole cystite concerne les femmes",)


@pytest.mark.parametrize(("temperature", "eligible"), [("37,9", True), ("38", False)])
def test_cystite_with_fever_is_not_simple(temperature: str, eligible: bool) -> None:
    answers = protocols.clean_answers("cystite", CYSTITE | {"temperature": temperature})
    assert _cystite(_born(30), answers=answers).eligible is eligible


def test_each_exclusion_criterion_is_a_reason() -> None:
    answers = CYSTITE | {"grossesse": True, "douleur_lombaire": True}
    assert _cystite(_born(30), answers=answers).reasons_fr == (
        "douleur lombaire ou du flanc",
        "grossesse en cours ou possible",
    )


def test_an_incomplete_birth_date_across_a_boundary_asks_for_the_date() -> None:
    # Born in 1960, month unknown: 66 years old today, or 65 if born after 2 December.
    (reason,) = _cystite(PartialDate(1960)).reasons_fr
    assert reason.startswith("âge incertain (65 ou 66 ans")
    assert _cystite(PartialDate(1980)).eligible


def test_answers_are_checked_in_french() -> None:
    with pytest.raises(ValidationError, match="Question inconnue pour ce TROD : couleur"):
        protocols.clean_answers("covid", {"signes_gravite": "non", "couleur": "bleu"})
    with pytest.raises(ValidationError, match="entre 34 et 43"):
        protocols.clean_answers("angine", ANGINE | {"temperature": "45"})
    with pytest.raises(ValidationError, match="JJ/MM/AAAA"):
        protocols.clean_answers("angine", ANGINE | {"episode_precedent": "hier"})
    assert protocols.clean_answers("angine", ANGINE | {"episode_precedent": "01/12/2026"})["episode_precedent"] == (
        "2026-12-01"
    )


@pytest.mark.parametrize(
    ("allergy", "contraindication", "age", "expected"),
    [
        (False, False, 30, ["amoxicilline"]),
        (True, False, 30, ["cefpodoxime", "cefuroxime"]),
        (True, False, 12, ["cefpodoxime"]),
        (True, True, 30, ["azithromycine", "clarithromycine"]),
    ],
)
def test_the_protocol_s_antibiotics_for_an_angine(
    allergy: bool, contraindication: bool, age: int, expected: list[str]
) -> None:
    answers = ANGINE | {"allergie_penicilline": allergy, "contre_indication_cephalosporines": contraindication}
    assert [a.code for a in antibiotics.options("angine", answers, age)] == expected


@pytest.mark.parametrize(
    ("code", "age", "weight", "text"),
    [
        ("amoxicilline", 30, None, "1 g matin et soir pendant 6 jours"),
        ("amoxicilline", 11, 30.0, "750 mg matin et soir pendant 6 jours"),
        ("amoxicilline", 11, 45.0, "1 g matin et soir pendant 6 jours"),
        ("amoxicilline", 14, 39.0, "975 mg matin et soir pendant 6 jours"),
        ("cefpodoxime", 30, None, "100 mg matin et soir pendant 5 jours"),
        ("cefuroxime", 30, None, "250 mg matin et soir pendant 4 jours"),
        ("azithromycine", 30, None, "500 mg une fois par jour pendant 3 jours"),
        ("azithromycine", 12, 20.0, "400 mg une fois par jour pendant 3 jours"),
        ("clarithromycine", 30, None, "250 mg matin et soir pendant 5 jours"),
        ("fosfomycine", 40, None, "3 g en une prise unique"),
        ("pivmecillinam", 40, None, "400 mg matin et soir pendant 3 jours"),
    ],
)
def test_posology_and_duration(code: str, age: int, weight: float | None, text: str) -> None:
    assert antibiotics.antibiotic(code).posology(age, weight).text_fr == text


def test_a_child_s_posology_needs_the_weight() -> None:
    with pytest.raises(ValidationError, match="Le poids de l'enfant est nécessaire"):
        antibiotics.antibiotic("amoxicilline").posology(12, None)
