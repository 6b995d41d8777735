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


class AcceptingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def make_request(self, bot, method, timeout=None):
        self.calls.append(type(method).__name__)
        if isinstance(method, SendMessage):
            from aiogram.types import Chat, Message
            return Message(message_id=77, date=0, chat=Chat(id=1, type="private"), text=method.text)
        return True

    async def close(self) -> None: ...

    async def stream_content(self, *a, **kw):  # pragma: no cover
        yield b""


async def test_an_edit_to_what_the_message_already_shows_is_not_sent() -> None:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    session = AcceptingSession()
    session.middleware(UnchangedEditMiddleware())
    bot = Bot("123456:" + "A" * 35, session=session)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Setuju", callback_data="c:a")]])
    await bot(SendMessage(chat_id=1, text="Setuju?", reply_markup=keyboard))
    await bot(EditMessageReplyMarkup(chat_id=1, message_id=77, reply_markup=keyboard))  # as sent: skipped
    await bot(EditMessageReplyMarkup(chat_id=1, message_id=77, reply_markup=None))
    await bot(EditMessageReplyMarkup(chat_id=1, message_id=77, reply_markup=None))  # the double tap
    await bot(EditMessageText(chat_id=1, message_id=77, text="Bahasa ✓"))
    await bot(EditMessageText(chat_id=1, message_id=77, text="Bahasa ✓"))
    await bot(EditMessageText(chat_id=1, message_id=78, text="Bahasa ✓"))  # a message it never wrote
    assert session.calls == ["SendMessage", "EditMessageReplyMarkup", "EditMessageText", "EditMessageText"]
