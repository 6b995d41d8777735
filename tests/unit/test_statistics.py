"""Statistics computed by hand-countable cases: the seed's figures, overdue and carry-over."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from aiogram.utils.i18n import I18n

from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.ui.charts import statistics_chart
from bot.ui.stats_render import summary
from storage.repositories.stats import ReportFact
from tests.stats_oracle import compute

CAL = WorkCalendar("Asia/Makassar")


def at(y: int, m: int, d: int, h: int = 2) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)  # 10:00 WITA


def fact(n: int, submitted: datetime, status: str, *, agency_id: int | None = 1, **kw) -> ReportFact:
    base = ReportFact(
        id=n, tracking_id=f"T{n}", agency_id=agency_id, status=status,
        classification="complaint", privacy="public", submitted_at=submitted,
        verify_due=CAL.add_working_days(CAL.local_date(submitted), 3), assigned_at=None,
        followup_due=None, first_response_at=None, answered_at=None, closed_at=None,
        updated_at=submitted, ended_event_at=None, rating=None, reopened_count=0,
    )
    return replace(base, **kw)


def closed(n: int, submitted: datetime, closed_at: datetime, **kw) -> ReportFact:
    return fact(n, submitted, "closed", assigned_at=submitted, answered_at=closed_at,
                first_response_at=closed_at, closed_at=closed_at, **kw)


def seed_facts() -> list[ReportFact]:
    facts = [closed(i, at(2023, 1 + i % 12, 10), at(2023, 1 + i % 12, 20)) for i in range(41)]
    facts += [closed(100 + i, at(2024, 1 + i % 4, 3), at(2024, 1 + i % 4, 15)) for i in range(7)]
    facts.append(fact(200, at(2024, 5, 13), "in_progress", assigned_at=at(2024, 5, 14),
                      followup_due=date(2024, 5, 22)))
    return facts


def test_seed_2023_all_41_completed():
    s = compute(seed_facts(), 2023, CAL, today=date(2024, 5, 21))
    assert (s.total.received, s.total.completed, s.total.in_progress) == (41, 41, 0)
    assert s.total.completion_rate == 1.0
    assert s.total.backlog == 0 and s.total.overdue == 0
    assert sum(s.received_by_month) == 41 and sum(s.completed_by_month) == 41


def test_seed_2024_seven_completed_one_in_follow_up(i18n):
    s = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21))
    t = s.total
    assert (t.received, t.completed, t.in_progress, t.rejected, t.waiting) == (8, 7, 1, 0, 0)
    assert t.verified == 8 and t.answered == 7
    # The one in follow-up is due 22 May: on 21 May it is open but not yet late.
    assert (t.backlog, t.overdue, t.backlog_carried) == (1, 0, 0)
    assert s.received_by_month[:5] == [2, 2, 2, 1, 1]
    assert s.completed_by_month[:5] == [2, 2, 2, 1, 0]
    # Same object feeds the text: the numbers there are these.
    with i18n.context(), i18n.use_locale("en"):
        text = summary(s)
    assert "<b>8</b>" in text and "<b>7</b> (88%)" in text


def test_overdue_by_step_deadline():
    facts = [
        # Never verified, verify_due long past.
        fact(1, at(2024, 3, 4), "submitted", agency_id=None),
        # Assigned, follow-up due 15 Mar, still not answered.
        fact(2, at(2024, 3, 4), "in_progress", assigned_at=at(2024, 3, 6), followup_due=date(2024, 3, 15)),
        # Answered and waiting for the reporter: the reporter's turn, not late.
        fact(3, at(2024, 3, 4), "answered", assigned_at=at(2024, 3, 5), followup_due=date(2024, 3, 12),
             answered_at=at(2024, 3, 8)),
        # Assigned recently, still in time.
        fact(4, at(2024, 3, 18), "assigned", assigned_at=at(2024, 3, 19), followup_due=date(2024, 3, 26)),
    ]
    s = compute(facts, 2024, CAL, today=date(2024, 3, 20))
    assert s.total.backlog == 4
    assert s.total.overdue == 2
    assert s.by_agency[None].overdue == 1 and s.by_agency[1].overdue == 1
    assert s.total.in_progress == 2 and s.total.waiting == 1 and s.total.answered == 1


def test_carry_over_counts_in_next_years_backlog_but_not_its_intake():
    old_open = fact(1, at(2023, 12, 1), "in_progress", assigned_at=at(2023, 12, 4),
                    followup_due=date(2023, 12, 11))
    # Open at the end of 2023, closed in January 2024: carried into 2023's backlog only.
    closed_later = closed(2, at(2023, 12, 20), at(2024, 1, 10))
    new = fact(3, at(2024, 2, 1), "submitted", verify_due=date(2024, 2, 6))
    facts = [old_open, closed_later, new]

    y2023 = compute(facts, 2023, CAL, today=date(2024, 6, 1))
    assert y2023.as_of == date(2023, 12, 31)
    assert y2023.total.received == 2
    assert y2023.total.backlog == 2 and y2023.total.backlog_carried == 0
    assert y2023.total.overdue == 1  # report 2's verification was in time (assigned on day 0)

    y2024 = compute(facts, 2024, CAL, today=date(2024, 6, 1))
    assert y2024.total.received == 1
    assert y2024.total.backlog == 2 and y2024.total.backlog_carried == 1
    assert y2024.total.overdue == 2 and y2024.total.overdue_carried == 1


def test_working_days_rating_and_reopened():
    f = closed(1, at(2024, 4, 1), at(2024, 4, 5), rating=4, reopened_count=1)
    g = closed(2, at(2024, 4, 1), at(2024, 4, 8), rating=2)
    s = compute([f, g], 2024, CAL, today=date(2024, 6, 1))
    # 1 Apr (Mon) -> 5 Apr (Fri): 4 working days; -> 8 Apr (Mon): 5.
    assert (s.total.completion_days_sum, s.total.completion_timed) == (9, 2)
    assert s.total.avg_completion_days == 4.5
    assert s.total.avg_rating == 3
    assert s.total.reopened == 1


def test_rejected_report_left_the_backlog_when_rejected():
    r = fact(1, at(2023, 12, 1), "rejected", ended_event_at=at(2024, 1, 15))
    assert compute([r], 2023, CAL, today=date(2024, 6, 1)).total.backlog == 1
    assert compute([r], 2024, CAL, today=date(2024, 6, 1)).total.backlog == 0


@pytest.fixture
def i18n() -> I18n:
    return build_i18n("id")


def test_chart_is_a_png_in_both_languages(i18n):
    s = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21))
    for locale in ("id", "en"):
        with i18n.context(), i18n.use_locale(locale):
            png = statistics_chart(s)
        assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_completed_within_the_completion_ceiling_or_late_by_the_answer():
    due = date(2024, 3, 15)
    facts = [
        closed(1, at(2024, 3, 1), at(2024, 3, 15), completion_due=due),  # answered on the due day
        # Answered a day late; closed by the reporter's acceptance even later.
        replace(closed(2, at(2024, 3, 1), at(2024, 3, 20), completion_due=due, agency_id=2),
                answered_at=at(2024, 3, 18)),
        # Answered in time, closed by itself after the reply window: in time all the same.
        replace(closed(3, at(2024, 3, 1), at(2024, 4, 2), completion_due=due), answered_at=at(2024, 3, 14)),
        closed(4, at(2024, 3, 1), at(2024, 3, 5)),  # no due date: neither
        fact(5, at(2024, 3, 1), "in_progress", completion_due=date(2024, 3, 2)),  # open: not completed
    ]
    s = compute(facts, 2024, CAL, today=date(2024, 5, 21))
    assert (s.total.completed, s.total.completed_in_time, s.total.completed_late) == (4, 2, 1)
    assert (s.by_agency[1].completed_in_time, s.by_agency[1].completed_late) == (2, 0)
    assert (s.by_agency[2].completed_in_time, s.by_agency[2].completed_late) == (0, 1)
