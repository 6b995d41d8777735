"""Incident dates as citizens type them, in Indonesian or English."""

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

_RELATIVE = {
    "hari ini": 0,
    "today": 0,
    "kemarin": 1,
    "yesterday": 1,
    "kemarin lusa": 2,
}

_WEEKDAYS = (
    "senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
)
# "Selasa, 21 Mei 2024": a leading day name carries no information we need.
_WEEKDAY_PREFIX = re.compile(rf"^(?:{_WEEKDAYS})\b[,\s]*")
_NUMERIC = re.compile(r"^(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[\s\-/.]\s*([a-z]+)\.?\s*[\s\-/.,]?\s*(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


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


def _parse(text: str, today: date) -> date:
    if text in _RELATIVE:
        return today - timedelta(days=_RELATIVE[text])
    text = _WEEKDAY_PREFIX.sub("", text)
    if m := _ISO.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.match(text):
        return _build(_year(m[4]), int(m[3]), int(m[1]))
    if (m := _DAY_MONTH_YEAR.match(text)) and m[2] in _MONTHS:
        return _build(int(m[3]), _MONTHS[m[2]], int(m[1]))
    if (m := _MONTH_DAY_YEAR.match(text)) and m[1] in _MONTHS:
        return _build(int(m[3]), _MONTHS[m[1]], int(m[2]))
    raise IncidentDateError("format")


def earliest_incident_date(today: date) -> date:
    try:
        return today.replace(year=today.year - MIN_INCIDENT_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - MIN_INCIDENT_YEARS, day=28)


def parse_incident_date(text: str, today: date) -> date:
    normalized = " ".join(text.lower().split())
    result = _parse(normalized, today)
    if result > today:
        raise IncidentDateError("future")
    if result < earliest_incident_date(today):
        raise IncidentDateError("too_old")
    return result
