"""How long a report took, in working days, written on its row at the moment it happens.

Statistics over a million reports cannot count working days report by report (issue 15); so
the status change that sets a first response or a closing also stores the working days since
the report's local day of submission, and the change into or out of a terminal status stores
when the report stopped being open. /statistik and the weekly summary then only sum columns.
``tests/stats_oracle.py`` derives the same figures from the timestamps and the timeline, and
the tests hold the stored ones equal to it (also after a reopening).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.domain.enums import ReportStatus
from bot.domain.lifecycle import TERMINAL
from bot.domain.workdays import WorkCalendar


def days_taken(submitted_at: datetime, at: datetime | None, cal: WorkCalendar) -> int | None:
    """Working days after the local day of submission up to the local day of ``at``."""
    if at is None:
        return None
    return cal.working_days_between(cal.local_date(submitted_at), cal.local_date(at))


def completion_met(done_at: datetime | None, completion_due: date | None, cal: WorkCalendar) -> bool | None:
    """Completed within the completion ceiling by kind of report: ``done_at`` (the last answer,
    or the closing of a report closed without one) on or before the local day ``completion_due``.
    The reporter's time to reply is not the agency's: a report answered in time and closed by
    itself ten working days later met it. None without either."""
    if done_at is None or completion_due is None:
        return None
    return cal.local_date(done_at) <= completion_due


def facts_of_change(
    submitted_at: datetime, previous: str, target: str, values: Mapping[str, Any], now: datetime,
    cal: WorkCalendar, *, answered_at: datetime | None = None, completion_due: date | None = None,
) -> dict[str, Any]:
    """The stored facts a status change from ``previous`` to ``target`` setting ``values``
    implies: the days to the first response and to closing follow their timestamps (a reopening
    clears ``closed_at`` and so the completion and whether it met the ceiling, given the report's
    ``answered_at`` and ``completion_due``); ``ended_at`` is set on entering a terminal status,
    kept while staying in one (a comment after rating), cleared on leaving."""
    facts: dict[str, Any] = {}
    if "first_response_at" in values:
        facts["response_days"] = days_taken(submitted_at, values["first_response_at"], cal)
    if "closed_at" in values:
        facts["completion_days"] = days_taken(submitted_at, values["closed_at"], cal)
        # Only a completion counts (a rejection or an archiving sets ``closed_at`` too).
        closed_at = values["closed_at"] if target == ReportStatus.CLOSED else None
        done = (values.get("answered_at", answered_at) or closed_at) if closed_at is not None else None
        facts["completion_met"] = completion_met(done, completion_due, cal)
    if target not in TERMINAL:
        facts["ended_at"] = None
    elif previous not in TERMINAL:
        facts["ended_at"] = now
    return facts


def facts_of_history(
    submitted_at: datetime, status: str, first_response_at: datetime | None, closed_at: datetime | None,
    ended_at: datetime | None, cal: WorkCalendar, *, answered_at: datetime | None = None,
    completion_due: date | None = None,
) -> dict[str, Any]:
    """The same facts for a report written whole rather than moved step by step (demo data):
    ``ended_at`` is when it entered its terminal status, kept only if it is in one."""
    return {
        "response_days": days_taken(submitted_at, first_response_at, cal),
        "completion_days": days_taken(submitted_at, closed_at, cal),
        "completion_met": (completion_met(answered_at or closed_at, completion_due, cal)
                           if status == ReportStatus.CLOSED else None),
        "ended_at": ended_at if status in TERMINAL else None,
    }
