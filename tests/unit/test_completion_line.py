"""The completion deadline line on cards (issue 13): working days of the Indonesian calendar,
both languages, the countdown only while nobody has answered."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.ui.report_render import completion_line
from storage.models import Report

CAL = WorkCalendar("Asia/Makassar")
DUE = date(2024, 5, 31)  # a Friday


def line(status: str, today: date, locale: str = "en") -> str | None:
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        return completion_line(Report(status=status, completion_due=DUE), today, CAL, locale)


@pytest.mark.parametrize(("today", "en", "id_"), [
    # Tue 21 May: Wed 22, (Thu 23 Waisak), Fri 24, Mon 27 .. Fri 31.
    (date(2024, 5, 21), "May 31, 2024 (7 working day(s) left)", "31 Mei 2024 (7 hari kerja lagi)"),
    (date(2024, 5, 31), "May 31, 2024 (today is the last day)", "31 Mei 2024 (hari ini hari terakhir)"),
    (date(2024, 6, 2), "⚠️ May 31, 2024: passed", "⚠️ 31 Mei 2024: sudah terlewati"),  # Sunday
    (date(2024, 6, 4), "⚠️ May 31, 2024: passed, 2 working day(s) late",
     "⚠️ 31 Mei 2024: sudah terlewati, terlambat 2 hari kerja"),
])
def test_the_countdown_while_the_ceiling_runs(today, en, id_):
    assert line("in_progress", today) == "<b>Completion deadline:</b> " + en
    assert line("submitted", today, "id") == "<b>Batas penyelesaian:</b> " + id_


def test_answered_or_completed_shows_the_date_only_and_an_other_ending_nothing():
    late = date(2024, 6, 10)
    assert line("answered", late) == "<b>Completion deadline:</b> May 31, 2024"
    assert line("closed", late, "id") == "<b>Batas penyelesaian:</b> 31 Mei 2024"
    for status in ("rejected", "archived", "withdrawn"):
        assert line(status, late) is None
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("en"):
        assert completion_line(Report(status="in_progress", completion_due=None), late, CAL, "en") is None
