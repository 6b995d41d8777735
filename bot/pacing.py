"""Direct replies keep Telegram's pace: a short burst per chat, then about one message a second,
and the bot's overall rate, shared with the delivery loop (``ChatPacer``).

Without it a restart with a backlog answers every waiting update at once, and Telegram answers
part of them with 429 (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
Only what creates a message counts; edits and button answers are not limited that way.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.services.ratelimit import ChatPacer

log = logging.getLogger(__name__)

SENDS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendVoice", "sendAudio", "sendAnimation",
    "sendSticker", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice",
    "sendVideoNote", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
})


class PaceMiddleware(BaseRequestMiddleware):
    def __init__(self, pacer: ChatPacer) -> None:
        self.pacer = pacer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None and method.__api_method__ in SENDS:
            waited = await self.pacer.acquire(chat_id)
            if waited:
                log.debug("%s to %s held %.2fs for the chat's pace", method.__api_method__, chat_id, waited)
        return await make_request(bot, method)
