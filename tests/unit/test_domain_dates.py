from datetime import date

import pytest

from bot.domain.dates import MIN_INCIDENT_YEARS, IncidentDateError, parse_incident_date

TODAY = date(2024, 5, 21)  # a Tuesday


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
        ("besok", "future"),
        ("tomorrow", "future"),
        ("lusa", "future"),
        ("bulan lalu", "format"),  # a month is too vague to guess a day from
        ("nanti sore", "format"),
        ("sometime last week", "format"),
        ("21 Foo 2024", "format"),
        ("21/13", "invalid"),
        ("30 Februari", "invalid"),
        ("11 tahun lalu", "too_old"),
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


# The way people answer "when did it happen?" in a chat (issue 14): relative days, a time of day
# after the date, a day name, a date without its year.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # time of day after a day: the day is kept
        ("kemarin sore", date(2024, 5, 20)),
        ("Kemarin malam", date(2024, 5, 20)),
        ("kemarin pagi.", date(2024, 5, 20)),
        ("kemarin sore jam 5", date(2024, 5, 20)),
        ("kemarin, pukul 14.30 WITA", date(2024, 5, 20)),
        ("tadi pagi", TODAY),
        ("pagi tadi", TODAY),
        ("hari ini sekitar jam 9", TODAY),
        ("semalam", date(2024, 5, 20)),
        ("tadi malam", date(2024, 5, 20)),
        ("21 Mei 2024 pukul 08.00", date(2024, 5, 21)),
        ("yesterday evening", date(2024, 5, 20)),
        ("yesterday at 5 pm", date(2024, 5, 20)),
        ("this morning", TODAY),
        ("last night", date(2024, 5, 20)),
        # a date without its year: this year's, or last year's if this year's is still to come
        ("21 Mei", date(2024, 5, 21)),
        ("20 mei", date(2024, 5, 20)),
        ("22 Mei", date(2023, 5, 22)),
        ("1 Des", date(2023, 12, 1)),
        ("tanggal 3 Januari", date(2024, 1, 3)),
        ("Senin, 20 Mei", date(2024, 5, 20)),
        ("21/5", date(2024, 5, 21)),
        ("1-12", date(2023, 12, 1)),
        ("May 20", date(2024, 5, 20)),
        ("20th May", date(2024, 5, 20)),
        ("the 3rd of January", None),  # "the" is not a date word: refused, see below
        # day names: "lalu"/"kemarin"/"last" is the one before today; alone, the latest one
        ("Senin lalu", date(2024, 5, 20)),
        ("senin kemarin", date(2024, 5, 20)),
        ("Selasa lalu", date(2024, 5, 14)),
        ("Selasa", TODAY),
        ("Jumat lalu", date(2024, 5, 17)),
        ("jum'at", date(2024, 5, 17)),
        ("hari Minggu lalu", date(2024, 5, 19)),
        ("Ahad lalu", date(2024, 5, 19)),
        ("Rabu yang lalu", date(2024, 5, 15)),
        ("last Monday", date(2024, 5, 20)),
        ("on Friday", date(2024, 5, 17)),
        ("Sabtu sore", date(2024, 5, 18)),
        # so many days, weeks, months ago
        ("3 hari lalu", date(2024, 5, 18)),
        ("3 hari yang lalu", date(2024, 5, 18)),
        ("tiga hari lalu", date(2024, 5, 18)),
        ("sehari lalu", date(2024, 5, 20)),
        ("2 minggu lalu", date(2024, 5, 7)),
        ("dua minggu yang lalu", date(2024, 5, 7)),
        ("seminggu lalu", date(2024, 5, 14)),
        ("minggu lalu", date(2024, 5, 14)),  # "last week": the unit, not Sunday
        ("sepekan lalu", date(2024, 5, 14)),
        ("2 bulan lalu", date(2024, 3, 21)),
        ("setahun lalu", date(2023, 5, 21)),
        ("3 days ago", date(2024, 5, 18)),
        ("a week ago", date(2024, 5, 14)),
        ("two weeks ago", date(2024, 5, 7)),
        ("last week", date(2024, 5, 14)),
        ("1 month ago", date(2024, 4, 21)),
    ],
)
def test_spoken_forms(text, expected):
    if expected is None:
        with pytest.raises(IncidentDateError):
            parse_incident_date(text, TODAY)
        return
    assert parse_incident_date(text, TODAY) == expected


def test_a_day_name_on_that_very_day():
    monday = date(2024, 5, 20)
    assert parse_incident_date("Senin", monday) == monday
    assert parse_incident_date("Senin lalu", monday) == date(2024, 5, 13)


def test_leap_day_without_a_year_is_the_latest_one():
    assert parse_incident_date("29 Feb", date(2025, 3, 1)) == date(2024, 2, 29)
    assert parse_incident_date("29 Februari", date(2024, 3, 1)) == date(2024, 2, 29)
    with pytest.raises(IncidentDateError) as info:
        parse_incident_date("29 Feb", date(2026, 3, 1))  # neither 2026 nor 2025 had one
    assert info.value.reason == "invalid"


def test_months_back_land_on_the_last_day_of_a_shorter_month():
    assert parse_incident_date("1 bulan lalu", date(2024, 3, 31)) == date(2024, 2, 29)
    assert parse_incident_date("3 bulan lalu", date(2024, 1, 15)) == date(2023, 10, 15)
