"""The GS1 DataMatrix of a medicine box: round trips over generated boxes, every scanner form, and French errors
for anything else (never another exception)."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo import gs1
from lgo.errors import ValidationError
from lgo.identifiers import ean13_check_digit

CSET82 = "!\"%&'*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@st.composite
def cip13s(draw: st.DrawFn) -> str:
    first12 = "34009" + draw(st.text("0123456789", min_size=7, max_size=7))
    return first12 + str(ean13_check_digit(first12))


field_text = st.text(CSET82, min_size=1, max_size=20)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=400, deadline=None)
@given(cip13=cip13s(), expiry=st.none() | expiries, lot=st.none() | field_text, serial=st.none() | field_text)
def test_every_box_reads_back_in_every_scanner_form(
    cip13: str, expiry: date | None, lot: str | None, serial: str | None
) -> None:
    raw = gs1.element_string(cip13, expiry=expiry, lot=lot, serial=serial)
    human = f"(01)0{cip13}" + (f"(17){expiry:%y%m%d}" if expiry else "") + (f"(10){lot}" if lot else "")
    human += f"(21){serial}" if serial else ""
    for form in (raw, "]d2" + raw, raw + "\r\n", human):
        scan = gs1.parse(form)
        assert (scan.cip13, scan.expiry, scan.lot, scan.serial) == (cip13, expiry, lot, serial)
        assert gs1.looks_like_gs1(form) or (expiry is None and lot is None and serial is None)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=80) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_anything_else_is_refused_in_french_and_never_crashes(text: str) -> None:
    try:
        scan = gs1.parse(text)
    except ValidationError as exc:
        assert exc.message_fr and "Traceback" not in exc.message_fr
        return
    assert scan.gtin.isdigit()


@settings(max_examples=300, deadline=None)
@given(cip13=cip13s(), lot=field_text, cut=st.integers(min_value=1, max_value=30), noise=st.text(max_size=4))
def test_mutated_scans_are_read_or_refused_never_misread_as_another_box(
    cip13: str, lot: str, cut: int, noise: str
) -> None:
    raw = gs1.element_string(cip13, expiry=date(2030, 5, 31), lot=lot, serial="SN1")
    mutated = raw[:cut] + noise + raw[cut:]
    try:
        scan = gs1.parse(mutated)
    except ValidationError:
        return
    assert scan.gtin.isdigit() and len(scan.gtin) == 14  # a check digit still holds


def test_the_day_00_is_the_last_day_of_the_month_and_impossible_dates_are_refused() -> None:
    cip13 = "3400930000120"
    assert gs1.parse(f"010{cip13}17280200").expiry == date(2028, 2, calendar.monthrange(2028, 2)[1])
    with pytest.raises(ValidationError, match="mois 13"):
        gs1.parse(f"010{cip13}17281301")
    with pytest.raises(ValidationError, match="jour 31"):
        gs1.parse(f"010{cip13}17280431")


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        ("", "vide"),
        ("DUPONT", "illisible"),
        ("0103400930000121", "clé de contrôle"),
        ("010340093000012", "GTIN incomplet"),
        ("10LOT1\x1d21SN", "sans GTIN"),
        ("0103400930000120" + "10" + "L" * 21, "séparateur GS manque"),
        ("010340093000012099XYZ", "inconnu « 99XY »"),
        ("0103400930000120\x1d0103400930000120", "deux fois"),
        ("0103400930000120" + "10LOT é", "caractère non permis"),
    ],
)
def test_bad_scans_get_a_french_message(scanned: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        gs1.parse(scanned)


def test_a_cip13_and_a_name_are_not_taken_for_a_datamatrix() -> None:
    assert not gs1.looks_like_gs1("3400930000120")
    assert not gs1.looks_like_gs1("DUPONT JEAN")
    assert gs1.parse("0103400930000120").cip13 == "3400930000120"
    assert gs1.parse("0105012345678900").cip13 is None  # a GTIN that is not a French medicine
