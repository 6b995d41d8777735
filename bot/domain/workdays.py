"""Working days in Indonesia: weekends, national holidays and configured cuti bersama off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TZ = "Asia/Makassar"  # WITA, the seed district's time zone


def _as_date(d: date) -> date:
    # datetime is a subclass of date; letting one through would silently use its UTC
    # calendar day instead of the local one.
    if isinstance(d, datetime):
        raise TypeError("pass a date; convert datetimes with WorkCalendar.local_date()")
    return d


class WorkCalendar:
    def __init__(self, tz: str = DEFAULT_TZ, extra_holidays: Iterable[date] = ()) -> None:
        self.tz = ZoneInfo(tz)
        # Cuti bersama are decided yearly by joint ministerial decree and are not in the
        # `holidays` package, so they come from configuration.
        self.extra_holidays: frozenset[date] = frozenset(_as_date(d) for d in extra_holidays)
        # expand=True (the default) fills in each year on first lookup, so any year works.
        self._national = holidays.country_holidays("ID", expand=True)

    def is_holiday(self, d: date) -> bool:
        d = _as_date(d)
        return d in self.extra_holidays or d in self._national

    def holiday_name(self, d: date) -> str | None:
        d = _as_date(d)
        if d in self._national:
            return self._national.get(d)
        return "cuti bersama" if d in self.extra_holidays else None

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        return d.weekday() < 5 and not self.is_holiday(d)

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after d (d itself never counts; n == 0 returns d)."""
        d = _as_date(d)
        if n < 0:
            raise ValueError("n must not be negative")
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def next_working_day(self, d: date) -> date:
        return self.add_working_days(d, 1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after start up to and including end; 0 when end <= start."""
        start, end = _as_date(start), _as_date(end)
        count = 0
        d = start + timedelta(days=1)
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += timedelta(days=1)
        return count

    def local_date(self, dt: datetime) -> date:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("local_date needs an aware datetime")
        return dt.astimezone(self.tz).date()

    def now_local(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now_local().date()
