"""The GS1 DataMatrix of a medicine box or a device (a TROD's UDI): round trips over generated boxes, every scanner
form, the sliding century, and French errors for anything else (never another exception)."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo import gs1
from lgo.errors import ValidationError
from lgo.identifiers import ean13_check_digit
from stdnum import ean

TODAY = date(2026, 12, 2)
GS = "\x1d"
CSET82 = "!\"%&'*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@st.composite
def cip13s(draw: st.DrawFn) -> str:
    first12 = "34009" + draw(st.text("0123456789", min_size=7, max_size=7))
    return first12 + str(ean13_check_digit(first12))


#: « <GS> » is how some scanners type the separator out: no label prints it inside a lot.
field_text = st.text(CSET82, min_size=1, max_size=20).filter(lambda text: "<GS>" not in text)
#: The century slides around today: 49 years back, 50 ahead.
expiries = st.dates(min_value=date(1977, 1, 1), max_value=date(2076, 12, 31))


@settings(max_examples=400, deadline=None)
@given(cip13=cip13s(), expiry=st.none() | expiries, lot=st.none() | field_text, serial=st.none() | field_text)
def test_every_box_reads_back_in_every_scanner_form(
    cip13: str, expiry: date | None, lot: str | None, serial: str | None
) -> None:
    raw = gs1.element_string(cip13, expiry=expiry, lot=lot, serial=serial)
    human = f"(01)0{cip13}" + (f"(17){expiry:%y%m%d}" if expiry else "") + (f"(10){lot}" if lot else "")
    human += f"(21){serial}" if serial else ""
    for form in (raw, "]d2" + raw, raw + "\r\n", human):
        scan = gs1.parse(form, today=TODAY)
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
        ("01034009300001205512XYZ", "inconnu « 5512 »"),
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


@pytest.mark.parametrize(
    "scanned",
    [
        "]d2010361234567890417271231" + "10B987654",
        "0103612345678904" + "10B987654" + GS + "17271231",
        "0103612345678904" + "10B987654<GS>17271231",
        "(01)03612345678904(17)271231(10)B987654",
        "  ]C1010361234567890417271231" + "10B987654  ",
    ],
)
def test_a_device_udi_is_read_in_every_form_a_scanner_or_a_label_gives(scanned: str) -> None:
    udi = gs1.parse(scanned, today=TODAY)
    assert (udi.gtin, udi.expiry, udi.lot, udi.serial) == ("03612345678904", date(2027, 12, 31), "B987654", None)
    assert udi.hri == "(01)03612345678904(17)271231(10)B987654"


def test_serial_production_date_and_a_day_00_expiry_in_the_printed_order() -> None:
    udi = gs1.parse("]d20105012345678900" + "11260115" + "17280200" + "21SN-42" + GS + "10L1", today=TODAY)
    assert (udi.production, udi.expiry, udi.serial, udi.lot) == (date(2026, 1, 15), date(2028, 2, 29), "SN-42", "L1")
    assert udi.hri == "(01)05012345678900(11)260115(17)280229(10)L1(21)SN-42"


def test_the_century_slides_around_today() -> None:
    assert gs1.parse("(01)05012345678900(17)751231", today=TODAY).expiry == date(2075, 12, 31)
    assert gs1.parse("(01)05012345678900(17)771231", today=TODAY).expiry == date(1977, 12, 31)


@st.composite
def udis(draw: st.DrawFn) -> gs1.BoxScan:
    body = draw(st.text(alphabet="0123456789", min_size=13, max_size=13))
    return gs1.BoxScan(
        gtin=body + ean.calc_check_digit(body),
        expiry=draw(st.none() | expiries),
        lot=draw(st.none() | field_text),
        serial=draw(st.none() | field_text),
        production=draw(st.none() | expiries),
    )


def _fields(scan: gs1.BoxScan) -> tuple[object, ...]:
    return scan.gtin, scan.expiry, scan.lot, scan.serial, scan.production


@settings(max_examples=300, deadline=None)
@given(udis())
def test_what_is_printed_reads_back_and_what_is_scanned_too(udi: gs1.BoxScan) -> None:
    assert _fields(gs1.parse(udi.hri, today=TODAY)) == _fields(udi)
    raw = f"]d201{udi.gtin}"
    raw += f"11{udi.production:%y%m%d}" if udi.production else ""
    raw += f"17{udi.expiry:%y%m%d}" if udi.expiry else ""
    raw += f"10{udi.lot}{GS}" if udi.lot else ""
    raw += f"21{udi.serial}" if udi.serial else ""
    assert _fields(gs1.parse(raw, today=TODAY)) == _fields(udi)


def test_a_typed_udi_gets_the_same_checks() -> None:
    udi = gs1.typed("5012345678900", expiry=date(2027, 6, 30), lot="L(1)")
    assert udi.gtin == "05012345678900" and udi.hri == "(01)05012345678900(17)270630(10)L(1)"
    with pytest.raises(ValidationError, match="Caractère non permis dans le lot"):
        gs1.typed("05012345678900", lot="lot n°1")
    with pytest.raises(ValidationError, match="au plus 20"):
        gs1.typed("05012345678900", serial="S" * 21)
    with pytest.raises(ValidationError, match="clé de contrôle"):
        gs1.typed("05012345678901")


def test_a_scanned_box_gives_its_cip13_and_anything_else_is_left_to_the_caller() -> None:
    assert gs1.scanned_cip13(" ]d20103400930000120\r\n") == "3400930000120"
    assert gs1.scanned_cip13("3400930000120") is None and gs1.scanned_cip13("amoxicilline") is None
    with pytest.raises(ValidationError, match="pas un médicament à CIP13 français"):
        gs1.scanned_cip13("(01)05012345678900(10)L1")
