"""``FormSession`` (bot/telegram_session.py) sends a request without files as the very body and
content type aiogram's own session sends, without building aiohttp's multipart writer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.enums import ParseMode
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from aiohttp.payload import BytesPayload

from bot.telegram_session import FormSession

BOT = Bot("42:TEST", default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True))
MARKUP = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Kirim & <ok>", callback_data="f:s:1")]])


@pytest.mark.parametrize("method", [
    SendMessage(chat_id=5, text="Laporan LPR-1 <b>diterima</b> & diteruskan ✓", reply_markup=MARKUP),
    SendMessage(chat_id=5, text="a+b=c?", entities=[MessageEntity(type="bold", offset=0, length=1)],
                protect_content=False, disable_notification=True),
    EditMessageText(chat_id=-100123, message_id=7, text="Ubah", reply_markup=MARKUP, parse_mode=None),
    AnswerCallbackQuery(callback_query_id="123", text="Tombol ini sudah tidak berlaku.", show_alert=True),
    SendDocument(chat_id=5, document="BQACAgIAAxkB", caption=f"{datetime(2026, 12, 2, tzinfo=UTC):%d %B}"),
])
def test_a_request_without_files_is_the_body_aiogram_sends(method):
    ours = FormSession().build_form_data(BOT, method)
    theirs = AiohttpSession().build_form_data(BOT, method)()  # FormData's payload, as aiohttp sends it

    assert isinstance(ours, BytesPayload)
    assert ours.content_type == theirs.content_type == "application/x-www-form-urlencoded"
    assert ours._value == theirs._value


def test_a_request_with_a_file_goes_the_multipart_way():
    method = SendDocument(chat_id=5, document=BufferedInputFile(b"%PDF-1.4", filename="lampiran.pdf"))
    form = FormSession().build_form_data(BOT, method)

    assert form.is_multipart
