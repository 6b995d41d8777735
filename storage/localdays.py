"""Local calendar days and working days as SQL expressions, the same on SQLite and PostgreSQL.

Statistics over a million reports cannot count working days in Python row by row (issue 15:
that was 65% of /statistik). Here the count is closed-form SQL:

- a timestamp's *local day number* (days since 1970-01-01 in the configured time zone): the
  UTC timestamp plus the zone's offset (from Python's zoneinfo), piecewise where the zone
  changes offset (none of Indonesia's zones do);
- ``ordinal(n)`` = weekdays up to day n (closed form: five per full week) minus the weekday
  holidays up to day n (a balanced CASE tree over the sorted holidays, log2(k) comparisons);
- working days after a up to and including b = ``ordinal(b) - ordinal(a)`` when b > a, else 0,
  which is exactly ``WorkCalendar.working_days_between`` as long as both days lie in
  ``[lo, hi]``, the range the holidays were given for;
- ``calendar()`` tabulates the same ordinal for each day of ``[lo, hi]`` (computed here) inside
  the statement, so a query over many rows joins it instead of evaluating the tree per row.

Storage does not import the domain: the caller passes the zone's name and the holidays (from
``WorkCalendar``), and compares with it in tests/storage/test_stats_equivalence.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Date,
    Integer,
    String,
    Values,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    type_coerce,
    values,
)
from sqlalchemy.sql.elements import ColumnElement

EPOCH = date(1970, 1, 1)
_JULIAN_EPOCH = "2440587.5"  # julianday('1970-01-01')


def day_number(d: date) -> int:
    return (d - EPOCH).days


def _int(n: int) -> ColumnElement[int]:
    # Inline, not bound: a tree of a few hundred bound parameters would bloat every statement,
    # and the values are ours (never user input).
    return literal_column(str(int(n)), Integer)


@lru_cache(maxsize=16)
def offset_changes(tz: str, lo_year: int, hi_year: int) -> tuple[tuple[datetime, int], ...]:
    """``((since_utc, offset_seconds), ...)`` of ``tz`` from 1 January ``lo_year`` to the end of
    ``hi_year``, the first entry valid from the start. One entry for a fixed-offset zone."""
    zone = ZoneInfo(tz)

    def offset(at: datetime) -> int:
        off = at.astimezone(zone).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    start = datetime(lo_year, 1, 1, tzinfo=UTC)
    changes = [(start, offset(start))]
    day = start
    end = datetime(hi_year + 1, 1, 1, tzinfo=UTC)
    while day < end:
        nxt = day + timedelta(days=1)
        if offset(nxt) != changes[-1][1]:
            lo, hi = day, nxt  # the change lies in (lo, hi]: bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if offset(mid) == changes[-1][1]:
                    lo = mid
                else:
                    hi = mid
            changes.append((hi, offset(hi)))
        day = nxt
    return tuple(changes)


class LocalDays:
    """SQL for local days in ``tz`` and working days between them, exact for days in
    ``[lo, hi]`` given ``holidays`` (weekend holidays may be included; they are ignored)."""

    def __init__(self, dialect: str, tz: str, holidays: Iterable[date], lo: date, hi: date) -> None:
        self.dialect = dialect
        self.tz = tz
        self.lo, self.hi = lo, hi
        self._holidays = sorted(
            day_number(d) for d in set(holidays) if lo <= d <= hi and d.weekday() < 5
        )

    def _offset_at(self, ts: ColumnElement[datetime], fmt: Callable[[int], str], stamp: str) -> ColumnElement[str]:
        """The zone's UTC offset valid at ``ts``, rendered by ``fmt``; ``stamp``: how the
        database writes a UTC timestamp that compares with the column."""
        changes = offset_changes(self.tz, self.lo.year - 1, self.hi.year + 1)
        if len(changes) == 1:
            return literal_column(fmt(changes[0][1]), String)
        return case(
            *((ts < literal_column(_quote(at.strftime(stamp)), String), literal_column(fmt(prev[1]), String))
              for prev, (at, _off) in zip(changes, changes[1:], strict=False)),
            else_=literal_column(fmt(changes[-1][1]), String),
        )

    def day(self, ts: ColumnElement[datetime]) -> ColumnElement[int]:
        """The local day number of a UTC timestamp column (NULL stays NULL): the timestamp
        plus the zone's UTC offset, piecewise where the offset changes (DST). On PostgreSQL this
        is ~6× cheaper per row than converting by the zone's name."""
        if self.dialect == "postgresql":
            return type_coerce(self.local_date(ts) - literal_column("DATE '1970-01-01'"), Integer)
        # Whole seconds only: SQLite rounds fractions to milliseconds, so 23:59:59.9999 would
        # become the next day.
        whole = func.substr(ts, 1, 19)
        modifier = self._offset_at(ts, lambda off: _quote(f"{off:+d} seconds"), "%Y-%m-%d %H:%M:%S")
        return cast(func.julianday(func.date(whole, modifier)) - literal_column(_JULIAN_EPOCH), Integer)

    def local_date(self, ts: ColumnElement[datetime]) -> ColumnElement[date]:
        """PostgreSQL only: the local calendar date of a UTC timestamp column (NULL stays NULL),
        to compare with a date column as it is."""
        return cast(self.local_time(ts), Date)

    def local_time(self, ts: ColumnElement[datetime]) -> ColumnElement[datetime]:
        """PostgreSQL only: the local wall-clock time (a timestamp without time zone) of a UTC
        timestamp column, by the same offsets as ``day``."""
        if self.dialect != "postgresql":
            raise NotImplementedError("local_time is written for PostgreSQL only")
        offset = self._offset_at(ts, lambda off: f"interval '{off} seconds'", "%Y-%m-%d %H:%M:%S+00")
        return func.timezone(literal_column("'UTC'", String), ts + offset)

    def ordinal(self, n: ColumnElement[int]) -> ColumnElement[int]:
        """Working days up to and including day ``n``, from an arbitrary origin. ``n`` should be
        a plain column (of a subquery): it is repeated in the expression."""
        m = n + _int(3)  # 1970-01-01 was a Thursday; m % 7 == 0 on Mondays
        rest = m % _int(7)
        weekdays = _int(5) * (m // _int(7)) + case((rest >= _int(4), _int(5)), else_=rest + _int(1))
        return weekdays - _count_le(n, self._holidays, 0)

    def calendar(self) -> Values | CTE:
        """A table ``(day, ord)`` of every day in ``[lo, hi]`` and its working-day ordinal, as
        a VALUES list in the statement (a few hundred rows per year). Joining it on
        ``day(ts)`` converts each timestamp once, where the CASE tree inlined per row would
        repeat the conversion; unlike a recursive CTE it leaves PostgreSQL free to scan in
        parallel."""
        if self.dialect != "postgresql":
            # SQLite knows no column names on a VALUES alias: count the days in a recursive CTE.
            first, last = day_number(self.lo), day_number(self.hi)
            seq = select(_int(first).label("day")).cte("local_day", recursive=True)
            seq = seq.union_all(select(seq.c.day + _int(1)).where(seq.c.day < _int(last)))
            return select(seq.c.day, self.ordinal(seq.c.day).label("ord")).cte("workday")
        # Inline literals (our own integers): thousands of bound parameters would be slower.
        return values(column("day", Integer), column("ord", Integer), name="workday",
                      literal_binds=True).data(self._ordinals())

    def _ordinals(self) -> list[tuple[int, int]]:
        """``(day, ordinal(day))`` for every day of ``[lo, hi]``, computed here."""
        rows = []
        holidays = iter(self._holidays)
        next_holiday = next(holidays, None)
        passed = 0
        for n in range(day_number(self.lo), day_number(self.hi) + 1):
            while next_holiday is not None and next_holiday <= n:
                passed += 1
                next_holiday = next(holidays, None)
            m = n + 3  # as in ``ordinal``
            rows.append((n, 5 * (m // 7) + min(m % 7 + 1, 5) - passed))
        return rows


def _count_le(n: ColumnElement[int], sorted_days: Sequence[int], base: int) -> ColumnElement[int]:
    """How many of ``sorted_days`` are <= n, as a balanced CASE tree (plus ``base``)."""
    if not sorted_days:
        return _int(base)
    mid = len(sorted_days) // 2
    return case(
        (n < _int(sorted_days[mid]), _count_le(n, sorted_days[:mid], base)),
        else_=_count_le(n, sorted_days[mid + 1:], base + mid + 1),
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
