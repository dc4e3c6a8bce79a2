"""REMU NUM periods and statuses (pure logic): Paris months as UTC bounds across the clock changes, the year's rate
as a sum of tallies, « strictly above » thresholds, periods typed by a person, the CSV cells."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lgo.errors import ValidationError
from lgo.indicators import BY_CODE, Period, Tally, csv_rows, parse_period, status_of, to_csv


def test_a_month_is_bounded_by_paris_midnights_in_utc() -> None:
    assert Period(2026, 1).bounds() == (datetime(2025, 12, 31, 23, tzinfo=UTC), datetime(2026, 1, 31, 23, tzinfo=UTC))
    # The clocks go forward on 29 March 2026 and back on 25 October 2026.
    assert Period(2026, 4).bounds() == (datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 4, 30, 22, tzinfo=UTC))
    assert Period(2026, 12).bounds()[1] == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert Period(2026, None).bounds() == (
        datetime(2025, 12, 31, 23, tzinfo=UTC),
        datetime(2026, 12, 31, 23, tzinfo=UTC),
    )
    assert Period(2026, 3).label_fr == "mars 2026" and Period(2026, None).label_fr == "2026"


def test_the_years_rate_sums_the_tallies_and_thresholds_are_read_as_written() -> None:
    months = [Tally(7, 10), Tally(0, 0), Tally(1, 10)]
    year = sum(months, Tally(0, 0))
    assert year == Tally(8, 20) and year.rate == 40.0  # not the mean of the monthly rates (70 % and 10 %)
    assert Tally(0, 0).rate is None
    rva = BY_CODE["vaccination_rva"]
    assert rva.threshold(2024) == 5.0 and rva.threshold(2026) == 25.0 and rva.threshold(2027) is None
    assert status_of(rva, 25.0, Tally(1, 4)) == ("missed", "non atteint")  # strictly above 25 %
    assert status_of(rva, 25.0, Tally(2, 7)) == ("reached", "atteint")
    socle = BY_CODE["ordonnance_numerique"]
    assert status_of(socle, 70.0, Tally(7, 10)) == ("reached", "atteint")  # at least 70 %
    assert status_of(socle, 70.0, Tally(0, 0)) == ("empty", "aucune donnée")
    assert status_of(rva, None, Tally(1, 2)) == ("no_threshold", "pas de seuil cette année")


@pytest.mark.parametrize("text", ["2026-13", "2026-0", "mars", "2026/03", "26-03-2026"])
def test_a_period_typed_wrong_is_refused_in_french(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_period(text)
    assert "AAAA ou AAAA-MM" in refused.value.message_fr


def test_periods_typed_right() -> None:
    assert parse_period("2026-03") == Period(2026, 3)
    assert parse_period("2025") == Period(2025, None)
    assert parse_period("", today=date(2026, 5, 2)) == Period(2026, None)


def test_the_csv_quotes_what_needs_it() -> None:
    data = to_csv([["a;b", 'dit "oui"', "é", None]])
    assert data == '"a;b";"dit ""oui""";é;\r\n'.encode()
    assert csv_rows([])[0][:3] == ["indicateur", "code", "periode"]
