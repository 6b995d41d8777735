from datetime import date

import pytest

from bot.domain.dates import MIN_INCIDENT_YEARS, IncidentDateError, parse_incident_date

TODAY = date(2024, 5, 21)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21/5/2024", date(2024, 5, 21)),
        ("21-05-2024", date(2024, 5, 21)),
        ("21.05.2024", date(2024, 5, 21)),
        ("1/2/2024", date(2024, 2, 1)),  # day first, as written in Indonesia
        ("21/5/24", date(2024, 5, 21)),
        ("2024-05-21", date(2024, 5, 21)),
        ("21 Mei 2024", date(2024, 5, 21)),
        ("21 May 2024", date(2024, 5, 21)),
        ("  21   MEI   2024 ", date(2024, 5, 21)),
        ("Selasa, 21 Mei 2024", date(2024, 5, 21)),
        ("May 21, 2024", date(2024, 5, 21)),
        ("hari ini", TODAY),
        ("Hari Ini", TODAY),
        ("today", TODAY),
        ("kemarin", date(2024, 5, 20)),
        ("YESTERDAY", date(2024, 5, 20)),
        ("kemarin lusa", date(2024, 5, 19)),
        (" kemarin   lusa ", date(2024, 5, 19)),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_incident_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("names", "month"),
    [
        (("Januari", "January", "Jan"), 1),
        (("Februari", "February", "Feb"), 2),
        (("Maret", "March", "Mar"), 3),
        (("April", "Apr"), 4),
        (("Mei", "May"), 5),
        (("Juni", "June", "Jun"), 6),
        (("Juli", "July", "Jul"), 7),
        (("Agustus", "August", "Agu", "Agt", "Aug"), 8),
        (("September", "Sep", "Sept"), 9),
        (("Oktober", "October", "Okt", "Oct"), 10),
        (("November", "Nov"), 11),
        (("Desember", "December", "Des", "Dec"), 12),
    ],
)
def test_month_names_and_abbreviations(names, month):
    for name in names:
        for text in (f"3 {name} 2023", f"3 {name.lower()} 2023", f"3 {name}. 2023"):
            assert parse_incident_date(text, TODAY) == date(2023, month, 3), text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "format"),
        ("besok", "format"),
        ("sometime last week", "format"),
        ("21 Foo 2024", "format"),
        ("21/5", "format"),
        ("21/05-2024", "format"),
        ("31/2/2024", "invalid"),
        ("30 Februari 2024", "invalid"),
        ("0/5/2024", "invalid"),
        ("12/13/2024", "invalid"),
        ("22/5/2024", "future"),
        ("1 Jan 2025", "future"),
        ("20/5/2014", "too_old"),
        ("1/1/1990", "too_old"),
    ],
)
def test_errors_carry_a_reason(text, reason):
    with pytest.raises(IncidentDateError) as info:
        parse_incident_date(text, TODAY)
    assert info.value.reason == reason


def test_oldest_allowed_is_exactly_ten_years():
    assert MIN_INCIDENT_YEARS == 10
    assert parse_incident_date("21/5/2014", TODAY) == date(2014, 5, 21)
    # Today being 29 February: ten years back falls back to 28 February.
    leap = date(2024, 2, 29)
    assert parse_incident_date("28/2/2014", leap) == date(2014, 2, 28)
    with pytest.raises(IncidentDateError):
        parse_incident_date("27/2/2014", leap)
