"""An edit that changes nothing is done, not an error.

Telegram refuses an edit whose text and buttons equal what the message already shows (400
"message is not modified"). A double tap produces exactly that: both taps carry the message as
it was, the first edit changes it, the second finds nothing left to change. What the handler
wanted is on the screen, so the edit counts as done instead of ending the update in the error
handler (which would also answer the button a second time).
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    EditMessageCaption,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    Response,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

_EDITS = (EditMessageText, EditMessageCaption, EditMessageReplyMarkup, EditMessageMedia)


class UnchangedEditMiddleware(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, _EDITS) or "message is not modified" not in exc.message:
                raise
            log.debug("%s changed nothing; taken as done", type(method).__name__)
            # What an edit of an inline message returns. (Request middlewares pass on the result
            # itself, not a Response: see aiogram's BaseSession.__call__.)
            return True  # type: ignore[return-value]
