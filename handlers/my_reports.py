"""/laporan (my reports, paged), opening one report, and /status <tracking ID>.

Reading only: nothing here changes the FSM state, so these work in the middle of a form. Every
report is looked up together with its owner (``bot.services.my_reports``): a forged button or
someone else's tracking ID gets the same answer as one that does not exist.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.tracking import normalize_tracking_id
from bot.domain.workdays import WorkCalendar
from bot.filters import PRIVATE_CHAT
from bot.services.casework import reporter
from bot.services.my_reports import MyReportView, find_my_report, list_my_reports, open_my_report
from bot.ui.case_keyboards import add_information_button
from bot.ui.citizen_callbacks import CitizenMenuCb, MenuAction, MyReportsPageCb, OpenMyReportCb
from bot.ui.citizen_keyboards import back_to_my_reports_keyboard, my_reports_keyboard
from bot.ui.render import esc
from bot.ui.report_render import render_citizen_report, render_my_reports_page
from storage.models import Citizen

TRACKING_EXAMPLE = "LPR-7K3M-Q9XD"


async def _page(
    session: AsyncSession, citizen: Citizen, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    result = await list_my_reports(session, citizen.id, page)
    text = render_my_reports_page(result, locale)
    if not result.reports:
        return text, None
    keyboard = my_reports_keyboard(
        [(r.id, r.tracking_id) for r in result.reports], result.page, result.pages
    )
    return text, keyboard


async def _send_report(
    bot: Bot, chat_id: int, view: MyReportView, calendar: WorkCalendar, locale: str, page: int,
    settings: Settings, actor: Actor,
) -> None:
    messages = render_citizen_report(view, calendar, locale, lapor_url=settings.lapor.report_url)
    withdrawable = view.report.id if access.check(actor, Action.WITHDRAW, view.report) is None else None
    markup = back_to_my_reports_keyboard(page, withdrawable=withdrawable)
    if reporter.may_add_information(actor, view.report):
        # While the report is open the reporter may add to it (relayed to whoever handles it).
        markup.inline_keyboard.insert(0, [add_information_button(view.report.id)])
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        await bot.send_message(chat_id, text, reply_markup=markup if last else None)


async def my_reports(
    message: Message, session: AsyncSession, citizen: Citizen, locale: str
) -> None:
    text, keyboard = await _page(session, citizen, 0, locale)
    await message.answer(text, reply_markup=keyboard)


async def my_reports_button(
    callback: CallbackQuery, session: AsyncSession, citizen: Citizen, locale: str, bot: Bot
) -> None:
    await callback.answer()
    text, keyboard = await _page(session, citizen, 0, locale)
    await bot.send_message(callback.from_user.id, text, reply_markup=keyboard)


async def my_reports_page(
    callback: CallbackQuery,
    callback_data: MyReportsPageCb,
    session: AsyncSession,
    citizen: Citizen,
    locale: str,
    bot: Bot,
) -> None:
    await callback.answer()
    text, keyboard = await _page(session, citizen, callback_data.page, locale)
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_text(text, reply_markup=keyboard)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
            # Not editable (too old, or a card with another layout): send it afresh.
    await bot.send_message(callback.from_user.id, text, reply_markup=keyboard)


async def open_report(
    callback: CallbackQuery,
    callback_data: OpenMyReportCb,
    session: AsyncSession,
    citizen: Citizen,
    calendar: WorkCalendar,
    locale: str,
    bot: Bot,
    settings: Settings,
    actor: Actor,
) -> None:
    view = await open_my_report(session, citizen.id, callback_data.report_id)
    if view is None:
        await callback.answer(_("This report is not available."), show_alert=True)
        return
    await callback.answer()
    await _send_report(
        bot, callback.from_user.id, view, calendar, locale, max(callback_data.page, 0), settings, actor
    )


async def status(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    citizen: Citizen,
    calendar: WorkCalendar,
    locale: str,
    bot: Bot,
    settings: Settings,
    actor: Actor,
) -> None:
    raw = (command.args or "").strip()
    if not raw:
        await message.answer(
            _(
                "Send the tracking ID after the command, for example:\n"
                "<code>/status {example}</code>\n"
                "\n"
                "All your reports are listed with /laporan."
            ).format(example=TRACKING_EXAMPLE)
        )
        return
    tracking_id = normalize_tracking_id(raw)
    if tracking_id is None:
        await message.answer(
            _(
                "That does not look like a tracking ID. It looks like <code>{example}</code>: "
                "capitals and dashes are optional. Check it and try again, or see all your "
                "reports with /laporan."
            ).format(example=TRACKING_EXAMPLE)
        )
        return
    view = await find_my_report(session, citizen.id, tracking_id)
    if view is None:
        # The same words whether the ID is unknown or belongs to someone else.
        await message.answer(
            _(
                "None of your reports has the tracking ID <code>{tracking_id}</code>. Check the "
                "ID, or see all your reports with /laporan."
            ).format(tracking_id=esc(tracking_id))
        )
        return
    await _send_report(bot, message.chat.id, view, calendar, locale, 0, settings, actor)


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(my_reports, Command("laporan"))
    r.callback_query.register(my_reports_button, CitizenMenuCb.filter(F.action == MenuAction.MY_REPORTS))
    r.callback_query.register(my_reports_page, MyReportsPageCb.filter())
    r.callback_query.register(open_report, OpenMyReportCb.filter())
    r.message.register(status, Command("status"))
    return r
