"""The RNIV writing of identity traits (one transliteration, one comparison) and the COG birth-place rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lgo import traits
from lgo.errors import ValidationError

LATIN_1_AND_EXTENDED_A = [chr(c) for c in range(0xC0, 0x180) if chr(c).isalpha()]


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Noël", "NOEL"),
        ("Œdipe", "OEDIPE"),
        ("Ærøskøbing", "AEROSKOBING"),
        ("Straße", "STRASSE"),
        ("Łukasz", "LUKASZ"),
        ("Þórunn", "THORUNN"),
        ("d’Artagnan", "D'ARTAGNAN"),
        ("  Jean   Pierre ", "JEAN PIERRE"),
        ("Ĳsselmeer", "IJSSELMEER"),
    ],
)
def test_names_are_written_the_rniv_way(typed: str, written: str) -> None:
    assert traits.ins_name(typed) == written


@pytest.mark.parametrize(
    "typed", ["R2D2", "Jean\x00", "Jean\tPierre", "Ζωή", "µ", "×", "Jean😀", "-Jean", "", "A" * 101]
)
def test_what_has_no_transliteration_is_refused_in_french(typed: str) -> None:
    with pytest.raises(ValidationError, match="invalide"):
        traits.ins_name(typed, "Prénom")


def test_every_letter_of_latin_1_and_extended_a_has_a_transliteration() -> None:
    for letter in LATIN_1_AND_EXTENDED_A:
        written = traits.ins_name("A" + letter)
        assert written.isascii() and written.replace("'", "").isalpha(), (letter, written)


@given(st.text(alphabet=st.sampled_from([*LATIN_1_AND_EXTENDED_A, " ", "-", "'", "’"]), min_size=1, max_size=60))
def test_a_name_over_those_letters_is_either_refused_or_written_in_a_to_z(name: str) -> None:
    try:
        written = traits.ins_name(name)
    except ValidationError as exc:
        assert "invalide" in exc.message_fr
        return
    assert set(written) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ '-") and written == written.strip()
    assert traits.same_name(name, written)


def test_comparison_ignores_accents_case_and_spaces() -> None:
    assert traits.same_name("Hélène", "HELENE")
    assert traits.same_name("de  la Tour", "DE LA TOUR")
    assert not traits.same_name("Hélène", "HELENA")
    assert traits.first_name_in("Chloé", "MARIE CHLOE")
    assert not traits.first_name_in("Chloé", "MARIE CHLOEA")


@pytest.mark.parametrize("code", ["2A020", "2B020", "63220", "99109", "99999", "97411"])
def test_birth_places_of_corsica_overseas_and_abroad_are_accepted(code: str) -> None:
    assert traits.birth_place(code) == code


@pytest.mark.parametrize("code", ["12A34", "A2020", "2C020", "00123", "6322", "632200", "NICE1", " ", None, 63220])
def test_impossible_birth_places_are_refused_in_french(code: object) -> None:
    with pytest.raises(ValidationError, match="lieu de naissance invalide"):
        traits.birth_place(code)


def test_the_cda_gender_is_taken_from_jdv_j143() -> None:
    assert [traits.cda_gender(s) for s in ("M", "F", "I")] == ["M", "F", "UN"]


@pytest.mark.parametrize(
    ("birth", "ages"),
    [
        ("2016-12-02", (10, 10)),  # tenth birthday today
        ("2016-12-03", (9, 9)),  # tomorrow
        ("2016-12-00", (9, 10)),  # born in December 2016: 9 or 10
        ("2016-11-00", (10, 10)),
        ("2016-00-00", (9, 10)),
        ("1960-02-29", (66, 66)),
    ],
)
def test_a_partial_birth_date_gives_the_range_of_possible_ages(birth: str, ages: tuple[int, int]) -> None:
    from datetime import date

    from lgo.domain.patients import PartialDate

    assert PartialDate.parse(birth).ages_on(date(2026, 12, 2)) == ages
