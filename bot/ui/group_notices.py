"""How the agency group-chat notices read (``bot/services/notices.py``), and the keyboards of
linking: registered on ``bot.ui.notices.render`` when that module loads."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.services.notices import (
    AgencyEscalated,
    GroupLinkDecided,
    GroupLinkRequested,
    GroupUnlinked,
    TopicClosing,
)
from bot.ui.case_callbacks import OfficerAction, OfficerCb
from bot.ui.formatting import number, short_date
from bot.ui.group_callbacks import GroupDecision, GroupDecisionCb
from bot.ui.notices import MAX_REMINDER_BUTTONS, Context, Rendered, render, report_line
from bot.ui.render import esc_truncate
from bot.ui.report_render import status_label


def decision_kb(link_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Link"),
                             callback_data=GroupDecisionCb(link_id=link_id, decision=GroupDecision.CONFIRM).pack()),
        InlineKeyboardButton(text=_("✖️ Decline"),
                             callback_data=GroupDecisionCb(link_id=link_id, decision=GroupDecision.DECLINE).pack()),
    ]])


@render.register
def _link_requested(notice: GroupLinkRequested, ctx: Context) -> Rendered:
    kind = _("forum group (one topic per report)") if notice.is_forum else _("group")
    text = _(
        "🔗 A liaison officer of <b>{agency}</b> asks to link the {kind} <b>{title}</b> to the agency. "
        "Once linked, the agency's new reports, reminders and overdue lists also go to that group, "
        "and every member can read them (anonymous reporters stay anonymous)."
    ).format(agency=esc_truncate(notice.agency_name, 200), kind=kind, title=esc_truncate(notice.group_title, 200))
    return Rendered([text], decision_kb(notice.link_id))


@render.register
def _link_decided(notice: GroupLinkDecided, ctx: Context) -> Rendered:
    agency = esc_truncate(notice.agency_name, 200)
    if notice.approved:
        text = _(
            "✅ This group is now linked to <b>{agency}</b>. New reports for the agency, reminders and "
            "overdue lists come here. Only the agency's liaison officers can use the buttons; what you "
            "write here is never sent to the reporter: to answer, tap the report's buttons."
        ).format(agency=agency)
    else:
        text = _("The admin declined linking this group to <b>{agency}</b>.").format(agency=agency)
    return Rendered([text])


@render.register
def _unlinked(notice: GroupUnlinked, ctx: Context) -> Rendered:
    agency, title = esc_truncate(notice.agency_name, 200), esc_truncate(notice.group_title, 200)
    if notice.bot_removed:
        text = _(
            "⚠️ The bot was removed from the group <b>{title}</b>, so it is no longer linked to <b>{agency}</b>. "
            "The agency's reports go to its officers' private chats."
        ).format(title=title, agency=agency)
    else:
        text = _(
            "🔗 This group is no longer linked to <b>{agency}</b>; the agency's reports will not come here any more."
        ).format(agency=agency)
    return Rendered([text])


@render.register
def _agency_escalated(notice: AgencyEscalated, ctx: Context) -> Rendered:
    count = notice.count
    agency = esc_truncate(count.agency_name, 200)
    if count.overdue:
        head = _("⚠️ <b>{agency}</b>: {n} report(s) are past their deadline and were reported to the LAPOR! "
                 "coordinator today (tunggakan).").format(agency=agency, n=number(count.overdue))
    else:
        head = _("⚠️ <b>{agency}</b>: reported to the LAPOR! coordinator today (tunggakan).").format(agency=agency)
    if count.past_ceiling:
        head += "\n" + _("Past the completion deadline for their kind of report: {n}").format(
            n=number(count.past_ceiling))
    lines = [report_line(r.tracking_id, r.title, _("due {date}").format(date=short_date(r.due, ctx.locale)))
             for r in notice.oldest]
    more = count.overdue - len(notice.oldest)
    if more > 0:
        lines.append(_("… and {n} more in /kotak").format(n=number(more)))
    buttons = [[InlineKeyboardButton(text=r.tracking_id,
                                     callback_data=OfficerCb(a=OfficerAction.OPEN, r=r.report_id).pack())]
               for r in notice.oldest[:MAX_REMINDER_BUTTONS]]
    buttons.append([InlineKeyboardButton(text=_("Open /kotak"), callback_data=OfficerCb(a=OfficerAction.LIST).pack())])
    return Rendered([head, "\n".join(lines)], InlineKeyboardMarkup(inline_keyboard=buttons))


@render.register
def _topic_closing(notice: TopicClosing, ctx: Context) -> Rendered:
    report = notice.report
    return Rendered([_(
        "🔒 <b>{tracking_id}</b> has ended: {status}. This topic is closed now; it opens again if the "
        "report is reopened."
    ).format(tracking_id=report.tracking_id, status=status_label(report.status))])
