"""The weekly summary says what each number counts (issue 14): "overdue" covers every open report
past its deadline whatever week it came in, so it may exceed "received this week"."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services.notices import WeeklySummary
from bot.services.statistics import Figures
from bot.ui.notices import Context, render

MONDAY, NEXT_MONDAY = date(2026, 11, 30), date(2026, 12, 7)


@pytest.mark.parametrize(
    ("locale", "received", "overdue", "why", "last_day", "average"),
    [
        ("id", "Diterima minggu ini: 2", "Masih terbuka dan lewat tenggat: 9",
         "bisa lebih besar daripada laporan yang diterima minggu ini", "6 Des 2026", "2,5 hari kerja"),
        ("en", "Received this week: 2", "Open and overdue: 9",
         "can be higher than the reports received this week", "Dec 6, 2026", "2.5 working days"),
    ],
)
def test_the_summary_explains_its_numbers(locale, received, overdue, why, last_day, average):
    figures = {
        1: Figures(received=2, completed=4, overdue=9, response_days_sum=5, responded=2),
        None: Figures(received=1, overdue=1),
    }
    notice = WeeklySummary(figures, {1: "Dinas PUPR"}, MONDAY, NEXT_MONDAY)
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        text = "\n".join(render(notice, Context(locale, WorkCalendar("Asia/Makassar"))).parts)
    assert received.replace("2", "3") in text  # all agencies: 2 + 1
    assert received in text and overdue in text
    assert why in text and last_day in text  # overdue is counted on the week's last day
    assert average in text
