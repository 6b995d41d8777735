"""Dates and numbers the way each language writes them (issue 14: "Indonesian as Indonesians
write it"): decimal comma, thousands dot, one long and one short date style, no padded days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import build_i18n
from bot.ui.formatting import coordinate, decimal, long_date, number, percent, short_date, short_datetime

ROOT = Path(__file__).resolve().parents[2]
WITA = ZoneInfo("Asia/Makassar")
FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("locale", "long", "short"),
    [
        ("id", "Jumat, 4 Desember 2026", "4 Des 2026"),
        ("en", "Friday, December 4, 2026", "Dec 4, 2026"),
    ],
)
def test_dates(locale, long, short):
    assert long_date(FRIDAY, locale) == long
    assert short_date(FRIDAY, locale) == short


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_zero_padded_day(locale):
    assert "01" not in long_date(date(2026, 6, 1), locale)
    assert "01" not in short_date(date(2026, 6, 1), locale)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("id", "4 Des 2026 14.05 WITA"), ("en", "Dec 4, 2026, 2:05\u202fPM WITA")],
)
def test_date_and_time_with_the_zone(locale, expected):
    assert short_datetime(datetime(2026, 12, 4, 6, 5, tzinfo=UTC), WITA, locale) == expected


def test_zones_outside_indonesia_show_an_offset():
    assert short_datetime(datetime(2026, 12, 4, 6, 5, tzinfo=UTC), ZoneInfo("Europe/Berlin"), "id").endswith(
        "GMT+01:00"
    )


@pytest.mark.parametrize(
    ("locale", "two_point_four", "thousands", "rate"),
    [("id", "2,4", "12.345", "88%"), ("en", "2.4", "12,345", "88%")],
)
def test_numbers(locale, two_point_four, thousands, rate):
    assert decimal(2.4, locale=locale) == two_point_four
    assert decimal(2.35, digits=2, locale=locale) == two_point_four.replace("4", "35")
    assert number(12345, locale) == thousands
    assert percent(7 / 8, locale) == rate
    assert decimal(None, locale=locale) == percent(None, locale) == "–"


def test_coordinates_keep_the_point_in_every_language():
    assert coordinate(-1.255) == "-1.25500"


def test_the_helpers_follow_the_rendering_locale():
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("en"):
        assert decimal(2.4) == "2.4" and short_date(FRIDAY) == "Dec 4, 2026"
    with i18n.context(), i18n.use_locale("id"):
        assert decimal(2.4) == "2,4" and short_date(FRIDAY) == "4 Des 2026"


# Everything a person reads formats its dates and numbers through bot/ui/formatting.py: the
# presentation (notices, cards, charts, /statistik), the handlers, and the jobs and services in
# case one ever renders again. The command line (English, for a terminal) is not in the list, and
# these files write for machines.
READER_FACING = ["bot/ui", "bot/jobs", "bot/services", "bot/web", "handlers"]
FOR_MACHINES = {
    "bot/services/export.py",  # ISO timestamps in the spreadsheet
    "bot/services/notification_policy.py",  # a digest slot's key
    "bot/services/lapor.py",  # LAPOR!'s own form fields (dd/mm/yyyy, coordinates), pasted as they are
}
# strftime, f"{x:.1f}" / f"{x:.{digits}f}", f"{day:%d-%m-%Y}", and Babel called around the helpers.
HAND_FORMATTED = re.compile(r"strftime\(|:[,_]?\.(?:\d+|\{\w+\})f\}|\{[^{}]*:%[A-Za-z]|\bbabel\.(?:dates|numbers)\b")


def test_no_hand_formatted_dates_or_decimals_in_what_people_read():
    offenders = []
    for entry in READER_FACING:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            if file.name == "formatting.py" or str(file.relative_to(ROOT)) in FOR_MACHINES:
                continue
            for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if HAND_FORMATTED.search(line):
                    offenders.append(f"{file.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert offenders == []


def test_the_scan_catches_what_main_once_had():
    # Lines this scan must keep catching (the hand-formatting issue 14 removed, in every style).
    for line in ('when=b.created_at.astimezone(tz).strftime("%d-%m-%Y %H:%M")',
                 'return "–" if value is None else f"{value:.{digits}f}"',
                 'size=f"{(size or 0) / (1024 * 1024):.1f}"',
                 'f"{value * 100:.0f}%"',
                 'print(f"until {expires:%Y-%m-%d %H:%M}")',
                 "from babel.dates import format_date, format_datetime"):
        assert HAND_FORMATTED.search(line), line
