"""How each notice reads (``bot/services/notices.py``): the words, the keyboard, the files.

``render`` is called inside the recipient's locale (``bot/ui/notifier.py`` sets it), so ``_``
speaks their language. A new notice gets a ``@render.register`` function here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import singledispatch

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.enums import EventKind
from bot.domain.publication import disclosure
from bot.domain.workdays import WorkCalendar
from bot.services.broadcasts import BroadcastProgress
from bot.services.notices import (
    AutoClosed,
    CheckinQuestion,
    ColleagueTook,
    Digest,
    Escalation,
    FollowedUpdate,
    KecamatanReminded,
    LaporRecorded,
    MarkedDuplicate,
    NewCase,
    NewReport,
    NobodyToTell,
    NoLongerOfficer,
    Notice,
    OfficerJoined,
    Reminder,
    ReporterSaid,
    ReportUpdate,
    Returned,
    WeeklySummary,
    Withdrawn,
)
from bot.services.statistics import Figures
from bot.ui.admin_callbacks import OverdueCb
from bot.ui.admin_keyboards import broadcast_progress_text, broadcast_stop_keyboard
from bot.ui.case_callbacks import OfficerAction, OfficerCb, VerifyAction, VerifyCb
from bot.ui.case_keyboards import after_answer_kb, answer_question_kb, mute_reporter_button, officer_actions_kb
from bot.ui.case_render import case_card_parts, reporter_for_admin, reporter_for_officer
from bot.ui.checkin import checkin_kb
from bot.ui.formatting import decimal, long_date, number, short_date
from bot.ui.overdue_render import overdue_line
from bot.ui.render import esc, esc_truncate
from bot.ui.report_render import status_label
from storage.models import Attachment, Report
from storage.repositories.overdue import OverdueLine


@dataclass(frozen=True)
class Rendered:
    parts: list[str]  # HTML paragraphs, sent as few messages as fit
    markup: InlineKeyboardMarkup | None = None  # under the last message
    location: tuple[float, float] | None = None  # a pin after the text
    files: Sequence[Attachment] = ()  # re-sent by file_id after the text
    # A citizen's update may wait for the digest (digest mode); the digest itself may not.
    may_wait_for_digest: bool = True


@dataclass(frozen=True)
class Context:
    locale: str
    calendar: WorkCalendar

    @property
    def today(self) -> date:
        return self.calendar.today()


@singledispatch
def render(notice: Notice, ctx: Context) -> Rendered:
    raise TypeError(f"no renderer for {type(notice).__name__}")


def _ref(report: Report) -> str:
    return f"<code>{esc(report.tracking_id)}</code>"


def _long(d: date | None, locale: str) -> str:
    """A date in a sentence to a citizen: "Jumat, 4 Desember 2026"."""
    return long_date(d, locale) if d else "—"


def _short(d: date | None, locale: str) -> str:
    """A date for staff, in lists and cards: "4 Des 2026"."""
    return short_date(d, locale) if d else "—"


def _open_kb(report: Report, opens: CallbackData) -> InlineKeyboardMarkup:
    """One button, "Open LPR-…": ``opens`` is the reader's own view of the report."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=_("Open {tracking_id}").format(tracking_id=report.tracking_id), callback_data=opens.pack())]])


# -- the reporter ----------------------------------------------------------------------------
def _update_head(report: Report) -> str:
    return _("📣 <b>Update on your report</b> <code>{tracking_id}</code>\n<b>{title}</b>").format(
        tracking_id=esc(report.tracking_id), title=esc_truncate(report.title, 200)
    )


@render.register
def _report_update(notice: ReportUpdate, ctx: Context) -> Rendered:
    report, locale = notice.report, ctx.locale
    head = _update_head(report)
    agency_html = f"<b>{esc(notice.agency_name)}</b>" if notice.agency_name else _("the agency")
    note_html = esc_truncate(notice.note or "", 3000)
    markup: InlineKeyboardMarkup | None = None
    match notice.kind:
        case EventKind.ASSIGNED:
            what = _("Your report was verified and forwarded to {agency}.").format(agency=agency_html)
            nxt = _("The agency follows it up and answers by {date}.").format(date=_long(report.followup_due, locale))
        case EventKind.REROUTED:
            what = _("Your report was forwarded to another agency: {agency}.").format(agency=agency_html)
            nxt = _("The agency follows it up and answers by {date}.").format(date=_long(report.followup_due, locale))
        case EventKind.REJECTED:
            what = _("Your report was not accepted for follow-up.\n<b>Reason:</b> {reason}").format(
                reason=note_html
            )
            nxt = _("You may file a new, more complete report with /lapor.")
        case EventKind.ARCHIVED:
            what = _("Your report was archived: it needs no follow-up by an agency.\n<b>Reason:</b> {reason}").format(
                reason=note_html
            )
            nxt = _("If the problem is still there, you may file a new report with /lapor.")
        case EventKind.POSTPONED:
            what = _("Verification of your report was postponed by the admin.")
            nxt = _("We will tell you as soon as it moves on.")
        case EventKind.TAKEN:
            what = _("{agency} has started following up your report.").format(agency=agency_html)
            nxt = _("Its answer is due by {date}.").format(date=_long(report.followup_due, locale))
        case EventKind.INFO_REQUESTED:
            what = _("{agency} needs more information:\n\n<i>{question}</i>").format(
                agency=agency_html, question=note_html
            )
            nxt = _(
                "Tap <b>Reply</b>, or simply send your answer (text, photos or documents) in "
                "this chat. The agency continues once it has your answer."
            )
            markup = answer_question_kb(report.id)
        case EventKind.ANSWERED:
            what = _("{agency} answered your report:\n\n{answer}").format(
                agency=agency_html, answer=note_html
            )
            nxt = _(
                "Are you satisfied? You may reply until {date}; after that the report is "
                "completed by itself."
            ).format(date=_long(report.reply_due, locale))
            markup = after_answer_kb(report.id)
        case EventKind.RETURNED:
            what = _("{agency} says your report is outside its authority.").format(agency=agency_html)
            nxt = _("The admin will forward it to the agency that can handle it.")
        case EventKind.DISPUTED:
            what = _("Your report was reopened and sent back to {agency}.").format(agency=agency_html)
            nxt = _("Its answer is due by {date}.").format(date=_long(report.followup_due, locale))
        case EventKind.ACCEPTED:
            what = _("Thank you for rating the answer. Your report is completed.")
            nxt = _("You can file another report any time with /lapor.")
        case _:
            what = _("The status of your report changed.")
            nxt = _("See the details with /laporan.")
    return Rendered([f"{head}\n\n{what}\n\n{nxt}"], markup)


@render.register
def _followed_update(notice: FollowedUpdate, ctx: Context) -> Rendered:
    """To a follower: the status only. The reporter's notes (a question, an answer, a reason) and
    anyone's identity stay out; the title only once the report's public page shows it."""
    report = notice.report
    head = _("📣 <b>Update on a report you follow</b> <code>{tracking_id}</code>").format(
        tracking_id=esc(report.tracking_id))
    if disclosure(report.privacy, report.assigned_at).content:
        head += f"\n<b>{esc_truncate(report.title, 200)}</b>"
    agency_html = f"<b>{esc(notice.agency_name)}</b>" if notice.agency_name else _("the agency")
    match notice.kind:
        case EventKind.ASSIGNED | EventKind.REROUTED:
            what = _("It was verified and forwarded to {agency}.").format(agency=agency_html)
        case EventKind.TAKEN:
            what = _("{agency} has started following it up.").format(agency=agency_html)
        case EventKind.INFO_REQUESTED:
            what = _("{agency} asked the reporter for more information.").format(agency=agency_html)
        case EventKind.ANSWERED:
            what = _("{agency} answered it.").format(agency=agency_html)
        case EventKind.RETURNED:
            what = _("It is being forwarded to the agency that can handle it.")
        case EventKind.DISPUTED | EventKind.CHECKIN_REOPENED:
            what = _("It was reopened: the problem is not solved yet.")
        case EventKind.ACCEPTED | EventKind.AUTO_CLOSED:
            what = _("It is completed.")
        case EventKind.REJECTED:
            what = _("It was not accepted for follow-up. If the problem remains, you may file your own report "
                     "with /lapor.")
        case EventKind.ARCHIVED:
            what = _("It was archived: it needs no follow-up by an agency. If the problem remains, you may file "
                     "your own report with /lapor.")
        case EventKind.WITHDRAWN:
            what = _("Its reporter withdrew it. If the problem remains, you may file your own report with /lapor.")
        case EventKind.POSTPONED:
            what = _("Its verification was postponed.")
        case _:
            what = _("Its status changed: {status}.").format(status=status_label(report.status))
    return Rendered([f"{head}\n\n{what}\n\n" + _("See it with /laporan.")])


@render.register
def _marked_duplicate(notice: MarkedDuplicate, ctx: Context) -> Rendered:
    original = _ref(notice.original)
    what = _("Your report is about the same problem as report {original}, which is already being handled, so "
             "the two were joined. You now follow {original}: its updates come here too.").format(original=original)
    nxt = _("Its status now: {status}. See it with <code>/status {tracking_id}</code>.").format(
        status=status_label(notice.original.status), tracking_id=esc(notice.original.tracking_id))
    return Rendered([f"{_update_head(notice.report)}\n\n{what}\n\n{nxt}"])


@render.register
def _lapor_recorded(notice: LaporRecorded, ctx: Context) -> Rendered:
    what = _("Your report was entered into SP4N-LAPOR!, the national complaint system, with "
             "the tracking number <b>{number}</b>.").format(number=esc(notice.number))
    if notice.link:
        nxt = _('You can follow it on lapor.go.id too: <a href="{link}">{link_text}</a>').format(
            link=esc(notice.link), link_text=esc(notice.link))
    else:
        nxt = _("See the details with /laporan.")
    return Rendered([f"{_update_head(notice.report)}\n\n{what}\n\n{nxt}"])


@render.register
def _auto_closed(notice: AutoClosed, ctx: Context) -> Rendered:
    return Rendered([_(
        "Your report <code>{tracking_id}</code> has been closed: there was no reply to the "
        "answer within 10 working days. Thank you for reporting."
    ).format(tracking_id=esc(notice.report.tracking_id))])


@render.register
def _checkin_question(notice: CheckinQuestion, ctx: Context) -> Rendered:
    report = notice.report
    text = _(
        "Your report <code>{tracking_id}</code> <b>{title}</b> was completed a few "
        "days ago. Is the problem really solved?"
    ).format(tracking_id=esc(report.tracking_id), title=esc_truncate(report.title, 200))
    return Rendered([text], checkin_kb(report.id))


@render.register
def _digest(notice: Digest, ctx: Context) -> Rendered:
    return Rendered([_("<b>Updates on your reports</b>"), *notice.texts], may_wait_for_digest=False)


# -- officers --------------------------------------------------------------------------------
@render.register
def _new_case(notice: NewCase, ctx: Context) -> Rendered:
    report = notice.report
    title = _("📥 <b>New report for {agency}</b>").format(agency=esc(notice.agency_name))
    parts = [title, ""] + case_card_parts(
        report,
        reporter_html=reporter_for_officer(report, notice.reporter),
        agency_name=None,
        attachment_count=len(notice.attachments),
        due=report.followup_due,
        today=ctx.today,
        cal=ctx.calendar,
        locale=ctx.locale,
    )
    location = None
    if report.latitude is not None and report.longitude is not None:
        location = (report.latitude, report.longitude)
    return Rendered(parts, officer_actions_kb(report.id, report.status), location, notice.attachments)


@render.register
def _colleague_took(notice: ColleagueTook, ctx: Context) -> Rendered:
    report, name = notice.report, notice.colleague_first_name
    colleague = f"<b>{esc_truncate(name, 64)}</b>" if name else _("A colleague")
    text = _(
        "👥 {colleague} of your agency took up {ref} (<b>{title}</b>); it is now in progress. "
        "The answer is due by {date}."
    ).format(colleague=colleague, ref=_ref(report), title=esc_truncate(report.title, 200),
             date=_short(report.followup_due, ctx.locale))
    return Rendered([text])


@render.register
def _kecamatan_reminded(notice: KecamatanReminded, ctx: Context) -> Rendered:
    report = notice.report
    text = _(
        "🔔 <b>{kecamatan}</b> reminds you of {ref} (<b>{title}</b>): its answer was due {date}. "
        "Please follow it up."
    ).format(kecamatan=esc_truncate(notice.kecamatan_name, 200), ref=_ref(report),
             title=esc_truncate(report.title, 200), date=_short(report.followup_due, ctx.locale))
    return Rendered([text], _open_kb(report, OfficerCb(a=OfficerAction.OPEN, r=report.id)))


@render.register
def _reporter_said(notice: ReporterSaid, ctx: Context) -> Rendered:
    """The reporter's words are re-sent as text, never forwarded (a forward names them)."""
    report, ref = notice.report, _ref(notice.report)
    match notice.kind:
        case EventKind.REPORTER_REPLIED:
            head = _("💬 The reporter answered your question on {ref}:").format(ref=ref)
        case EventKind.REPORTER_ADDED:
            head = _("➕ The reporter added information to {ref}:").format(ref=ref)
        case EventKind.DISPUTED:
            head = _("↩️ The reporter says {ref} is <b>not solved</b>; it is open again:").format(ref=ref)
        case EventKind.CHECKIN_REOPENED:
            head = _(
                "↩️ The reporter says {ref} is <b>not solved</b> after all; it is open again. "
                "Answer due by the end of {date}."
            ).format(ref=ref, date=_short(report.followup_due, ctx.locale))
        case EventKind.ACCEPTED:
            head = _("⭐ The reporter rated your answer on {ref}: {rating}/5. The report is completed.").format(
                ref=ref, rating=report.rating or 0
            )
        case _:
            head = _("The reporter added a comment on {ref}:").format(ref=ref)
    parts = [head]
    if notice.note:
        parts += ["", esc(notice.note)]
    if notice.to_admins:
        return Rendered(parts, location=notice.location, files=notice.attachments)
    markup = officer_actions_kb(report.id, report.status)
    if notice.kind in (EventKind.REPORTER_REPLIED, EventKind.REPORTER_ADDED):
        # What the reporter sends of their own accord can be stopped, here where it arrives.
        markup.inline_keyboard.append([mute_reporter_button(report.id, muted=report.relays_muted_at is not None)])
    return Rendered(parts, markup if markup.inline_keyboard else None, location=notice.location,
                    files=notice.attachments)


@render.register
def _withdrawn(notice: Withdrawn, ctx: Context) -> Rendered:
    report = notice.report
    head = _("🚫 The reporter withdrew {ref} (<b>{title}</b>); nothing more needs doing on it.").format(
        ref=_ref(report), title=esc_truncate(report.title, 200))
    return Rendered([head, "", _("<b>Reason:</b> {reason}").format(reason=esc_truncate(notice.reason, 3000))])


def report_line(tracking_id: str, title: str, due_text: str | None = None) -> str:
    """One report in a list: tracking id, title (user text, escaped), optional deadline."""
    line = f"• <code>{esc(tracking_id)}</code> {esc_truncate(title, 80)}"
    return f"{line} ({due_text})" if due_text else line


# Buttons beyond these would bury the message; the rest are one tap away in /kotak.
MAX_REMINDER_BUTTONS = 8


@render.register
def _reminder(notice: Reminder, ctx: Context) -> Rendered:
    today, locale = notice.today, ctx.locale

    def line(r: OverdueLine) -> str:
        return report_line(r.tracking_id, r.title, _("due {date}").format(date=short_date(r.due, locale)))

    parts = [_("<b>Daily reminder</b>: reports that need your answer.")]
    buttons: list[InlineKeyboardButton] = []
    for count, shown in notice.agencies:
        overdue = [r for r in shown if r.due < today]
        soon = [r for r in shown if r.due >= today]
        block = [f"\n<b>{esc(count.agency_name)}</b>"]
        if count.overdue:
            block += [_("Overdue: {n}").format(n=number(count.overdue)), *map(line, overdue)]
        if count.due_soon:
            block += [_("Due within one working day: {n}").format(n=number(count.due_soon)), *map(line, soon)]
        if count.past_ceiling:
            block.append(_("Past the completion deadline for their kind of report: {n}").format(
                n=number(count.past_ceiling)))
        more = count.overdue + count.due_soon - len(shown)
        if more > 0:
            block.append(_("… and {n} more in /kotak").format(n=number(more)))
        parts.append("\n".join(block))
        for r in shown:
            if len(buttons) < MAX_REMINDER_BUTTONS:
                open_it = OfficerCb(a=OfficerAction.OPEN, r=r.report_id).pack()
                buttons.append(InlineKeyboardButton(text=r.tracking_id, callback_data=open_it))
    buttons.append(InlineKeyboardButton(text=_("Open /kotak"), callback_data=OfficerCb(a=OfficerAction.LIST).pack()))
    return Rendered(parts, InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons]))


@render.register
def _no_longer_officer(notice: NoLongerOfficer, ctx: Context) -> Rendered:
    return Rendered([_("You are no longer a liaison officer of {agency}. Thank you for your work.").format(
        agency=f"<b>{esc(notice.agency_name)}</b>")])


# -- admins ----------------------------------------------------------------------------------
@render.register
def _new_report(notice: NewReport, ctx: Context) -> Rendered:
    report = notice.report
    text = _(
        "🆕 <b>New report</b> <code>{tracking_id}</code>\n<b>{title}</b>\n"
        "Reporter: {reporter}\nVerify by {date}."
    ).format(tracking_id=esc(report.tracking_id), title=esc_truncate(report.title, 200),
             reporter=reporter_for_admin(report, notice.reporter), date=_short(report.verify_due, ctx.locale))
    return Rendered([text], _open_kb(report, VerifyCb(a=VerifyAction.OPEN, r=report.id)))


@render.register
def _returned(notice: Returned, ctx: Context) -> Rendered:
    text = _(
        "↩️ <b>{agency}</b> returned <code>{tracking_id}</code> as not its authority.\n"
        "<b>Reason:</b> {reason}\nIt is back in /verifikasi to be forwarded elsewhere."
    ).format(agency=esc(notice.agency_name), tracking_id=esc(notice.report.tracking_id),
             reason=esc_truncate(notice.reason, 3000))
    return Rendered([text], _open_kb(notice.report, VerifyCb(a=VerifyAction.OPEN, r=notice.report.id)))


@render.register
def _officer_joined(notice: OfficerJoined, ctx: Context) -> Rendered:
    who = esc(notice.name) or _("(no name)")
    handle = f" @{esc(notice.username)}" if notice.username else ""
    return Rendered([_(
        "👤 {who}{handle} (Telegram ID <code>{telegram_id}</code>) opened an invite link and is "
        "now a liaison officer of <b>{agency}</b>. Not expected? Revoke them with /petugas."
    ).format(who=who, handle=handle, telegram_id=notice.telegram_id, agency=esc(notice.agency_name))])


@render.register
def _nobody_to_tell(notice: NobodyToTell, ctx: Context) -> Rendered:
    return Rendered([_(
        "⚠️ <code>{tracking_id}</code> was assigned to <b>{agency}</b>, which has no "
        "active liaison officer yet, so nobody was notified. Invite one with /undang or "
        "forward the report elsewhere."
    ).format(tracking_id=esc(notice.report.tracking_id), agency=esc(notice.agency_name))])


# Agencies named in the escalation; a district has about a hundred, the list pages the rest.
MAX_ESCALATION_AGENCIES = 15


@render.register
def _escalation(notice: Escalation, ctx: Context) -> Rendered:
    today, locale = notice.today, ctx.locale
    parts = [_("<b>Overdue reports (tunggakan)</b>: {n} on {date}").format(
        n=number(notice.total), date=short_date(today, locale))]
    if late := [a for a in notice.agencies if a.overdue and a.oldest_due is not None]:
        lines = ["\n" + _("Past the follow-up deadline:")]
        for a in late[:MAX_ESCALATION_AGENCIES]:
            lines.append(_("• <b>{agency}</b>: {n}, the oldest due {date}").format(
                agency=esc(a.agency_name), n=number(a.overdue), date=short_date(a.oldest_due, locale)))
        rest = len(late) - MAX_ESCALATION_AGENCIES
        if rest > 0:
            lines.append(_("… and {n} more agencies").format(n=number(rest)))
        parts.append("\n".join(lines))
    if notice.verification:
        parts.append("\n" + _("Waiting for verification past 3 working days:") + f" {number(notice.verification)}")
    if ceiling := _past_ceiling_block(notice):
        parts.append(ceiling)
    if notice.oldest:
        lines = ["\n" + _("Longest overdue:")]
        lines += [overdue_line(r, today, ctx.calendar, locale) for r in notice.oldest]
        parts.append("\n".join(lines))
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=_("Show all {n}").format(n=number(notice.total)),
        callback_data=OverdueCb(page=0, new=True).pack())]]) if notice.total else None
    return Rendered(parts, markup)


def _past_ceiling_block(notice: Escalation) -> str | None:
    """Reports past their completion ceiling by kind of report (14/60/5/5 working days from
    receipt), counted apart from the step deadlines above: per agency, and still unverified."""
    agencies = [a for a in notice.agencies if a.past_ceiling]
    if not agencies and not notice.unverified_past_ceiling:
        return None
    total = sum(a.past_ceiling for a in agencies) + notice.unverified_past_ceiling
    lines = ["\n" + _("Past the completion deadline for their kind of report: {n}").format(n=number(total))]
    lines += [_("• <b>{agency}</b>: {n}").format(agency=esc(a.agency_name), n=number(a.past_ceiling))
              for a in agencies[:MAX_ESCALATION_AGENCIES]]
    if (rest := len(agencies) - MAX_ESCALATION_AGENCIES) > 0:
        lines.append(_("… and {n} more agencies").format(n=number(rest)))
    if notice.unverified_past_ceiling:
        lines.append(_("• still waiting for verification: {n}").format(n=number(notice.unverified_past_ceiling)))
    return "\n".join(lines)


def _week_block(title: str, f: Figures) -> str:
    return "\n".join([
        f"<b>{title}</b>",
        _("Received this week: {n}").format(n=number(f.received)),
        _("Completed this week: {n}").format(n=number(f.completed)),
        _("Open and overdue: {n}").format(n=number(f.overdue)),
        _("Average to first response: {d} working days").format(d=decimal(f.avg_response_days)),
        _("Average to completion: {d} working days").format(d=decimal(f.avg_completion_days)),
    ])


def how_to_read(last_day: date, locale: str) -> str:
    """Why the columns do not add up: they count different sets of reports
    (``bot.jobs.weekly_summary.week_figures``)."""
    return _(
        "ℹ️ <b>How to read this</b>\n"
        "• <b>Received</b> and <b>completed</b> count what happened during these seven days; a "
        "report completed this week may have come in weeks ago.\n"
        "• <b>Open and overdue</b> counts every report still open on {date} and past the "
        "deadline of its step (verification or the agency's answer), whichever week it came in. "
        "That is why it can be higher than the reports received this week.\n"
        "• Averages are working days from receipt, over the reports first answered or completed "
        "this week; – means there was none."
    ).format(date=short_date(last_day, locale))


@render.register
def _weekly_summary(notice: WeeklySummary, ctx: Context) -> Rendered:
    figures, names = notice.figures, notice.agency_names
    total = Figures()
    for f in figures.values():
        total += f
    parts = [
        _("<b>Weekly summary</b> {start} – {end}").format(
            start=short_date(notice.start, ctx.locale),
            end=short_date(notice.end - timedelta(days=1), ctx.locale),
        ),
        _week_block(_("All agencies"), total),
    ]
    for agency_id in sorted((k for k in figures if k is not None), key=lambda k: names.get(k, "").casefold()):
        parts.append("\n" + _week_block(esc(names.get(agency_id, "?")), figures[agency_id]))
    if None in figures:
        parts.append("\n" + _week_block(_("Not yet assigned"), figures[None]))
    parts.append("\n" + how_to_read(notice.end - timedelta(days=1), ctx.locale))
    return Rendered(parts)


# -- the progress of an announcement (edited in place) ---------------------------------------
@render.register
def _broadcast_progress(notice: BroadcastProgress, ctx: Context) -> Rendered:
    broadcast = notice.broadcast
    markup = broadcast_stop_keyboard(broadcast.id) if notice.running else None
    return Rendered([broadcast_progress_text(broadcast, notice.progress)], markup)


# Registers the group-chat and kecamatan renderers on ``render`` (kept in their own modules).
from bot.ui import group_notices, kecamatan_notices  # noqa: E402, F401
