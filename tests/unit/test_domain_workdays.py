from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.workdays import WorkCalendar


@pytest.fixture
def cal():
    return WorkCalendar()


@pytest.mark.parametrize(
    "holiday",
    [
        date(2024, 5, 9),  # Kenaikan Isa Almasih (Thursday)
        date(2024, 5, 23),  # Waisak (Thursday)
        date(2024, 4, 10),  # Idulfitri
        date(2025, 3, 31),  # Idulfitri
        date(2026, 8, 17),  # Hari Kemerdekaan (Monday)
        date(2024, 12, 25),
    ],
)
def test_national_holidays_are_not_working_days(cal, holiday):
    assert holiday.weekday() < 5
    assert cal.is_holiday(holiday)
    assert not cal.is_working_day(holiday)


def test_plain_weekdays_and_weekends(cal):
    assert cal.is_working_day(date(2024, 5, 21))  # Tuesday
    assert not cal.is_working_day(date(2024, 5, 25))  # Saturday
    assert not cal.is_working_day(date(2024, 5, 26))  # Sunday


def test_cuti_bersama_only_when_configured(cal):
    cuti = date(2024, 5, 24)
    assert cal.is_working_day(cuti)
    assert not WorkCalendar(extra_holidays=[cuti]).is_working_day(cuti)
    assert WorkCalendar(extra_holidays=[cuti]).holiday_name(cuti) == "cuti bersama"


def test_years_are_loaded_on_demand():
    far = WorkCalendar()
    # Both are weekdays: only the holiday table can make them days off.
    assert not far.is_working_day(date(2032, 8, 17))
    assert not far.is_working_day(date(2019, 12, 25))
    assert far.is_working_day(date(2032, 8, 18))


def test_add_working_days_skips_weekend(cal):
    assert cal.add_working_days(date(2024, 5, 17), 1) == date(2024, 5, 20)  # Fri -> Mon
    assert cal.next_working_day(date(2024, 5, 17)) == date(2024, 5, 20)
    assert cal.add_working_days(date(2024, 5, 25), 1) == date(2024, 5, 27)  # Sat -> Mon
    assert cal.add_working_days(date(2024, 5, 21), 0) == date(2024, 5, 21)


def test_add_working_days_skips_holiday(cal):
    # Wed 22 May, then Thu 23 (Waisak) is skipped -> Fri 24.
    assert cal.add_working_days(date(2024, 5, 21), 2) == date(2024, 5, 24)


def test_add_working_days_across_new_year(cal):
    # Tue 31 Dec 2024 +1: 1 Jan 2025 is a holiday -> Thu 2 Jan.
    assert cal.add_working_days(date(2024, 12, 31), 1) == date(2025, 1, 2)


def test_add_working_days_rejects_negative_and_datetimes(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(date(2024, 5, 21), -1)
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2024, 5, 21, tzinfo=UTC))


def test_working_days_between(cal):
    assert cal.working_days_between(date(2024, 5, 21), date(2024, 5, 21)) == 0
    assert cal.working_days_between(date(2024, 5, 28), date(2024, 5, 21)) == 0
    # 22 (Wed), 24 (Fri), 27 (Mon); 23 is Waisak, 25-26 weekend.
    assert cal.working_days_between(date(2024, 5, 21), date(2024, 5, 27)) == 3
    assert cal.working_days_between(date(2024, 5, 17), date(2024, 5, 19)) == 0


def test_working_days_between_inverts_add(cal):
    start = date(2024, 12, 20)
    for n in range(0, 30):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_local_date_uses_wita():
    cal = WorkCalendar()
    # 17:30 UTC on Monday 20 May is 01:30 WITA on Tuesday 21 May.
    assert cal.local_date(datetime(2024, 5, 20, 17, 30, tzinfo=UTC)) == date(2024, 5, 21)
    assert cal.local_date(datetime(2024, 5, 20, 15, 59, tzinfo=UTC)) == date(2024, 5, 20)
    # The same instant is still Monday in WIB (UTC+7) until 17:00 UTC.
    wib = WorkCalendar(tz="Asia/Jakarta")
    assert wib.local_date(datetime(2024, 5, 20, 16, 30, tzinfo=UTC)) == date(2024, 5, 20)


def test_local_date_rejects_naive():
    with pytest.raises(ValueError):
        WorkCalendar().local_date(datetime(2024, 5, 20, 17, 30))


def test_now_local_is_aware_in_calendar_zone():
    now = WorkCalendar().now_local()
    assert now.utcoffset() == timedelta(hours=8)
