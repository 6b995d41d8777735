"""Last line of defence: an unexpected error is logged, and the user is told, never left waiting."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    text = _("Sorry, something went wrong on our side. What you entered is kept; please try again.")
    try:
        if cq := event.update.callback_query:
            await cq.answer(text, show_alert=True)
        elif msg := event.update.message:
            await msg.answer(text)
    except TelegramAPIError:
        log.warning("could not tell the user about the error", exc_info=True)
    return True


def router() -> Router:
    r = Router(name=__name__)
    r.errors.register(on_error)
    return r
