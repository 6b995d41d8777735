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
    working_days_left,
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


def test_completion_due_of_a_five_day_request_over_the_year_end():
    cal = WorkCalendar()
    # Friday 27 Dec 2024: Mon 30 (1), Tue 31 (2), 1 Jan holiday, Thu 2 (3), Fri 3 (4), Mon 6 (5).
    submitted = datetime(2024, 12, 27, 9, 0, tzinfo=WITA)
    assert completion_due(submitted, Classification.ASPIRATION, False, cal) == date(2025, 1, 6)
    # A cuti bersama on Thursday 2 January moves it a working day on.
    with_cuti = WorkCalendar(extra_holidays=[date(2025, 1, 2)])
    assert completion_due(submitted, Classification.INFORMATION, False, with_cuti) == date(2025, 1, 7)


def test_completion_due_of_a_complaint_over_waisak_and_a_weekend_late_at_night():
    # 23:30 WITA on Friday 17 May 2024 still belongs to Friday (UTC says 15:30 the same day).
    submitted = datetime(2024, 5, 17, 15, 30, tzinfo=UTC)
    cal = WorkCalendar(extra_holidays=[date(2024, 5, 24)])
    # Mon 20, Tue 21, Wed 22, (Thu 23 Waisak, Fri 24 cuti bersama), Mon 27 .. Fri 31 (eight),
    # (Sat 1 June Pancasila, a weekend anyway) Mon 3 .. Fri 7 (thirteen), Mon 10: the fourteenth.
    assert completion_due(submitted, Classification.COMPLAINT, False, cal) == date(2024, 6, 10)
    # Half an hour later it is Saturday in WITA: the count starts from the same Monday.
    assert completion_due(datetime(2024, 5, 17, 16, 30, tzinfo=UTC), "complaint", False, cal) == date(2024, 6, 10)
    # A Thursday night, by contrast, is one working day ahead of Friday's first minutes.
    thursday_night = datetime(2024, 5, 16, 15, 30, tzinfo=UTC)
    assert completion_due(thursday_night, "complaint", False, cal) == date(2024, 6, 7)


@pytest.mark.parametrize(
    ("today", "left"),
    [
        (date(2024, 5, 21), 5),  # Tue: Wed 22, (Waisak), Fri 24, Mon 27, Tue 28, Wed 29
        (date(2024, 5, 25), 3),  # a Saturday counts from the next working day
        (date(2024, 5, 29), 0),  # the due day itself is still in time
        (date(2024, 5, 30), -1),
        (date(2024, 6, 3), -3),  # Thu 30, Fri 31, (Sat 1 June, Sun), Mon 3
    ],
)
def test_working_days_left_until_a_due_date(today, left):
    cal = WorkCalendar()
    assert working_days_left(date(2024, 5, 29), today, cal) == left
    assert is_overdue(date(2024, 5, 29), today) == (left < 0)


def test_a_weekend_after_a_friday_due_date_is_late_by_no_working_day():
    cal = WorkCalendar()
    assert is_overdue(date(2024, 5, 31), date(2024, 6, 2))
    assert working_days_left(date(2024, 5, 31), date(2024, 6, 2), cal) == 0
