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
from datetime import datetime
from typing import Any

from bot.domain.lifecycle import TERMINAL
from bot.domain.workdays import WorkCalendar


def days_taken(submitted_at: datetime, at: datetime | None, cal: WorkCalendar) -> int | None:
    """Working days after the local day of submission up to the local day of ``at``."""
    if at is None:
        return None
    return cal.working_days_between(cal.local_date(submitted_at), cal.local_date(at))


def facts_of_change(
    submitted_at: datetime, previous: str, target: str, values: Mapping[str, Any], now: datetime,
    cal: WorkCalendar,
) -> dict[str, Any]:
    """The stored facts a status change from ``previous`` to ``target`` setting ``values``
    implies: the days to the first response and to closing follow their timestamps (a reopening
    clears ``closed_at`` and so the completion); ``ended_at`` is set on entering a terminal
    status, kept while staying in one (a comment after rating), cleared on leaving."""
    facts: dict[str, Any] = {}
    if "first_response_at" in values:
        facts["response_days"] = days_taken(submitted_at, values["first_response_at"], cal)
    if "closed_at" in values:
        facts["completion_days"] = days_taken(submitted_at, values["closed_at"], cal)
    if target not in TERMINAL:
        facts["ended_at"] = None
    elif previous not in TERMINAL:
        facts["ended_at"] = now
    return facts


def facts_of_history(
    submitted_at: datetime, status: str, first_response_at: datetime | None, closed_at: datetime | None,
    ended_at: datetime | None, cal: WorkCalendar,
) -> dict[str, Any]:
    """The same facts for a report written whole rather than moved step by step (demo data):
    ``ended_at`` is when it entered its terminal status, kept only if it is in one."""
    return {
        "response_days": days_taken(submitted_at, first_response_at, cal),
        "completion_days": days_taken(submitted_at, closed_at, cal),
        "ended_at": ended_at if status in TERMINAL else None,
    }
