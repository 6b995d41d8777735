"""Dates and numbers as readers of each language write them, through Babel (CLDR data).

Indonesian writes "2,4 hari kerja", "1.250 laporan", "Jumat, 4 Desember 2026" and "4 Des 2026";
English "2.4", "1,250", "Friday, December 4, 2026" and "Dec 4, 2026". One style per context:

- ``long_date``: a deadline or a date in a sentence to a citizen (receipt, updates, the form);
- ``short_date``: lists, cards, staff messages, charts;
- ``short_datetime``: when something happened, with the time zone (WIB/WITA/WIT);
- ``clock_time``: a time of day (the digest times).

Every helper takes the locale, or uses the one gettext is rendering in (handlers, jobs and the
notifier all render inside ``i18n.use_locale``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel.dates import format_date, format_time, get_date_format, get_datetime_format
from babel.numbers import format_decimal, format_percent

DEFAULT_LOCALE = "id"
NONE = "–"

# Indonesia's own names for its three zones; elsewhere Babel's offset ("UTC+08:00").
ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def current_locale() -> str:
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else DEFAULT_LOCALE


def long_date(d: date, locale: str | None = None) -> str:
    """CLDR's full date with the day unpadded: Indonesian's pattern is "EEEE, dd MMMM y", and
    nobody writes "Jumat, 04 Desember"."""
    locale = locale or current_locale()
    pattern = get_date_format("full", locale=locale).pattern.replace("dd", "d")
    return format_date(d, pattern, locale=locale)


def short_date(d: date, locale: str | None = None) -> str:
    return _short_date(d, locale or current_locale())


# Babel parses the locale anew on every call: a daily reminder to a hundred officers formatted
# the same few dates and counts hundreds of times (issue 15). Both are pure.
@lru_cache(maxsize=4096)
def _short_date(d: date, locale: str) -> str:
    return format_date(d, "medium", locale=locale)


def short_datetime(dt: datetime, tz: ZoneInfo, locale: str | None = None) -> str:
    """"4 Des 2026 14.05 WITA" / "Dec 4, 2026, 2:05 PM WITA": CLDR's medium date and short time
    joined by the locale's own pattern, then the zone."""
    locale = locale or current_locale()
    local = dt.astimezone(tz)
    zone = ZONE_ABBREVIATIONS.get(str(tz.key)) or format_time(local, "ZZZZ", locale=locale)
    joined = (
        get_datetime_format("medium", locale=locale)
        .replace("{1}", format_date(local, "medium", locale=locale))
        .replace("{0}", format_time(local, "short", locale=locale))
    )
    return f"{joined} {zone}"


def clock_time(t: time, locale: str | None = None) -> str:
    """A time of day without a date: "09.00" / "9:00 AM" (CLDR's short time)."""
    return format_time(t, "short", locale=locale or current_locale())


def number(n: int, locale: str | None = None) -> str:
    """A count, grouped: "1.250" / "1,250"."""
    return _number(n, locale or current_locale())


@lru_cache(maxsize=4096)
def _number(n: int, locale: str) -> str:
    return format_decimal(n, locale=locale)


def decimal(value: float | None, digits: int = 1, locale: str | None = None) -> str:
    """"2,4" / "2.4" with exactly ``digits`` decimals; a dash when there is nothing to show."""
    if value is None:
        return NONE
    fmt = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=fmt, locale=locale or current_locale())


def coordinate(value: float) -> str:
    """Latitude or longitude as maps print it in every language: a point and five decimals
    (about a metre), never a decimal comma ("-1,25500, 116,83000" would read as four numbers)."""
    return f"{value:.5f}"


def percent(fraction: float | None, locale: str | None = None) -> str:
    """0.245 → "24%" (CLDR rounds half to even, like Python)."""
    if fraction is None:
        return NONE
    return format_percent(fraction, locale=locale or current_locale())
