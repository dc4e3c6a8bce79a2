"""Check digits, partial birth dates and passwords: pure logic."""

from __future__ import annotations

import pytest
from lgo.demo_data import CATALOGUE, FINESS, nir_with_key, with_luhn
from lgo.domain.patients import PartialDate
from lgo.domain.pharmacy import check_finess, check_rpps, hash_password, verify_password
from lgo.domain.products import check_cip13
from lgo.errors import ValidationError
from lgo.identifiers import ean13_check_digit


def test_cip13_check_digit() -> None:
    assert ean13_check_digit("400638133393") == 1  # a published EAN-13 example
    assert check_cip13("3400930000014") == "3400930000014"
    with pytest.raises(ValidationError, match="clé de contrôle incorrecte"):
        check_cip13("3400930000016")
    with pytest.raises(ValidationError, match="13 chiffres"):
        check_cip13("34009300000")
    with pytest.raises(ValidationError, match="3400"):
        check_cip13("4006381333931")  # a valid EAN-13, not a CIP
    for item in CATALOGUE:
        check_cip13(item.cip13)


def test_finess_and_rpps_luhn() -> None:
    assert check_finess(FINESS) == FINESS
    with pytest.raises(ValidationError, match="FINESS invalide"):
        check_finess(FINESS[:-1] + str((int(FINESS[-1]) + 1) % 10))
    rpps = with_luhn("9999900001")
    assert check_rpps(rpps) == rpps
    with pytest.raises(ValidationError, match="RPPS invalide"):
        check_rpps(rpps[:-1] + str((int(rpps[-1]) + 1) % 10))


def test_nir_key_counts_corsica_as_19_and_18() -> None:
    assert nir_with_key("1850399100123")[-2:] == f"{97 - 1850399100123 % 97:02d}"
    assert nir_with_key("185032A100123")[-2:] == f"{97 - 1850319100123 % 97:02d}"


@pytest.mark.parametrize(
    ("text", "display"),
    [
        ("1985-03-14", "14/03/1985"),
        ("1979-00-00", "??/??/1979"),
        ("1979-06-00", "??/06/1979"),
    ],
)
def test_partial_birth_dates(text: str, display: str) -> None:
    value = PartialDate.parse(text)
    assert str(value) == text and value.display_fr() == display


@pytest.mark.parametrize("text", ["1985-02-30", "1985-13-01", "1979-00-12", "14/03/1985", "1700-01-01"])
def test_invalid_birth_dates_are_refused_in_french(text: str) -> None:
    with pytest.raises(ValidationError, match="(Date|Mois|Année|jour) de naissance|Un jour de naissance"):
        PartialDate.parse(text)


def test_passwords_are_hashed_with_scrypt() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    with pytest.raises(ValidationError, match="au moins 8"):
        hash_password("court")
