"""ISO 8601 durations as robots and deadlines write them."""

from datetime import timedelta

import pytest

from okno.core.durations import format_iso_duration, parse_iso_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("PT30M", timedelta(minutes=30)),
    ("P1D", timedelta(days=1)),
    ("PT1H30M", timedelta(hours=1, minutes=30)),
    ("P1DT2H", timedelta(days=1, hours=2)),
    ("P2W", timedelta(weeks=2)),
    ("PT45S", timedelta(seconds=45)),
    ("PT0.5H", timedelta(minutes=30)),
    (" pt30m ", timedelta(minutes=30)),
])
def test_parses_fixed_length_durations(text, expected):
    assert parse_iso_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "30m", "P", "PT", "P1DT", "-PT1M", "PT1M30H", "", "1 hour", None, 30])
def test_refuses_what_is_not_an_iso_duration(text):
    with pytest.raises(ValueError, match="must be an ISO 8601 duration such as PT30M or P1D"):
        parse_iso_duration(text)


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D"])
def test_refuses_months_and_years_with_the_reason(text):
    with pytest.raises(ValueError, match="months and years have no fixed length"):
        parse_iso_duration(text)


@pytest.mark.parametrize(("td", "text"), [
    (timedelta(minutes=30), "PT30M"),
    (timedelta(days=1), "P1D"),
    (timedelta(days=1, hours=2), "P1DT2H"),
    (timedelta(hours=1, minutes=30, seconds=5), "PT1H30M5S"),
    (timedelta(0), "PT0S"),
])
def test_formats_and_reads_back(td, text):
    # when
    formatted = format_iso_duration(td)
    # then
    assert formatted == text and parse_iso_duration(formatted) == td
