"""The statistics chart as a PNG: received vs completed per month, and the backlog per agency.

Drawn from the very ``YearStats`` the text comes from, so the two cannot disagree. Names come
from the directory as typed, so they are drawn with ``parse_math=False``: "Rp 5$ …$" would
otherwise be read as matplotlib mathtext and crash (or garble) the chart. Uses the
object-oriented matplotlib API on an Agg canvas: no pyplot global state, no display needed,
safe to call from a worker thread.
"""

from __future__ import annotations

import io
import textwrap

from aiogram.utils.i18n import gettext as _
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.services.statistics import YearStats
from bot.ui.formatting import short_date
from bot.ui.render import truncate


def _months() -> list[str]:
    return [_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"),
            _("Sep"), _("Oct"), _("Nov"), _("Dec")]

# Drawn for a phone: Telegram shows a photo about 390 points wide, so the figure is narrow and
# tall (6 inches at 150 dpi = 900 px) and its type large enough to survive the scaling (13 pt
# here is about 11 pt on the screen). Months are rows; each agency's name sits above its bar,
# so long names keep the full width instead of squeezing the bars.
WIDTH_IN = 6.0
DPI = 150
FONT = 13
SMALL = 11
MAX_AGENCY_BARS = 10
NAME_CHARS = 48
TITLE_CHARS = 44


def _style(ax, title: str) -> None:
    ax.set_title(textwrap.fill(title, TITLE_CHARS), fontsize=FONT + 1, loc="left", fontweight="bold",
                 pad=32)
    ax.legend(fontsize=SMALL, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2, handlelength=1.2)
    ax.tick_params(axis="x", labelsize=SMALL)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(x=0.12)
    ax.spines[["top", "right"]].set_visible(False)


def _labels(values: list[int]) -> list[str]:
    return [str(v) if v else "" for v in values]  # no column of zeros for empty months


def statistics_chart(stats: YearStats) -> bytes:
    """Labels in the current gettext locale (``asyncio.to_thread`` carries the context)."""
    rows = stats.agencies_by_backlog()[:MAX_AGENCY_BARS]
    categories = stats.categories_by_received()[:MAX_AGENCY_BARS]
    months_in, agencies_in = 5.0, 1.5 + 0.55 * max(len(rows), 2)
    # The category panel only where a category tree is in use (issue 12).
    heights = [months_in, agencies_in] + ([1.5 + 0.75 * len(categories)] if categories else [])
    fig = Figure(figsize=(WIDTH_IN, sum(heights)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(heights), 1, height_ratios=heights)
    top, bottom = axes[0], axes[1]

    # Months as rows, January on top: two bars each, their numbers at the ends.
    y = [11 - i for i in range(12)]
    height = 0.4
    received = top.barh([v + height / 2 for v in y], stats.received_by_month, height,
                        label=_("Received"), color="#4c72b0")
    completed = top.barh([v - height / 2 for v in y], stats.completed_by_month, height,
                         label=_("Completed"), color="#55a868")
    top.bar_label(received, labels=_labels(stats.received_by_month), fontsize=SMALL, padding=3)
    top.bar_label(completed, labels=_labels(stats.completed_by_month), fontsize=SMALL, padding=3)
    top.set_yticks(y, _months(), fontsize=FONT)
    top.tick_params(axis="y", length=0)
    _style(top, _("Reports {year}: received vs completed, by month received").format(year=stats.year))

    backlog_title = _("Backlog per agency on {date}").format(date=short_date(stats.as_of))
    if rows:
        y = [len(rows) - 1 - i for i in range(len(rows))]  # the heaviest backlog on top
        overdue = [f.overdue for _a, f in rows]
        on_time = [f.backlog - f.overdue for _a, f in rows]
        bottom.barh(y, overdue, 0.45, color="#c44e52", label=_("Overdue"))
        b2 = bottom.barh(y, on_time, 0.45, left=overdue, color="#dd8452", label=_("Open, in time"))
        bottom.bar_label(b2, labels=[str(f.backlog) for _a, f in rows], fontsize=SMALL, padding=3)
        for row, (agency_id, _f) in zip(y, rows, strict=True):
            bottom.text(0, row + 0.27, truncate(stats.agency_name(agency_id), NAME_CHARS),
                        fontsize=SMALL, va="bottom", ha="left", parse_math=False)
        bottom.set_yticks([])
        bottom.set_ylim(-0.5, len(rows) - 0.1)
        _style(bottom, backlog_title)
    else:
        bottom.text(0.5, 0.5, _("No backlog"), ha="center", va="center", fontsize=FONT,
                    transform=bottom.transAxes)
        bottom.set_axis_off()
        bottom.set_title(textwrap.fill(backlog_title, TITLE_CHARS), fontsize=FONT + 1, loc="left",
                         fontweight="bold")
    if categories:
        _category_panel(axes[2], stats, categories)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _category_panel(ax, stats: YearStats, rows) -> None:
    """Received and completed per category, the busiest first; names above their bars as for
    the agencies."""
    y = [len(rows) - 1 - i for i in range(len(rows))]
    received = ax.barh([v + 0.2 for v in y], [f.received for _c, f in rows], 0.35,
                       color="#4c72b0", label=_("Received"))
    completed = ax.barh([v - 0.2 for v in y], [f.completed for _c, f in rows], 0.35,
                        color="#55a868", label=_("Completed"))
    ax.bar_label(received, labels=_labels([f.received for _c, f in rows]), fontsize=SMALL, padding=3)
    ax.bar_label(completed, labels=_labels([f.completed for _c, f in rows]), fontsize=SMALL, padding=3)
    for row, (category_id, _f) in zip(y, rows, strict=True):
        ax.text(0, row + 0.42, truncate(stats.category_name(category_id), NAME_CHARS),
                fontsize=SMALL, va="bottom", ha="left", parse_math=False)
    ax.set_yticks([])
    ax.set_ylim(-0.6, len(rows) - 0.1 + 0.4)
    _style(ax, _("Reports {year} per category: received and completed").format(year=stats.year))
