"""``FormSession`` (bot/telegram_session.py) sends a request without files as the very body and
content type aiogram's own session sends, without building aiohttp's multipart writer, and
validates a getUpdates answer one update at a time, as aiogram would have, with the event loop
running between two."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramConflictError
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetUpdates, SendDocument, SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from aiohttp.payload import BytesPayload

from bot.telegram_session import FormSession, updates_one_by_one

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


UPDATES = [
    {"update_id": 10, "message": {"message_id": 1, "date": 1764640000, "text": "/lapor",
                                  "chat": {"id": 5, "type": "private", "first_name": "Sari"},
                                  "from": {"id": 5, "is_bot": False, "first_name": "Sari"}}},
    {"update_id": 11, "callback_query": {"id": "7", "chat_instance": "1", "data": "f:k:1",
                                         "from": {"id": 6, "is_bot": False, "first_name": "Budi"}}},
    {"update_id": 12, "my_chat_member": {"chat": {"id": -1001, "type": "supergroup", "title": "OPD"},
                                         "from": {"id": 6, "is_bot": False, "first_name": "Budi"},
                                         "date": 1764640000,
                                         "old_chat_member": {"status": "left", "user": {"id": 42, "is_bot": True,
                                                                                        "first_name": "Bot"}},
                                         "new_chat_member": {"status": "member", "user": {"id": 42, "is_bot": True,
                                                                                          "first_name": "Bot"}}}},
]
ANSWER = json.dumps({"ok": True, "result": UPDATES})


async def test_a_batch_of_updates_is_what_aiogram_makes_of_it():
    session = FormSession()
    raw = session.check_response(BOT, GetUpdates(), 200, ANSWER).result
    theirs = AiohttpSession().check_response(BOT, GetUpdates(), 200, ANSWER).result

    assert await updates_one_by_one(BOT, raw) == theirs


async def test_a_batch_of_updates_lets_the_loop_run_between_two(monkeypatch):
    order: list[str] = []
    validate = Update.model_validate
    monkeypatch.setattr(Update, "model_validate",
                        classmethod(lambda cls, obj, **kw: order.append("update") or validate(obj, **kw)))

    async def handler_meanwhile() -> None:
        for _ in range(len(UPDATES)):
            order.append("handler")
            await asyncio.sleep(0)

    running = asyncio.create_task(handler_meanwhile())
    await updates_one_by_one(BOT, UPDATES)
    await running

    # A handler that was ready ran before the batch's last update was parsed.
    assert order.index("handler") < len(order) - 1 - order[::-1].index("update"), order


@pytest.mark.parametrize(("status", "content", "error"), [
    (409, json.dumps({"ok": False, "error_code": 409, "description": "Conflict: terminated by other getUpdates"}),
     TelegramConflictError),
    (200, "<html>502 Bad Gateway</html>", ClientDecodeError),
    (200, json.dumps({"ok": True, "result": [{"update_id": "not a number"}]}), ClientDecodeError),
])
async def test_a_bad_getupdates_answer_fails_as_in_aiogram(status, content, error):
    session = FormSession()
    with pytest.raises(error):
        raw = session.check_response(BOT, GetUpdates(), status, content).result
        await updates_one_by_one(BOT, raw)


async def test_the_journal_stores_each_polled_update_as_telegram_sent_it():
    """Issue 15: the journal's record of a getUpdates answer takes each update as it came, not
    the validated update dumped back to JSON (~0.1 ms of CPU per update)."""
    from bot.journal import JournalingDispatcher

    recorded: list[list[tuple[int, object]]] = []

    class Journal:
        async def record_claimed_batch(self, rows):
            recorded.append(rows)
            return set()

    dp = JournalingDispatcher()
    dp.journal = Journal()  # type: ignore[assignment]
    raw = FormSession().check_response(BOT, GetUpdates(), 200, ANSWER).result
    batch = await updates_one_by_one(BOT, raw)
    await dp.record_batch(batch)

    [rows] = recorded
    assert [uid for uid, _ in rows] == [10, 11, 12]
    assert all(payload is sent for (_, payload), sent in zip(rows, raw, strict=True))
