"""Rendering a report for its reporter: the list line, the card and the timeline.

Everything a citizen sees about an officer is the agency's name: officers' personal names are
never shown (they are staff acting for the agency), and internal notes stay internal. Officer and
admin renderers live beside this one and may show more.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.domain.categories import display_name
from bot.domain.deadlines import REPLY_DAYS, is_overdue, working_days_left
from bot.domain.enums import ActorRole, Classification, EventKind, Privacy, ReportStatus
from bot.domain.lapor import lapor_report_url
from bot.domain.lifecycle import CEILING_RUNS, TERMINAL
from bot.domain.publication import disclosure
from bot.domain.workdays import WorkCalendar
from bot.services.my_reports import (
    PAGE_SIZE,
    DeadlineKind,
    MyReportsPage,
    MyReportView,
    next_deadline,
)
from bot.ui.formatting import coordinate, long_date, short_date, short_datetime
from bot.ui.render import esc, esc_truncate, split_html
from storage.models import Report, ReportEvent

LIST_TITLE_LIMIT = 80
# Kinds whose note is written for the reporter (a question, an answer, a reason). Other notes,
# e.g. an officer's "not our authority" explanation or an admin's internal note, stay internal.
CITIZEN_VISIBLE_NOTES = frozenset(
    {
        EventKind.INFO_REQUESTED,
        EventKind.REPORTER_REPLIED,
        EventKind.REPORTER_ADDED,
        EventKind.ANSWERED,
        EventKind.REJECTED,
        EventKind.POSTPONED,
        EventKind.ACCEPTED,
        EventKind.DISPUTED,
    }
)
HIDDEN_KINDS = frozenset({EventKind.NOTE})
# What a follower sees of someone else's report's timeline (as its public page shows it).
FOLLOWER_EVENTS = frozenset({
    EventKind.SUBMITTED, EventKind.ASSIGNED, EventKind.REROUTED, EventKind.REJECTED, EventKind.POSTPONED,
    EventKind.ARCHIVED, EventKind.TAKEN, EventKind.INFO_REQUESTED, EventKind.ANSWERED, EventKind.RETURNED,
    EventKind.ACCEPTED, EventKind.DISPUTED, EventKind.AUTO_CLOSED, EventKind.CHECKIN_REOPENED,
    EventKind.WITHDRAWN,
})


# -- words -------------------------------------------------------------------------------------
def status_label(status: str) -> str:
    labels = {
        ReportStatus.SUBMITTED: _("Waiting for verification"),
        ReportStatus.POSTPONED: _("Postponed by the admin"),
        ReportStatus.ASSIGNED: _("Forwarded to the agency"),
        ReportStatus.IN_PROGRESS: _("Being followed up"),
        ReportStatus.AWAITING_REPORTER: _("Waiting for your reply"),
        ReportStatus.ANSWERED: _("Answered"),
        ReportStatus.RETURNED: _("Being forwarded to another agency"),
        ReportStatus.CLOSED: _("Completed"),
        ReportStatus.REJECTED: _("Rejected"),
        ReportStatus.ARCHIVED: _("Archived"),
        ReportStatus.WITHDRAWN: _("Withdrawn by the reporter"),
    }
    return labels.get(status, status)  # type: ignore[call-overload]


def supporters_label(count: int) -> str:
    """How many citizens follow a report as their problem too (never who)."""
    return _("{n} other citizen(s)").format(n=count)


def classification_label(classification: str) -> str:
    labels = {
        Classification.COMPLAINT: _("Complaint"),
        Classification.ASPIRATION: _("Aspiration"),
        Classification.INFORMATION: _("Information request"),
    }
    return labels.get(classification, classification)  # type: ignore[call-overload]


def privacy_label(privacy: str) -> str:
    labels = {
        Privacy.PUBLIC: _("Regular: the agency sees your name"),
        Privacy.ANONYMOUS: _("Anonymous: your identity is hidden from the agency"),
        Privacy.CONFIDENTIAL: _("Confidential: the content is never made public"),
    }
    return labels.get(privacy, privacy)  # type: ignore[call-overload]


def deadline_line(kind: DeadlineKind, due: date, locale: str) -> str:
    when = long_date(due, locale)
    match kind:
        case DeadlineKind.VERIFY:
            return _("Verification by {date}").format(date=when)
        case DeadlineKind.FOLLOWUP:
            return _("Agency answer due by {date}").format(date=when)
        case DeadlineKind.REPLY:
            return _("You may reply until {date}").format(date=when)


def completion_line(report: Report, today: date, cal: WorkCalendar, locale: str, *,
                    long: bool = False) -> str | None:
    """The completion ceiling by kind of report (deadlines.completion_due), counted down in working
    days while it runs (nobody answered yet); only the date once answered or completed; nothing
    for a report that ended otherwise (rejected, archived, withdrawn). ``long``: the citizen's
    date style."""
    due = report.completion_due
    if due is None or (report.status in TERMINAL and report.status != ReportStatus.CLOSED):
        return None
    when = long_date(due, locale) if long else short_date(due, locale)
    if report.status not in CEILING_RUNS:
        return _("<b>Completion deadline:</b> {date}").format(date=when)
    left = working_days_left(due, today, cal)
    if is_overdue(due, today):
        if left < 0:
            return _("<b>Completion deadline:</b> ⚠️ {date}: passed, {n} working day(s) late").format(
                date=when, n=-left)
        return _("<b>Completion deadline:</b> ⚠️ {date}: passed").format(date=when)
    if left == 0:
        return _("<b>Completion deadline:</b> {date} (today is the last day)").format(date=when)
    return _("<b>Completion deadline:</b> {date} ({n} working day(s) left)").format(date=when, n=left)


def event_actor(event: ReportEvent, agency_names: dict[int, str], *, citizen: str) -> str:
    """Who did it; ``citizen`` names the reporter (the card's reader, or "Reporter" for staff)."""
    match event.actor_role:
        case ActorRole.CITIZEN:
            return citizen
        case ActorRole.ADMIN:
            return _("Admin LAPOR!")
        case ActorRole.OFFICER:
            name = agency_names.get(event.agency_id) if event.agency_id else None
            return esc(name) if name else _("The agency")
        case _:
            return _("LAPOR! system")


def _what(event: ReportEvent, agency_names: dict[int, str]) -> str:
    agency = esc(agency_names.get(event.agency_id, "")) if event.agency_id else ""
    match event.kind:
        case EventKind.SUBMITTED:
            return _("Report submitted")
        case EventKind.ASSIGNED:
            return (
                _("Forwarded to {agency}").format(agency=agency)
                if agency
                else _("Forwarded to the agency")
            )
        case EventKind.REROUTED:
            return (
                _("Forwarded to another agency: {agency}").format(agency=agency)
                if agency
                else _("Forwarded to another agency")
            )
        case EventKind.REJECTED:
            return _("Report rejected")
        case EventKind.POSTPONED:
            return _("Report postponed")
        case EventKind.ARCHIVED:
            return _("Report archived")
        case EventKind.WITHDRAWN:
            return _("Report withdrawn")
        case EventKind.TAKEN:
            return _("Follow-up started")
        case EventKind.INFO_REQUESTED:
            return _("Asked you for more information")
        case EventKind.REPORTER_REPLIED:
            return _("Sent more information")
        case EventKind.REPORTER_ADDED:
            return _("Added information")
        case EventKind.ANSWERED:
            return _("Answered the report")
        case EventKind.RETURNED:
            return _("Returned to the admin to be forwarded elsewhere")
        case EventKind.ACCEPTED:
            return _("Accepted the answer")
        case EventKind.DISPUTED:
            return _("Disputed the answer; the report was reopened")
        case EventKind.AUTO_CLOSED:
            return _("Completed: no reply within {days} working days").format(days=REPLY_DAYS)
        case EventKind.CHECKIN_REOPENED:
            return _("Reopened: the problem is not solved yet")
        case EventKind.LAPOR_RECORDED:
            return _("Entered into SP4N-LAPOR! as number {number}").format(number=esc(event.note or ""))
    if event.to_status:
        return _("Status changed: {status}").format(status=status_label(event.to_status))
    return _("Updated")


# -- the list ----------------------------------------------------------------------------------
def render_my_reports_page(page: MyReportsPage, locale: str) -> str:
    """One message (5 short entries fit easily within 4096 characters)."""
    if page.total == 0:
        return _("You have not filed any reports yet. Send /lapor to file one.")
    lines = [
        _("<b>My reports</b> ({total}) · page {page} of {pages}").format(
            total=page.total, page=page.page + 1, pages=page.pages
        )
    ]
    for n, report in enumerate(page.reports, start=page.page * PAGE_SIZE + 1):
        lines.append("")
        lines.append(render_report_line(report, n, locale, following=report.citizen_id != page.citizen_id))
    lines.append("")
    lines.append(_("Tap a report to see its details and timeline."))
    return "\n".join(lines)


def render_report_line(report: Report, n: int, locale: str, *, following: bool = False) -> str:
    """``following``: someone else's report the citizen follows; its title only once public."""
    title = report.title
    if following and not disclosure(report.privacy, report.assigned_at).content:
        title = None
    lines = [
        f"<b>{n}.</b> <code>{esc(report.tracking_id)}</code> · "
        f"{classification_label(report.classification)}" + (" · " + _("🤝 followed") if following else ""),
        f"<b>{esc_truncate(title, LIST_TITLE_LIMIT)}</b>" if title else _("(content not yet published)"),
        _("Status: {status}").format(status=status_label(report.status)),
    ]
    if (due := next_deadline(report)) is not None:
        lines.append(deadline_line(*due, locale))
    return "\n".join(lines)


# -- one report --------------------------------------------------------------------------------
def render_citizen_report(
    view: MyReportView, cal: WorkCalendar, locale: str, *, lapor_url: str | None = None
) -> list[str]:
    """The card and the timeline, as few messages as fit Telegram's limit. ``lapor_url``: the
    template of a report's page on lapor.go.id (``[lapor] report_url``)."""
    tz = cal.tz
    if view.following:
        return split_html(follower_card_parts(view, cal, locale) + follower_timeline_parts(view, tz, locale))
    return split_html(
        citizen_card_parts(view, cal, locale, lapor_url=lapor_url) + citizen_timeline_parts(view, tz, locale)
    )


def follower_card_parts(view: MyReportView, cal: WorkCalendar, locale: str) -> list[str]:
    """Someone else's report the citizen follows: what its public page shows, nothing of who
    filed it (not even the privacy they chose), the place only when the page shows it."""
    r, tz = view.report, cal.tz
    shown = disclosure(r.privacy, r.assigned_at)
    agency = view.agency_names.get(r.agency_id) if r.agency_id else None
    head = [
        f"<b>{esc(r.tracking_id)}</b> · {classification_label(r.classification)}",
        _("🤝 You follow this report as your problem too."),
        _("<b>Status:</b> {status}").format(status=status_label(r.status)),
    ]
    if (due := next_deadline(r)) is not None:
        head.append(deadline_line(*due, locale))
    if completion := completion_line(r, cal.today(), cal, locale, long=True):
        head.append(completion)
    head.append(_("<b>Agency:</b> {agency}").format(agency=esc(agency) if agency else _("not yet assigned")))
    if r.category is not None:
        head.append(_("<b>Category:</b> {category}").format(
            category=esc(display_name(r.category.name, r.category.name_en, locale))))
    if r.supporters:
        head.append(_("<b>Also reported by:</b> {supporters}").format(supporters=supporters_label(r.supporters)))
    if shown.place and (location := location_text(r)):
        head.append(_("<b>Location:</b> {location}").format(location=location))
    head.append(_("<b>Submitted:</b> {when}").format(when=short_datetime(r.submitted_at, tz, locale)))
    if not shown.content:
        return ["\n".join(head), "", _("(content not yet published)")]
    return card_parts(head, r)


def follower_timeline_parts(view: MyReportView, tz: ZoneInfo, locale: str) -> list[str]:
    """The public timeline: what happened and when, no notes (they are the reporter's)."""
    parts = ["", _("<b>Timeline</b>")]
    for event in view.events:
        if event.kind not in FOLLOWER_EVENTS:
            continue
        when = short_datetime(event.created_at, tz, locale)
        who = event_actor(event, view.agency_names, citizen=_("Reporter"))
        what = (_("Asked the reporter for more information") if event.kind == EventKind.INFO_REQUESTED
                else _what(event, view.agency_names))
        parts.append(f"• {when} · <b>{who}</b>: {what}")
    return parts


def lapor_line(lapor_id: str, lapor_url: str | None) -> str:
    number = esc(lapor_id)
    if lapor_url:
        number = f'<a href="{esc(lapor_report_url(lapor_url, lapor_id))}">{number}</a>'
    return _("<b>SP4N-LAPOR! number:</b> {number}").format(number=number)


def citizen_card_parts(
    view: MyReportView, cal: WorkCalendar, locale: str, *, lapor_url: str | None = None
) -> list[str]:
    r, tz = view.report, cal.tz
    agency = view.agency_names.get(r.agency_id) if r.agency_id else None
    head = [
        f"<b>{esc(r.tracking_id)}</b> · {classification_label(r.classification)}",
        _("<b>Status:</b> {status}").format(status=status_label(r.status)),
    ]
    if (due := next_deadline(r)) is not None:
        head.append(deadline_line(*due, locale))
    if completion := completion_line(r, cal.today(), cal, locale, long=True):
        head.append(completion)
    head.append(
        _("<b>Agency:</b> {agency}").format(agency=esc(agency) if agency else _("not yet assigned"))
    )
    if r.category is not None:
        head.append(_("<b>Category:</b> {category}").format(
            category=esc(display_name(r.category.name, r.category.name_en, locale))))
    if r.lapor_id:
        head.append(lapor_line(r.lapor_id, lapor_url))
    if r.supporters:
        head.append(_("<b>Also reported by:</b> {supporters}").format(supporters=supporters_label(r.supporters)))
    if view.duplicate_of:
        head.append(_("🔁 Joined to report <code>{tracking_id}</code> as the same problem; you follow that one: "
                      "<code>/status {tracking_id}</code>").format(tracking_id=esc(view.duplicate_of)))
    head.append(_("<b>Privacy:</b> {privacy}").format(privacy=privacy_label(r.privacy)))
    if r.incident_date:
        head.append(
            _("<b>Incident date:</b> {date}").format(
                date=long_date(r.incident_date, locale)
            )
        )
    location = location_text(r)
    if location:
        head.append(_("<b>Location:</b> {location}").format(location=location))
    if view.attachments:
        head.append(_("<b>Attachments:</b> {count}").format(count=len(view.attachments)))
    head.append(
        _("<b>Submitted:</b> {when}").format(when=short_datetime(r.submitted_at, tz, locale))
    )
    return card_parts(head, r)


def card_parts(head: list[str], r: Report) -> list[str]:
    """A card: the ``head`` lines, then the report's title and description."""
    # Title and body are separate parts: split_html may cut a long plain part at line breaks.
    return [
        "\n".join(head),
        "",
        _("<b>Title:</b>"),
        esc(r.title),
        "",
        _("<b>Description:</b>"),
        esc(r.body),
    ]


def location_text(r: Report) -> str:
    """The place as the reporter gave it (escaped) and the coordinates; "" when neither."""
    parts = []
    if r.location_text:
        parts.append(esc(r.location_text))
    if r.latitude is not None and r.longitude is not None:
        parts.append(f"({coordinate(r.latitude)}, {coordinate(r.longitude)})")
    return " ".join(parts)


def citizen_timeline_parts(view: MyReportView, tz: ZoneInfo, locale: str) -> list[str]:
    parts = ["", _("<b>Timeline</b>")]
    for event in _visible(view.events):
        when = short_datetime(event.created_at, tz, locale)
        who = event_actor(event, view.agency_names, citizen=_("You"))
        what = _what(event, view.agency_names)
        parts.append(f"• {when} · <b>{who}</b>: {what}")
        if event.note and event.kind in CITIZEN_VISIBLE_NOTES:
            parts.append(esc(event.note))
    if len(parts) == 2:
        parts.append(_("No entries yet."))
    return parts


def _visible(events: Iterable[ReportEvent]) -> list[ReportEvent]:
    return [e for e in events if e.kind not in HIDDEN_KINDS]
