"""The reporter's answer to the "is it really solved?" check-in (bot/jobs/checkin.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.workdays import WorkCalendar
from bot.jobs.checkin import CheckinAnswer, answer_checkin
from bot.services.casework import notifier
from bot.ui.checkin import CheckinCb
from storage.models import Citizen

router = Router(name=__name__)


@router.callback_query(CheckinCb.filter())
async def on_checkin(
    callback: CallbackQuery,
    callback_data: CheckinCb,
    session: AsyncSession,
    citizen: Citizen,
    settings: Settings,
    calendar: WorkCalendar,
    i18n: I18n,
) -> None:
    outcome = await answer_checkin(
        session,
        citizen=citizen,
        report_id=callback_data.r,
        solved=bool(callback_data.ok),
        n=notifier(settings, i18n, calendar),
        now=datetime.now(UTC),
    )
    await session.commit()
    match outcome:
        case CheckinAnswer.THANKED:
            reply = _("Thank you! Glad the problem is solved.")
        case CheckinAnswer.REOPENED:
            reply = _("Your report is open again and has gone back to the agency.")
        case _:
            reply = _("This question has already been answered.")
    await callback.answer()
    if callback.message is not None:
        # The buttons go, so a second tap cannot arrive; a message too old to edit keeps them
        # and the server check above answers any further tap as stale.
        try:
            await callback.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:
            pass
        await callback.message.answer(reply)
