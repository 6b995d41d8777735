"""Report cards for officers and admins: the queue lines, the card, the internal timeline, and
how the reporter is named (only as ``bot.domain.privacy`` allows the reader).
Callers render inside the recipient's locale (``i18n.use_locale``), so ``_`` picks their language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.domain.access import Reason, Refused
from bot.domain.categories import display_name
from bot.domain.deadlines import COMPLAINT_SUPERVISORY_DAYS, is_overdue
from bot.domain.enums import Privacy
from bot.domain.privacy import IdentityPart, Viewer, reporter_identity
from bot.domain.workdays import WorkCalendar
from bot.i18n import in_language
from bot.ui.case_keyboards import archive_reason_label, reject_reason_label
from bot.ui.formatting import short_date, short_datetime
from bot.ui.render import esc, esc_truncate
from bot.ui.report_render import (
    _what,
    card_parts,
    classification_label,
    completion_line,
    event_actor,
    lapor_line,
    location_text,
    status_label,
    supporters_label,
)
from storage.models import Citizen, Report, ReportEvent

if TYPE_CHECKING:
    from bot.services.casework.core import CaseView

LINE_TITLE_LIMIT = 40


def due_text(due: date | None, today: date, locale: str) -> str:
    if due is None:
        return "—"
    text = short_date(due, locale)
    if is_overdue(due, today):
        return _("⚠️ {date} (overdue)").format(date=text)
    return text


def supervisory_lines(report: Report) -> list[str]:
    """The admin's card: why the completion deadline is that far (the supervisory flag)."""
    if not report.supervisory:
        return []
    return [_("🔎 <b>Supervisory</b> (berkadar pengawasan): {days} working days to complete").format(
        days=COMPLAINT_SUPERVISORY_DAYS)]


def queue_button_label(report: Report, today: date) -> str:
    """Plain text (a button label): overdue first mark, tracking id, title."""
    mark = "⚠️ " if report.verify_due and is_overdue(report.verify_due, today) else ""
    return f"{mark}{report.tracking_id} · {report.title[:LINE_TITLE_LIMIT]}"


def inbox_button_label(report: Report, today: date) -> str:
    mark = "⚠️ " if report.followup_due and is_overdue(report.followup_due, today) else ""
    return f"{mark}{report.tracking_id} · {report.title[:LINE_TITLE_LIMIT]}"


def queue_header(total: int, overdue: int, page: int, pages: int) -> str:
    return _(
        "<b>Verification queue</b>: {total} report(s), {overdue} overdue · page {page} of {pages}"
    ).format(total=total, overdue=overdue, page=page + 1, pages=pages)


def inbox_header(total: int, page: int, pages: int) -> str:
    return _("<b>Open reports of your agency</b>: {total} · page {page} of {pages}").format(
        total=total, page=page + 1, pages=pages
    )


def full_name(person: Citizen) -> str:
    return " ".join(p for p in (person.first_name, person.last_name) if p)


def reporter_for_officer(report: Report, reporter: Citizen | None) -> str:
    """HTML. An anonymous reporter gets a fixed label, nothing derived from the person;
    otherwise what an agency may see (the name: never a way to reach or trace them)."""
    shown = reporter_identity(Viewer.AGENCY, report.privacy)
    if reporter is None or IdentityPart.NAME not in shown:
        return _("Anonymous reporter")
    return esc(full_name(reporter)) or _("Reporter")


def reporter_for_admin(report: Report, reporter: Citizen | None) -> str:
    """HTML. Coordinating admins see who filed it, with the means to reach them."""
    if reporter is None:
        return _("unknown")
    shown = reporter_identity(Viewer.ADMIN, report.privacy)
    name = esc(full_name(reporter) or "—")
    reachable = IdentityPart.TELEGRAM_ID in shown
    parts = [f'<a href="tg://user?id={reporter.telegram_id}">{name}</a>' if reachable else name]
    if reporter.username and IdentityPart.USERNAME in shown:
        parts.append("@" + esc(reporter.username))
    if reachable:
        parts.append(f"id <code>{reporter.telegram_id}</code>")
    return " · ".join(parts)


def case_card_parts(
    report: Report,
    *,
    reporter_html: str,
    agency_name: str | None,
    attachment_count: int,
    due: date | None,
    today: date,
    cal: WorkCalendar,
    locale: str,
    extra: Iterable[str] = (),
) -> list[str]:
    """The card; ``reporter_html`` from ``reporter_for_officer``/``_admin``; ``due``: the deadline
    of the step the reader acts on (verification, follow-up), shown with the completion ceiling;
    ``extra`` are rendered lines shown before the title (e.g. an officer's "not our authority"
    reason)."""
    r = report
    head = [f"<b>{esc(r.tracking_id)}</b> · {classification_label(r.classification)}"]
    if r.privacy == Privacy.CONFIDENTIAL:
        head.append(_("🔒 <b>CONFIDENTIAL</b>: never publish or share the content"))
    elif r.privacy == Privacy.ANONYMOUS:
        head.append(_("🕶 <b>ANONYMOUS</b>: the reporter's identity is withheld"))
    head.append(_("<b>Status:</b> {status}").format(status=status_label(r.status)))
    head.append(_("<b>Deadline:</b> {date}").format(date=due_text(due, today, locale)))
    if completion := completion_line(r, today, cal, locale):
        head.append(completion)
    if agency_name:
        head.append(_("<b>Agency:</b> {agency}").format(agency=esc(agency_name)))
    head.append(_("<b>Category:</b> {category}").format(category=esc(
        display_name(r.category.name, r.category.name_en, locale) if r.category else _("Other / not sure"))))
    if r.lapor_id:
        head.append(lapor_line(r.lapor_id, None))
    if r.supporters:
        head.append(_("<b>Also reported by:</b> {supporters}").format(supporters=supporters_label(r.supporters)))
    head.append(_("<b>Reporter:</b> {reporter}").format(reporter=reporter_html))
    if r.incident_date:
        head.append(
            _("<b>Incident date:</b> {date}").format(date=short_date(r.incident_date, locale))
        )
    if location := location_text(r):
        head.append(_("<b>Location:</b> {location}").format(location=location))
    if attachment_count:
        head.append(_("<b>Attachments:</b> {count}").format(count=attachment_count))
    head.append(
        _("<b>Submitted:</b> {when}").format(when=short_datetime(r.submitted_at, cal.tz, locale))
    )
    head.extend(extra)
    return card_parts(head, r)


def case_timeline_parts(
    events: Iterable[ReportEvent], agency_names: dict[int, str], tz: ZoneInfo, locale: str
) -> list[str]:
    """Staff see every note (reasons for returning, rejections), escaped."""
    parts = ["", _("<b>Timeline</b>")]
    for event in events:
        when = short_datetime(event.created_at, tz, locale)
        # Never the reporter's name: the timeline goes to agencies too.
        who = event_actor(event, agency_names, citizen=_("Reporter"))
        parts.append(f"• {when} · <b>{who}</b>: {_what(event, agency_names)}")
        if event.note:
            parts.append(esc_truncate(event.note, 1000))
    return parts


def agency_case_parts(view: CaseView, calendar: WorkCalendar, locale: str) -> list[str]:
    """A report as an agency reads it (its officers, or the kecamatan above it): what an agency
    may see of the reporter (nothing of an anonymous one), files as a count (they came with the
    notifications), then the timeline."""
    r = view.report
    return case_card_parts(
        r, reporter_html=reporter_for_officer(r, view.reporter),
        agency_name=view.agency_names.get(r.agency_id) if r.agency_id else None,
        attachment_count=len(view.attachments), due=r.followup_due, today=calendar.today(),
        cal=calendar, locale=locale,
    ) + case_timeline_parts(view.events, view.agency_names, calendar.tz, locale)


def refusal_text(reason: Reason | str | Refused) -> str:
    """What a refused action answers (on the callback as an alert, or as a message). Given the
    refusal itself, a stale button (the report moved on) says the report's status now."""
    if isinstance(reason, Refused):
        refused, reason = reason, reason.reason
        if refused.status is not None and reason is Reason.NOT_NOW:
            return _("This button no longer applies: the report is now “{status}”.").format(
                status=status_label(refused.status))
        if refused.status is not None and reason is Reason.CONFLICT:
            return _("Someone else acted on this report just now: it is now “{status}”.").format(
                status=status_label(refused.status))
    texts = {
        Reason.FORBIDDEN: _("You cannot act on this report."),
        Reason.ADMINS_ONLY: _("Only LAPOR! admins can do this."),
        Reason.NOT_NOW: _("This action is not possible in the report's current status."),
        Reason.CONFLICT: _("Someone else acted on this report just now. Open it again to see its status."),
        Reason.TOO_LATE: _("The time to reply to this answer has passed."),
        Reason.INVALID: _("That choice is not valid."),
        Reason.MUTED: _("The agency has paused further messages on this report. When they ask you "
                        "a question, your answer still reaches them."),
        Reason.TOO_MANY: _("You have sent many messages recently. Please wait a while and try again."),
    }
    return texts.get(reason, texts[Reason.FORBIDDEN])  # type: ignore[call-overload]


def rejection_reason(i18n: I18n, language: str | None, code: str, extra: str | None) -> str:
    """The rejection reason as the reporter reads it: the template's words in THEIR language,
    plus the admin's own text (or the tracking ID a duplicate repeats)."""
    with in_language(i18n, language):
        if code == "duplicate":
            return _("Duplicate of report {tracking_id}").format(tracking_id=extra)
        reason = reject_reason_label(code)
        return f"{reason}. {extra}" if extra else reason


def archive_reason(i18n: I18n, language: str | None, code: str, extra: str | None) -> str:
    """Why the report was archived, as the reporter reads it (see ``rejection_reason``)."""
    with in_language(i18n, language):
        reason = archive_reason_label(code)
        return f"{reason}. {extra}" if extra else reason


def text_rule_error(reason: str, limit: int) -> str:
    if reason == "too_long":
        return _("That text is too long (at most {limit} characters). Please shorten it.").format(limit=limit)
    return _("Please write a few words.")


def wrong_kind_text(expects: str, limit: int) -> str:
    """What a casework text step answers to a message it cannot use (a sticker, a voice note, a
    photo where only text goes): what it expects instead. The step and its data stay."""
    texts = {
        "question": lambda: _("⚠️ Please type your question for the reporter as text (at most {limit} "
                              "characters), or /batal to cancel."),
        "answer": lambda: _("⚠️ Please type the agency's answer as text (at most {limit} characters), "
                            "or /batal to cancel."),
        "return": lambda: _("⚠️ Please type as text why the report is not your agency's authority (at "
                            "most {limit} characters), or /batal to cancel."),
        "reply": lambda: _("⚠️ Please send your answer as text (at most {limit} characters), a photo, "
                           "a video or a document, or /batal to cancel."),
        "addition": lambda: _("⚠️ Please send text (at most {limit} characters), a photo, a video, a "
                              "document, a location or a voice note, or /batal to cancel."),
        "comment": lambda: _("⚠️ Please type your comment as text (at most {limit} characters), or "
                             "tap Skip."),
        "dispute": lambda: _("⚠️ Please type as text what is not solved yet (at most {limit} "
                             "characters), or /batal to cancel."),
        "reject_note": lambda: _("⚠️ Please type the note for the reporter as text (at most {limit} "
                                 "characters), or reject without one. /batal cancels."),
        "archive_note": lambda: _("⚠️ Please type the note for the reporter as text (at most {limit} "
                                  "characters), or archive without one. /batal cancels."),
        "duplicate": lambda: _("⚠️ Please type the tracking ID of the report this one duplicates as "
                               "text, or /batal to cancel."),
        "withdraw": lambda: _("⚠️ Please type as text why you withdraw the report (at most {limit} "
                              "characters), or /batal to cancel."),
        "search": lambda: _("⚠️ Please type part of the agency's name as text, or /batal to cancel."),
    }
    return texts[expects]().format(limit=limit)
