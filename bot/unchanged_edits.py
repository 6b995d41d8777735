"""An edit that changes nothing is done, not an error, and is not even sent when we know.

Telegram refuses an edit whose text and buttons equal what the message already shows (400
"message is not modified"). A double tap produces exactly that: both taps carry the message as
it was, the first edit changes it, the second finds nothing left to change. What the handler
wanted is on the screen, so the edit counts as done instead of ending the update in the error
handler (which would also answer the button a second time).

Better still, the request is not made: the process remembers what it last put in each of its
recent messages (the text and the buttons it sent or edited in) and skips an edit that would
change nothing. A chat's updates are handled one at a time (the events isolation), so the
second tap sees what the first one did. Another process may have made the first edit; then
Telegram's refusal is still taken as done.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    EditMessageCaption,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    Response,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

_EDITS = (EditMessageText, EditMessageCaption, EditMessageReplyMarkup, EditMessageMedia)


_UNKNOWN = object()


def _markup(method: Any) -> Any:
    markup = method.reply_markup
    return markup.model_dump(exclude_none=True) if markup is not None else None


class ShownMessages:
    """(chat id, message id) -> (text as we sent it, with its parse mode; buttons), for the most
    recent messages this process wrote or edited."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._shown: OrderedDict[tuple[Any, int], tuple[Any, Any]] = OrderedDict()

    def get(self, chat_id: Any, message_id: int) -> tuple[Any, Any] | None:
        return self._shown.get((str(chat_id), message_id))

    def put(self, chat_id: Any, message_id: int, text: Any, markup: Any) -> None:
        key = (str(chat_id), message_id)
        self._shown[key] = (text, markup)
        self._shown.move_to_end(key)
        while len(self._shown) > self._size:
            self._shown.popitem(last=False)

    def forget(self, chat_id: Any, message_id: int) -> None:
        self._shown.pop((str(chat_id), message_id), None)


def _text(method: EditMessageText | SendMessage) -> tuple[Any, ...]:
    return (method.text, str(method.parse_mode), repr(method.entities))


class UnchangedEditMiddleware(BaseRequestMiddleware):
    def __init__(self, shown: ShownMessages | None = None) -> None:
        self.shown = shown or ShownMessages()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if self._changes_nothing(method):
            log.debug("%s would change nothing; not sent", type(method).__name__)
            return True  # type: ignore[return-value]
        try:
            result = await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, _EDITS) or "message is not modified" not in exc.message:
                raise
            log.debug("%s changed nothing; taken as done", type(method).__name__)
            # What an edit of an inline message returns. (Request middlewares pass on the result
            # itself, not a Response: see aiogram's BaseSession.__call__.)
            return True  # type: ignore[return-value]
        self._remember(method, result)
        return result

    def _changes_nothing(self, method: TelegramMethod[Any]) -> bool:
        if not isinstance(method, EditMessageText | EditMessageReplyMarkup) or method.message_id is None:
            return False
        shown = self.shown.get(method.chat_id, method.message_id)
        if shown is None:
            return False
        text, markup = shown
        if isinstance(method, EditMessageReplyMarkup):
            return markup == _markup(method)
        return text == _text(method) and markup == _markup(method)

    def _remember(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, SendMessage):
            message_id = getattr(result, "message_id", None)
            if message_id is not None:
                self.shown.put(method.chat_id, message_id, _text(method), _markup(method))
        elif isinstance(method, EditMessageText) and method.message_id is not None:
            # An edit without buttons takes them away (Bot API: reply_markup is optional).
            self.shown.put(method.chat_id, method.message_id, _text(method), _markup(method))
        elif isinstance(method, EditMessageReplyMarkup) and method.message_id is not None:
            text, _markup_before = self.shown.get(method.chat_id, method.message_id) or (_UNKNOWN, None)
            self.shown.put(method.chat_id, method.message_id, text, _markup(method))
        elif isinstance(method, EditMessageCaption | EditMessageMedia) and method.message_id is not None:
            self.shown.forget(method.chat_id, method.message_id)
