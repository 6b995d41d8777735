"""Incident dates as citizens type them, in Indonesian or English.

Besides written dates ("21/5/2024", "21 Mei 2024", "Selasa, 21 Mei 2024") people answer "when
did it happen?" the way they would say it: "kemarin sore", "21 Mei" (no year), "Senin lalu",
"3 hari lalu", "2 minggu yang lalu", "yesterday evening", "last Monday", "a week ago". A time of
day or a clock time after the date ("kemarin sore", "21 Mei pukul 14.00") is read and dropped:
the report keeps the day only.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

MIN_INCIDENT_YEARS = 10

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("januari", "january", "jan"),
        ("februari", "pebruari", "february", "feb", "peb"),
        ("maret", "march", "mar"),
        ("april", "apr"),
        ("mei", "may"),
        ("juni", "june", "jun"),
        ("juli", "july", "jul"),
        ("agustus", "august", "agu", "agt", "ags", "aug"),
        ("september", "sep", "sept"),
        ("oktober", "october", "okt", "oct"),
        ("november", "nopember", "nov", "nop"),
        ("desember", "december", "des", "dec"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number

_WEEKDAY_NUMBERS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("senin", "monday", "mon"),
        ("selasa", "tuesday", "tue", "tues"),
        ("rabu", "wednesday", "wed"),
        ("kamis", "thursday", "thu", "thur", "thurs"),
        ("jumat", "jum'at", "friday", "fri"),
        ("sabtu", "saturday", "sat"),
        ("minggu", "ahad", "sunday", "sun"),
    )
):
    for _name in _names:
        _WEEKDAY_NUMBERS[_name] = _number

_RELATIVE = {
    "hari ini": 0,
    "today": 0,
    "kemarin": 1,
    "yesterday": 1,
    "kemarin lusa": 2,
    # A time of day that already says which day.
    "tadi": 0,
    "pagi ini": 0,
    "siang ini": 0,
    "sore ini": 0,
    "pagi tadi": 0,
    "siang tadi": 0,
    "sore tadi": 0,
    "malam ini": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "semalam": 1,
    "tadi malam": 1,
    "last night": 1,
    "last week": 7,
}
_FUTURE = {"besok", "besok lusa", "lusa", "tomorrow", "day after tomorrow", "the day after tomorrow"}

_NUMBER_WORDS = {
    "se": 1, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
    "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11,
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
}
# Days per unit; months and years are counted on the calendar instead.
_UNITS = {
    "hari": "day", "day": "day", "days": "day",
    "minggu": "week", "pekan": "week", "week": "week", "weeks": "week",
    "bulan": "month", "month": "month", "months": "month",
    "tahun": "year", "year": "year", "years": "year",
}

_WEEKDAYS = "|".join(sorted(map(re.escape, _WEEKDAY_NUMBERS), key=len, reverse=True))
_NUMBER = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_AGO = r"(?:yang\s+)?(?:lalu|lewat|silam|kemarin)|ago"
_TIME_OF_DAY = r"(?:pagi|siang|sore|petang|malam|subuh|dini\s+hari|morning|afternoon|evening|night|noon)"
_HOUR = r"\d{1,2}(?:[.:]\d{2})?\s*(?:wib|wita|wit|am|pm)?"

# "Selasa, 21 Mei 2024": a leading day name carries no information we need.
_WEEKDAY_PREFIX = re.compile(rf"^(?:hari\s+)?(?:{_WEEKDAYS})\b[,\s]*(?=\S)")
_LEADING_WORDS = re.compile(r"^(?:(?:pada|tanggal|tgl\.?|on)\s+)+")
# "kemarin sore", "21 Mei, pukul 14.00", "yesterday at 5 pm": the day is what we keep.
_TRAILING_TIME = re.compile(
    rf"(?:[,\s]+(?:(?:pada|in\s+the|at)\s+)?{_TIME_OF_DAY}(?:\s+(?:hari|tadi))?"
    rf"|[,\s]+(?:(?:sekitar\s+)?(?:pukul|pkl\.?|jam|at|around)\s*){_HOUR}"
    rf"|\s+\d{{1,2}}[.:]\d{{2}}\s*(?:wib|wita|wit|am|pm)?"
    rf"|\s+\d{{1,2}}\s*(?:am|pm))$"
)
_AGO_PATTERN = re.compile(rf"^(?:(\d{{1,3}}|{_NUMBER})\s*)?({_UNIT})\s+(?:{_AGO})$")
_LAST_WEEKDAY = re.compile(
    rf"^(?:hari\s+)?({_WEEKDAYS})\s+(?:{_AGO})$|^(?:last|this\s+past|past)\s+({_WEEKDAYS})$"
)
_THIS_WEEKDAY = re.compile(rf"^(?:hari\s+)?({_WEEKDAYS})(?:\s+(?:ini|tadi))?$")
_NUMERIC = re.compile(r"^(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})$")
_NUMERIC_NO_YEAR = re.compile(r"^(\d{1,2})\s*[/\-]\s*(\d{1,2})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?"
_DAY_MONTH_YEAR = re.compile(rf"^{_DAY}\s*[\s\-/.]\s*([a-z]+)\.?\s*[\s\-/.,]?\s*(\d{{4}})$")
_DAY_MONTH = re.compile(rf"^{_DAY}\s*[\s\-/.]\s*([a-z]+)\.?$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?$")


class IncidentDateError(ValueError):
    """reason: "format", "future", "too_old" or "invalid"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _year(text: str) -> int:
    # Two-digit years are this century's: people write 21/5/24.
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _build(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise IncidentDateError("invalid") from None


def _without_year(month: int, day: int, today: date) -> date:
    """"21 Mei": this year's, or last year's if this year's has not come yet."""
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February of a common year: the other year may have one
            continue
        if candidate <= today:
            return candidate
    # No such day (30 Februari), or a 29 February neither this year nor last had.
    raise IncidentDateError("invalid")


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    for day in (today.day, 30, 29, 28):  # the 31st of a shorter month is its last day
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _ago(count_text: str | None, unit_text: str, today: date) -> date:
    unit = _UNITS[unit_text]
    if count_text is None:
        # "minggu lalu" / "last week" means about a week ago; "bulan lalu" says too little.
        if unit != "week":
            raise IncidentDateError("format")
        count = 1
    else:
        count = int(count_text) if count_text.isdigit() else _NUMBER_WORDS[count_text]
    if unit == "day":
        return today - timedelta(days=count)
    if unit == "week":
        return today - timedelta(weeks=count)
    return _months_back(today, count * (12 if unit == "year" else 1))


def _weekday(name: str, today: date, *, before_today: bool) -> date:
    back = (today.weekday() - _WEEKDAY_NUMBERS[name]) % 7
    if back == 0 and before_today:
        back = 7
    return today - timedelta(days=back)


def _strip_time(text: str) -> str:
    while (stripped := _TRAILING_TIME.sub("", text)) != text:
        text = stripped
    return text


def _parse(text: str, today: date) -> date:
    text = _LEADING_WORDS.sub("", text.rstrip(".!"))
    if text in _RELATIVE:
        return today - timedelta(days=_RELATIVE[text])
    text = _strip_time(text)
    if text in _RELATIVE:
        return today - timedelta(days=_RELATIVE[text])
    if text in _FUTURE:
        raise IncidentDateError("future")
    # "hari Minggu lalu" is a Sunday; "minggu lalu" alone is last week (the unit wins).
    if (m := _LAST_WEEKDAY.match(text)) and not text.startswith("minggu"):
        return _weekday(m[1] or m[2], today, before_today=True)
    if m := _AGO_PATTERN.match(text):
        return _ago(m[1], m[2], today)
    if m := _THIS_WEEKDAY.match(text):
        return _weekday(m[1], today, before_today=False)
    text = _WEEKDAY_PREFIX.sub("", text)
    if m := _ISO.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.match(text):
        return _build(_year(m[4]), int(m[3]), int(m[1]))
    if m := _NUMERIC_NO_YEAR.match(text):
        return _without_year(_check_month(int(m[2])), int(m[1]), today)
    if (m := _DAY_MONTH_YEAR.match(text)) and m[2] in _MONTHS:
        return _build(int(m[3]), _MONTHS[m[2]], int(m[1]))
    if (m := _MONTH_DAY_YEAR.match(text)) and m[1] in _MONTHS:
        return _build(int(m[3]), _MONTHS[m[1]], int(m[2]))
    if (m := _DAY_MONTH.match(text)) and m[2] in _MONTHS:
        return _without_year(_MONTHS[m[2]], int(m[1]), today)
    if (m := _MONTH_DAY.match(text)) and m[1] in _MONTHS:
        return _without_year(_MONTHS[m[1]], int(m[2]), today)
    raise IncidentDateError("format")


def _check_month(month: int) -> int:
    if not 1 <= month <= 12:
        raise IncidentDateError("invalid")
    return month


def earliest_incident_date(today: date) -> date:
    try:
        return today.replace(year=today.year - MIN_INCIDENT_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - MIN_INCIDENT_YEARS, day=28)


def parse_incident_date(text: str, today: date) -> date:
    normalized = " ".join(text.lower().replace("’", "'").split())
    result = _parse(normalized, today)
    if result > today:
        raise IncidentDateError("future")
    if result < earliest_incident_date(today):
        raise IncidentDateError("too_old")
    return result
