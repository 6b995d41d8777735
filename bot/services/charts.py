"""The statistics chart as a PNG: received vs completed per month, and the backlog per agency.

Drawn from the very ``YearStats`` the text comes from, so the two cannot disagree. Uses the
object-oriented matplotlib API on an Agg canvas: no pyplot global state, no display needed,
safe to call from a worker thread.
"""

from __future__ import annotations

import io

from aiogram.utils.i18n import gettext as _
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.services.statistics import YearStats
from bot.ui.formatting import short_date
from bot.ui.render import truncate


def _months() -> list[str]:
    return [_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"),
            _("Sep"), _("Oct"), _("Nov"), _("Dec")]

MAX_AGENCY_BARS = 12


def statistics_chart(stats: YearStats) -> bytes:
    """Labels in the current gettext locale (``asyncio.to_thread`` carries the context)."""
    fig = Figure(figsize=(10, 9), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.1]})

    x = range(12)
    width = 0.4
    received = top.bar([i - width / 2 for i in x], stats.received_by_month, width,
                       label=_("Received"), color="#4c72b0")
    completed = top.bar([i + width / 2 for i in x], stats.completed_by_month, width,
                        label=_("Completed"), color="#55a868")
    top.bar_label(received, fontsize=8)
    top.bar_label(completed, fontsize=8)
    top.set_xticks(list(x), _months())
    top.set_title(_("Reports {year}: received vs completed, by month received").format(year=stats.year))
    top.legend()
    top.yaxis.get_major_locator().set_params(integer=True)

    rows = stats.agencies_by_backlog()[:MAX_AGENCY_BARS]
    if rows:
        names = [truncate(stats.agency_name(a), 40) for a, _f in rows][::-1]
        overdue = [f.overdue for _a, f in rows][::-1]
        on_time = [f.backlog - f.overdue for _a, f in rows][::-1]
        y = range(len(rows))
        bottom.barh(list(y), overdue, color="#c44e52", label=_("Overdue"))
        b2 = bottom.barh(list(y), on_time, left=overdue, color="#dd8452", label=_("Open, in time"))
        bottom.bar_label(b2, labels=[str(f.backlog) for _a, f in rows][::-1], fontsize=8)
        bottom.set_yticks(list(y), names, fontsize=8)
        bottom.legend()
        bottom.xaxis.get_major_locator().set_params(integer=True)
    else:
        bottom.text(0.5, 0.5, _("No backlog"), ha="center", va="center", transform=bottom.transAxes)
        bottom.set_axis_off()
    bottom.set_title(_("Backlog per agency on {date}").format(date=short_date(stats.as_of)))
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
