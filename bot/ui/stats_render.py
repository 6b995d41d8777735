"""The text of /statistik, from the ``YearStats`` the chart is drawn from as well.

Read on a phone: the summary is a handful of short lines (it fits a photo caption, so summary
and chart arrive as one message); the agencies come on demand, two lines each.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.domain.enums import Channel
from bot.services.statistics import Figures, YearStats
from bot.ui.formatting import decimal, number, percent, short_date
from bot.ui.render import esc
from bot.ui.walk_in_render import channel_label

n = number


def _rating(f: Figures) -> str:
    if not f.rated:
        return _("Rating: none yet")
    return _("Average rating: {r} of 5 ({n} rated)").format(r=decimal(f.avg_rating), n=n(f.rated))


def _ceiling(f: Figures) -> str:
    """Of the completed: answered within the completion ceiling by kind of report, or late
    ("" while none was completed with a due date)."""
    if not (f.completed_in_time or f.completed_late):
        return ""
    return _("{in_time} within the completion deadline, {late} late").format(
        in_time=n(f.completed_in_time), late=n(f.completed_late))


def summary(stats: YearStats) -> str:
    """The year at a glance: intake and completion, what is open now, speed, rating."""
    t = stats.total
    lines = [
        _("📊 <b>Statistics {year}</b>").format(year=stats.year),
        _("Reports received in {year}; backlog as of {date}.").format(
            year=stats.year, date=short_date(stats.as_of)),
        "",
        _("Received <b>{received}</b> · followed up {answered} · completed <b>{completed}</b> ({rate})").format(
            received=n(t.received), answered=n(t.answered), completed=n(t.completed),
            rate=percent(t.completion_rate)) + (": " + ceiling if (ceiling := _ceiling(t)) else ""),
        _("Now: {waiting} awaiting verification · {in_progress} at the agency · {rejected} rejected").format(
            waiting=n(t.waiting), in_progress=n(t.in_progress), rejected=n(t.rejected)),
        _("Backlog (tunggakan) <b>{backlog}</b>, of which overdue <b>{overdue}</b>").format(
            backlog=n(t.backlog), overdue=n(t.overdue)),
    ]
    if t.backlog_carried:
        lines.append(_("Of the backlog, {carried} came in before {year} ({overdue} of them overdue)").format(
            carried=n(t.backlog_carried), year=stats.year, overdue=n(t.overdue_carried)))
    lines += [
        _("First response after {first} working days, completion after {done} on average").format(
            first=decimal(t.avg_response_days), done=decimal(t.avg_completion_days)),
        _rating(t) + (" · " + _("reopened {n}").format(n=n(t.reopened)) if t.reopened else ""),
    ]
    if t.forwarded:
        lines.append(_("Entered into SP4N-LAPOR!: {n}").format(n=n(t.forwarded)))
    return "\n".join(lines)


def channel_parts(stats: YearStats) -> list[str]:
    """Where the year's reports came in (HTML parts), beside the agencies and categories; nothing
    while every report came through Telegram."""
    if not set(stats.by_channel) - {Channel.TELEGRAM}:
        return []
    channels = sorted(stats.by_channel.items(), key=lambda kv: (-kv[1], kv[0]))
    return [_("<b>Received via</b>"), "\n".join(f"• {channel_label(c)}: {n(k)}" for c, k in channels)]


def agency_rows(stats: YearStats) -> list[tuple[int | None, Figures]]:
    """Agencies with anything to show, the heaviest backlog first; "not assigned yet" last."""
    rows = [(a, f) for a, f in stats.by_agency.items() if f.received or f.backlog]
    return sorted(rows, key=lambda r: (r[0] is None, -r[1].backlog, -r[1].overdue, stats.agency_name(r[0])))


def agency_parts(stats: YearStats) -> list[str]:
    """Per agency, two lines (HTML parts for ``split_html``)."""
    rows = agency_rows(stats)
    parts = [_("🏢 <b>Per agency, {year}</b> (backlog as of {date})").format(
        year=stats.year, date=short_date(stats.as_of))]
    if not rows:
        parts.append(_("No reports this year."))
    for agency_id, f in rows:
        parts.append(f"<b>{esc(stats.agency_name(agency_id))}</b>\n" + _(
            "received {received} · completed {completed} ({rate}) · backlog {backlog}, overdue {overdue} · "
            "first response {first} working days"
        ).format(received=n(f.received), completed=n(f.completed), rate=percent(f.completion_rate),
                 backlog=n(f.backlog), overdue=n(f.overdue), first=decimal(f.avg_response_days))
            + (" · " + ceiling if (ceiling := _ceiling(f)) else ""))
    return parts


def kecamatan_parts(stats: YearStats) -> list[str]:
    """Per kecamatan, its own reports and those of its kelurahan and desa summed, two lines each
    (HTML parts); nothing where no report concerns a kecamatan or a village."""
    rows = [(k, f) for k, f in stats.by_kecamatan.items() if f.received or f.backlog]
    if not rows:
        return []
    rows.sort(key=lambda r: (-r[1].backlog, -r[1].overdue, stats.agency_name(r[0])))
    parts = [_("🏘 <b>Per kecamatan, {year}</b> (its kelurahan and desa included)").format(year=stats.year)]
    for kecamatan_id, f in rows:
        parts.append(f"<b>{esc(stats.agency_name(kecamatan_id))}</b>\n" + _(
            "received {received} · completed {completed} ({rate}) · backlog {backlog}, overdue {overdue}"
        ).format(received=n(f.received), completed=n(f.completed), rate=percent(f.completion_rate),
                 backlog=n(f.backlog), overdue=n(f.overdue)))
    return parts


def category_parts(stats: YearStats) -> list[str]:
    """Per category, a line each (HTML parts); nothing where no category tree is in use."""
    categories = stats.categories_by_received()
    if not categories:
        return []
    return [_("<b>Per category</b> (received · completed · backlog)"), "\n".join(
        f"• {esc(stats.category_name(c))}: {n(f.received)} · {n(f.completed)} · {n(f.backlog)}"
        for c, f in categories
    )]
