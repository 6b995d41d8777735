"""/statistik on a phone (issue 14): a summary short enough to be the chart's caption, the
agencies on demand, a chart drawn narrow and tall with large type."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import date

import pytest

from bot.i18n import build_i18n
from bot.services.statistics import Figures
from bot.ui.charts import statistics_chart
from bot.ui.render import CAPTION_LIMIT, utf16_len
from bot.ui.stats_render import agency_parts, summary
from tests.stats_oracle import compute
from tests.unit.test_statistics import CAL, seed_facts

BIG = Figures(received=1_234_567, verified=1_200_000, waiting=12_345, in_progress=234_567, answered=987_654,
              completed=876_543, rejected=34_567, archived=1_234, reopened=4_321, backlog=345_678,
              backlog_carried=123_456, overdue=234_567, overdue_carried=99_999,
              response_days_sum=7, responded=2, completion_days_sum=21,
              completion_timed=2, rating_sum=9, rated=2, completed_in_time=765_432, completed_late=111_111)


@pytest.mark.parametrize("locale", ["id", "en"])
def test_the_summary_fits_a_caption_even_with_a_million_reports(locale):
    stats = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21))
    stats = replace(stats, total=BIG)
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        text = summary(stats)
    assert utf16_len(text) <= CAPTION_LIMIT
    assert len(text.splitlines()) <= 10
    assert ("1.234.567" if locale == "id" else "1,234,567") in text


def test_agencies_heaviest_backlog_first_unassigned_last():
    stats = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21), agency_names={1: "Dinas A", 2: "Dinas B"})
    stats = replace(stats, by_agency={None: Figures(received=5, backlog=5), 1: Figures(received=2, backlog=1),
                                      2: Figures(received=1, backlog=3, overdue=2), 3: Figures()})
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("id"):
        parts = agency_parts(stats)
    names = [p.split("</b>")[0].removeprefix("<b>") for p in parts[1:]]
    assert names == ["Dinas B", "Dinas A", "Belum didisposisikan"]  # nothing to show for #3


def test_the_chart_is_drawn_for_a_phone_screen():
    stats = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21))
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("id"):
        png = statistics_chart(stats)
    width, height = struct.unpack(">II", png[16:24])
    # Narrow and tall: at 900 px it is shown at about 0.43 scale on a 390-point screen, where
    # 11-13 pt type stays readable; the old 1000×900 landscape figure shrank it to 4 px.
    assert width == 900 and height > width


def test_dollar_signs_in_names_do_not_crash_the_chart():
    """Issue 10: "$…$" in an agency name was read as matplotlib mathtext; an unbalanced or
    unknown expression crashed /statistik for everyone."""
    names = {1: "Dinas $Keuangan", 2: r"UPT $\frac{a}{$ Pasar", 3: "Rp 5$ dan $x^2"}
    stats = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21), agency_names=names,
                    category_names={7: r"Retribusi $\undefinedmacro$"})
    stats = replace(stats, by_agency={1: Figures(received=2, backlog=1), 2: Figures(received=1, backlog=3),
                                      3: Figures(received=1, backlog=2)},
                    by_category={7: Figures(received=3, completed=1)})
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("id"):
        png = statistics_chart(stats)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_channels_are_listed_once_complaints_come_in_elsewhere_too():
    from bot.ui.stats_render import channel_parts

    stats = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21))
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("id"):
        assert channel_parts(replace(stats, by_channel={"telegram": 12})) == []
        parts = channel_parts(replace(stats, by_channel={"telegram": 12, "counter": 3, "phone": 1250}))
    assert parts[0] == "<b>Masuk lewat</b>"
    assert parts[1].splitlines() == ["• Telepon: 1.250", "• Telegram: 12", "• Loket: 3"]


@pytest.mark.parametrize(("locale", "words"), [("id", "2 dalam batas penyelesaian, 1 terlambat"),
                                                ("en", "2 within the completion deadline, 1 late")])
def test_completed_within_the_ceiling_or_late_overall_and_per_agency(locale, words):
    stats = compute(seed_facts(), 2024, CAL, today=date(2024, 5, 21), agency_names={1: "Dinas A"})
    ceiling = Figures(received=4, completed=3, completed_in_time=2, completed_late=1)
    stats = replace(stats, total=ceiling, by_agency={1: ceiling, 2: Figures(received=1, backlog=1)})
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        text, parts = summary(stats), agency_parts(stats)
    assert words in text
    (a,) = [p for p in parts if "Dinas A" in p]
    (other,) = [p for p in parts if "#2" in p]
    assert words in a
    assert "batas penyelesaian" not in other and "completion deadline" not in other  # nothing completed
