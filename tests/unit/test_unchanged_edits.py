"""An edit Telegram refuses as "message is not modified" is done; every other refusal stays one."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import EditMessageReplyMarkup, EditMessageText, SendMessage

from bot.unchanged_edits import UnchangedEditMiddleware

NOT_MODIFIED = "Bad Request: message is not modified: specified new message content and reply markup are " \
               "exactly the same as a current content and reply markup of the message"


class RefusingSession(BaseSession):
    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description

    async def make_request(self, bot, method, timeout=None):
        raise TelegramBadRequest(method=method, message=self.description)

    async def close(self) -> None: ...

    async def stream_content(self, *a, **kw):  # pragma: no cover
        yield b""


def _bot(description: str) -> Bot:
    session = RefusingSession(description)
    session.middleware(UnchangedEditMiddleware())
    return Bot("123456:" + "A" * 35, session=session)


@pytest.mark.parametrize("method", [
    EditMessageText(chat_id=1, message_id=2, text="Bahasa: Indonesia ✓"),
    EditMessageReplyMarkup(chat_id=1, message_id=2, reply_markup=None),
])
async def test_an_unchanged_edit_is_done(method) -> None:
    assert await _bot(NOT_MODIFIED)(method) is True


async def test_other_refusals_of_an_edit_still_raise() -> None:
    with pytest.raises(TelegramBadRequest, match="can't be edited"):
        await _bot("Bad Request: message can't be edited")(EditMessageText(chat_id=1, message_id=2, text="x"))


async def test_only_edits_are_forgiven() -> None:
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await _bot(NOT_MODIFIED)(SendMessage(chat_id=1, text="x"))
