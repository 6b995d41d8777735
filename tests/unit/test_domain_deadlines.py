from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.domain.deadlines import (
    FOLLOWUP_DAYS,
    REPLY_DAYS,
    VERIFY_DAYS,
    completion_ceiling,
    completion_due,
    followup_due,
    is_overdue,
    reply_due,
    verify_due,
)
from bot.domain.enums import Classification
from bot.domain.workdays import WorkCalendar

WITA = timezone(timedelta(hours=8))


def test_constants():
    assert (VERIFY_DAYS, FOLLOWUP_DAYS, REPLY_DAYS) == (3, 5, 10)


@pytest.mark.parametrize(
    ("classification", "supervisory", "days"),
    [
        (Classification.COMPLAINT, True, 60),
        (Classification.COMPLAINT, False, 14),
        (Classification.INFORMATION, False, 5),
        (Classification.INFORMATION, True, 5),
        (Classification.ASPIRATION, False, 5),
        ("complaint", False, 14),
    ],
)
def test_completion_ceiling(classification, supervisory, days):
    assert completion_ceiling(classification, supervisory) == days


def test_completion_ceiling_rejects_unknown():
    with pytest.raises(ValueError):
        completion_ceiling("petition", False)


def test_verify_due_over_waisak():
    # Tuesday 21 May 2024 WITA: Wed 22 (1), Thu 23 Waisak, Fri 24 (2), Mon 27 (3).
    submitted = datetime(2024, 5, 21, 10, 0, tzinfo=WITA)
    assert verify_due(submitted, WorkCalendar()) == date(2024, 5, 27)


def test_verify_due_over_waisak_and_cuti_bersama():
    cal = WorkCalendar(extra_holidays=[date(2024, 5, 24)])
    submitted = datetime(2024, 5, 21, 10, 0, tzinfo=WITA)
    assert verify_due(submitted, cal) == date(2024, 5, 28)


def test_verify_due_counts_from_local_day():
    cal = WorkCalendar()
    # Monday 20 May 23:30 UTC evening is already Tuesday 07:30 in WITA.
    late_utc = datetime(2024, 5, 20, 23, 30, tzinfo=UTC)
    assert verify_due(late_utc, cal) == date(2024, 5, 27)
    # Earlier that Monday (UTC and WITA agree on the day) the deadline is a day sooner:
    # Tue 21 (1), Wed 22 (2), Fri 24 (3).
    assert verify_due(datetime(2024, 5, 20, 3, 0, tzinfo=UTC), cal) == date(2024, 5, 24)


def test_followup_due_across_year_end():
    cal = WorkCalendar()
    # Friday 27 Dec 2024: Mon 30 (1), Tue 31 (2), 1 Jan holiday, Thu 2 (3), Fri 3 (4), Mon 6 (5).
    assigned = datetime(2024, 12, 27, 9, 0, tzinfo=WITA)
    assert followup_due(assigned, cal) == date(2025, 1, 6)
    with_cuti = WorkCalendar(extra_holidays=[date(2024, 12, 26)])
    assert followup_due(assigned, with_cuti) == date(2025, 1, 6)


def test_reply_due_ten_working_days():
    cal = WorkCalendar()
    # Thursday 2 May 2024 answered. Fri 3, Mon 6, Tue 7, Wed 8, (Thu 9 Ascension), Fri 10,
    # Mon 13 .. Fri 17 -> the tenth is Fri 17 May.
    answered = datetime(2024, 5, 2, 14, 0, tzinfo=WITA)
    assert reply_due(answered, cal) == date(2024, 5, 17)


def test_completion_due_by_classification():
    cal = WorkCalendar()
    submitted = datetime(2024, 5, 21, 10, 0, tzinfo=WITA)
    info = completion_due(submitted, Classification.INFORMATION, False, cal)
    complaint = completion_due(submitted, Classification.COMPLAINT, False, cal)
    supervisory = completion_due(submitted, Classification.COMPLAINT, True, cal)
    assert info == date(2024, 5, 29)  # 22, 24, 27, 28, 29
    assert cal.working_days_between(date(2024, 5, 21), complaint) == 14
    assert cal.working_days_between(date(2024, 5, 21), supervisory) == 60
    assert info < complaint < supervisory
    # Counted by hand: 7 in May, 19 in June (17 June Iduladha off), 23 in July, then
    # 1-2, 5-9, 12-15 August: the sixtieth is Thursday 15 August.
    assert supervisory == date(2024, 8, 15)


def test_is_overdue():
    due = date(2024, 5, 27)
    assert not is_overdue(due, date(2024, 5, 26))
    assert not is_overdue(due, due)
    assert is_overdue(due, date(2024, 5, 28))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        verify_due(datetime(2024, 5, 21, 10, 0), WorkCalendar())
