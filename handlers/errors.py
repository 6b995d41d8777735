"""Last line of defence: an unexpected error is logged, and the user is told, never left waiting.

Expected conditions are not errors: a user who blocked the bot (403) is marked unreachable and
not written to; a reply that may have reached the user (the connection dropped after sending)
is not followed by an apology that would invite them to repeat what they did. This handler
itself never raises, whatever the Bot API answers (a proxy's HTML page included).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.retry import Failure, brief, classify
from bot.services.citizens import mark_unreachable

log = logging.getLogger(__name__)
# A user's own doing, or Telegram's hiccup: not something for the error log.
quiet = logging.getLogger("bot.telegram")


async def on_error(event: ErrorEvent, session_factory: async_sessionmaker[AsyncSession] | None = None) -> bool:
    exc, update_id = event.exception, event.update.update_id
    if isinstance(exc, TelegramForbiddenError):
        await _blocked(event, exc, session_factory)
        return True
    kind = classify(exc)
    if kind is Failure.AMBIGUOUS:
        quiet.warning("update %s: a reply may not have arrived (%s); not repeated", update_id, brief(exc))
        return True
    if kind is not Failure.OTHER:
        log.warning("update %s: Telegram kept failing (%s)", update_id, brief(exc))
    else:
        log.exception("update %s failed", update_id, exc_info=exc)
    text = _("Sorry, something went wrong on our side. What you entered is kept; please try again.")
    try:
        if cq := event.update.callback_query:
            await cq.answer(text, show_alert=True)
        elif msg := event.update.message:
            await msg.answer(text)
    except Exception as apology_failed:  # the last line of defence must not fall
        log.warning("could not tell the user about the error: %s", brief(apology_failed))
    return True


async def _blocked(event: ErrorEvent, exc: TelegramForbiddenError, session_factory) -> None:
    chat_id = getattr(exc.method, "chat_id", None)
    try:
        user = getattr(event.update.event, "from_user", None)
    except Exception:  # an update type aiogram does not know
        user = None
    who = chat_id if isinstance(chat_id, int) and chat_id > 0 else (user.id if user else None)
    quiet.info("update %s: user %s cannot be written to (%s)", event.update.update_id, who, exc.message)
    if who is None or session_factory is None:
        return
    try:
        async with session_factory() as session:
            await mark_unreachable(session, who)
    except Exception as db_failed:
        quiet.warning("could not mark user %s unreachable: %s", who, db_failed)


def router() -> Router:
    r = Router(name=__name__)
    r.errors.register(on_error)
    return r
