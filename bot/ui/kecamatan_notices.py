"""How the kecamatan's notices about the kelurahan and desa under it read (issue 13); registered
on ``bot.ui.notices.render`` when that module loads. The buttons open the read-only view."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.services.notices import VillagesEscalated
from bot.ui.case_callbacks import KecamatanAction, KecamatanCb
from bot.ui.formatting import number, short_date
from bot.ui.notices import MAX_REMINDER_BUTTONS, Context, Rendered, render, report_line
from bot.ui.render import esc_truncate

# Villages named; a kecamatan has a dozen or two, the list in /kotak has them all.
MAX_VILLAGES = 15


@render.register
def _villages_escalated(notice: VillagesEscalated, ctx: Context) -> Rendered:
    locale = ctx.locale
    total = sum(v.overdue for v in notice.villages)
    head = _("⚠️ <b>{kecamatan}</b>: {n} report(s) of its kelurahan and desa are past their deadline and "
             "were reported to the LAPOR! coordinator today (tunggakan).").format(
        kecamatan=esc_truncate(notice.kecamatan_name, 200), n=number(total))
    villages = [_("• <b>{agency}</b>: {n}, the oldest due {date}").format(
        agency=esc_truncate(v.agency_name, 200), n=number(v.overdue), date=short_date(v.oldest_due, locale))
        for v in notice.villages[:MAX_VILLAGES]]
    if (rest := len(notice.villages) - MAX_VILLAGES) > 0:
        villages.append(_("… and {n} more agencies").format(n=number(rest)))
    oldest = [_("Longest overdue:")] + [
        report_line(r.tracking_id, r.title, f"{esc_truncate(r.agency_name or '', 100)}, "
                    + _("due {date}").format(date=short_date(r.due, locale)))
        for r in notice.oldest]
    buttons = [[InlineKeyboardButton(text=r.tracking_id,
                                     callback_data=KecamatanCb(a=KecamatanAction.OPEN, r=r.report_id).pack())]
               for r in notice.oldest[:MAX_REMINDER_BUTTONS]]
    buttons.append([InlineKeyboardButton(text=_("Show all {n}").format(n=number(total)),
                                         callback_data=KecamatanCb(a=KecamatanAction.LIST).pack())])
    return Rendered([head, "\n".join(villages), "\n".join(oldest)], InlineKeyboardMarkup(inline_keyboard=buttons))
