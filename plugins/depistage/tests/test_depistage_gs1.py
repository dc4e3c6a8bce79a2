"""The test device's GS1 DataMatrix as a scanner types it (symbology identifier, group separators) or as printed
(parentheses): GTIN, expiry, lot, serial; everything else refused in French, whatever the input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lgo.errors import ValidationError
from lgo_depistage import gs1
from stdnum import ean

TODAY = date(2026, 12, 2)
GS = "\x1d"


@pytest.mark.parametrize(
    "scanned",
    [
        "]d2010361234567890417271231" + "10B987654",
        "0103612345678904" + "10B987654" + GS + "17271231",
        "0103612345678904" + "10B987654<GS>17271231",
        "(01)03612345678904(17)271231(10)B987654",
        "  ]C10103612345678904172712311 0B987654".replace("1 0", "10") + "  ",
    ],
)
def test_a_udi_is_read_in_every_form_a_scanner_or_a_label_gives(scanned: str) -> None:
    udi = gs1.parse(scanned, today=TODAY)
    assert (udi.gtin, udi.expiry, udi.lot, udi.serial) == ("03612345678904", date(2027, 12, 31), "B987654", "")
    assert udi.hri == "(01)03612345678904(17)271231(10)B987654"


def test_serial_production_date_and_a_day_00_expiry() -> None:
    udi = gs1.parse("]d20105012345678900" + "11260115" + "17280200" + "21SN-42" + GS + "10L1", today=TODAY)
    assert (udi.production, udi.expiry, udi.serial, udi.lot) == (date(2026, 1, 15), date(2028, 2, 29), "SN-42", "L1")
    assert udi.hri == "(01)05012345678900(11)260115(17)280229(10)L1(21)SN-42"


def test_the_century_slides_around_today() -> None:
    assert gs1.parse("(01)05012345678900(17)751231", today=TODAY).expiry == date(2075, 12, 31)
    assert gs1.parse("(01)05012345678900(17)771231", today=TODAY).expiry == date(1977, 12, 31)


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        ("", "vide"),
        ("10B987654", "sans GTIN"),
        ("0103612345678903", "clé de contrôle"),
        ("01036123456789", "trop court"),
        ("(01)03612345678904(17)271331", "mois 13"),
        ("(01)03612345678904(17)270230", "ce jour n'existe pas"),
        ("(01)03612345678904(10)lot avec espace", "caractère interdit"),
        ("(01)03612345678904(10)" + "L" * 21, "longueur impossible"),
        ("0103612345678904" + "10A" + GS + "10B", "apparaît deux fois"),
        ("0103612345678904" + "5512", "non reconnu"),
        ("(01)03612345678904)(10)X", "parenthèses"),
        ("0" * 300, "trop long"),
    ],
)
def test_bad_scans_are_refused_in_french(scanned: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        gs1.parse(scanned, today=TODAY)


LOTS = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./_"),
    min_size=1,
    max_size=20,
)


@st.composite
def udis(draw: st.DrawFn) -> gs1.Udi:
    body = draw(st.text(alphabet="0123456789", min_size=13, max_size=13))
    return gs1.Udi(
        gtin=body + ean.calc_check_digit(body),
        expiry=draw(st.none() | st.dates(min_value=date(1977, 1, 1), max_value=date(2076, 12, 31))),
        lot=draw(st.just("") | LOTS),
        serial=draw(st.just("") | LOTS),
        production=draw(st.none() | st.dates(min_value=date(1977, 1, 1), max_value=date(2076, 12, 31))),
    )


@given(udis())
@settings(max_examples=300)
def test_what_is_printed_reads_back_and_what_is_scanned_too(udi: gs1.Udi) -> None:
    assert gs1.parse(udi.hri, today=TODAY) == udi
    raw = f"]d201{udi.gtin}"
    raw += f"11{udi.production:%y%m%d}" if udi.production else ""
    raw += f"17{udi.expiry:%y%m%d}" if udi.expiry else ""
    raw += f"10{udi.lot}{GS}" if udi.lot else ""
    raw += f"21{udi.serial}" if udi.serial else ""
    assert gs1.parse(raw, today=TODAY) == udi


@given(st.text(max_size=80) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
@settings(max_examples=2000)
def test_any_input_is_read_or_refused_in_french(scanned: str) -> None:
    try:
        gs1.parse(scanned, today=TODAY)
    except ValidationError as exc:
        assert exc.message_fr.startswith(("Code GS1", "Code GTIN", "Date GS1"))


def test_a_typed_udi_gets_the_same_checks() -> None:
    udi = gs1.typed("5012345678900", expiry=date(2027, 6, 30), lot="L(1)")
    assert udi.gtin == "05012345678900" and udi.hri == "(01)05012345678900(17)270630(10)L(1)"
    with pytest.raises(ValidationError, match="caractère interdit dans le champ \\(10\\)"):
        gs1.typed("05012345678900", lot="lot n°1")
    with pytest.raises(ValidationError, match="clé de contrôle"):
        gs1.typed("05012345678901")
