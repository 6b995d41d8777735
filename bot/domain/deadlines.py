"""Deadlines in working days (domain.md; PermenPANRB 62/2018, Bab VI)."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.enums import Classification
from bot.domain.workdays import WorkCalendar

VERIFY_DAYS = 3  # admin verifies and assigns
FOLLOWUP_DAYS = 5  # agency answers after assignment
REPLY_DAYS = 10  # reporter may reply to the answer; afterwards it closes by itself

COMPLAINT_SUPERVISORY_DAYS = 60  # pengaduan berkadar pengawasan
COMPLAINT_DAYS = 14
INFORMATION_DAYS = 5
ASPIRATION_DAYS = 5


def completion_ceiling(classification: Classification | str, supervisory: bool) -> int:
    match Classification(classification):
        case Classification.COMPLAINT:
            return COMPLAINT_SUPERVISORY_DAYS if supervisory else COMPLAINT_DAYS
        case Classification.INFORMATION:
            return INFORMATION_DAYS
        case Classification.ASPIRATION:
            return ASPIRATION_DAYS


def _due(start: datetime, days: int, cal: WorkCalendar) -> date:
    # Counted from the local calendar day: a report sent at 23:30 WITA belongs to that day.
    return cal.add_working_days(cal.local_date(start), days)


def verify_due(submitted_at: datetime, cal: WorkCalendar) -> date:
    return _due(submitted_at, VERIFY_DAYS, cal)


def followup_due(assigned_at: datetime, cal: WorkCalendar) -> date:
    return _due(assigned_at, FOLLOWUP_DAYS, cal)


def reply_due(answered_at: datetime, cal: WorkCalendar) -> date:
    return _due(answered_at, REPLY_DAYS, cal)


def completion_due(
    submitted_at: datetime,
    classification: Classification | str,
    supervisory: bool,
    cal: WorkCalendar,
) -> date:
    return _due(submitted_at, completion_ceiling(classification, supervisory), cal)


def is_overdue(due: date, today: date) -> bool:
    # The due date itself is still in time.
    return today > due


def working_days_left(due: date, today: date, cal: WorkCalendar) -> int:
    """Working days from ``today`` up to and including ``due``: 0 on the due day itself (still in
    time), negative once past it (the working days late). A weekend right after a Friday due date
    is late by 0 working days: ask ``is_overdue`` for lateness, this for how much."""
    if is_overdue(due, today):
        return -cal.working_days_between(due, today)
    return cal.working_days_between(today, due)
