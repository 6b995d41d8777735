"""The reporter's answer to the "is it really solved?" check-in (bot/jobs/checkin.py)."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Actor
from bot.services.casework import reporter
from bot.services.casework.core import Casework
from bot.services.casework.reporter import CheckinAnswer
from bot.services.delivery import DeliveryWorker
from bot.ui.checkin import CheckinCb
from storage.base import utcnow


async def on_checkin(
    callback: CallbackQuery,
    callback_data: CheckinCb,
    session: AsyncSession,
    casework: Casework,
    actor: Actor,
    delivery: DeliveryWorker,
) -> None:
    outcome = await reporter.answer_checkin(session, casework, actor, callback_data.r,
                                            solved=bool(callback_data.ok), now=utcnow())
    match outcome:
        case CheckinAnswer.THANKED:
            reply = _("Thank you! Glad the problem is solved.")
        case CheckinAnswer.REOPENED:
            delivery.wake()
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


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(on_checkin, CheckinCb.filter())
    return r
