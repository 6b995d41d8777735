"""Writing rows to the outbox: names normalised, aiogram objects serialised, payloads checked."""

from __future__ import annotations

import json

import pytest
from aiogram.methods import CopyMessage, SendMediaGroup, SendMessage
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
)

from bot.services.outbox import UnknownMethodError, build_method, enqueue, enqueue_message
from storage.repositories.outbox import OutboxRepo


async def test_enqueue_message_defaults_to_html_and_dumps_markup(session):
    button = InlineKeyboardButton(text="Buka", callback_data="r:9")
    kb = InlineKeyboardMarkup(inline_keyboard=[[button]])
    row = await enqueue_message(session, 42, "<b>Halo</b>", kb, group_key="report:9")
    await session.commit()

    stored = await OutboxRepo(session).get(row.id)
    assert stored.method == "sendMessage"
    assert stored.group_key == "report:9" and stored.status == "pending"
    assert stored.payload == {
        "text": "<b>Halo</b>",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Buka", "callback_data": "r:9"}]]},
    }
    call = build_method(stored.method, stored.payload, stored.chat_id)
    assert isinstance(call, SendMessage)
    assert call.reply_markup.inline_keyboard[0][0].text == "Buka"


async def test_enqueue_message_keeps_extra_params_and_explicit_plain_text(session):
    row = await enqueue_message(
        session, 42, "a < b", {"remove_keyboard": True}, parse_mode=None, disable_notification=True
    )
    assert row.payload == {
        "text": "a < b",
        "parse_mode": None,
        "disable_notification": True,
        "reply_markup": {"remove_keyboard": True},
    }
    assert build_method(row.method, row.payload, 42).parse_mode is None


async def test_enqueue_normalises_method_names_and_serialises_media(session):
    media = [
        InputMediaPhoto(media="PHOTO_ID", caption="Lokasi"),
        InputMediaDocument(media="DOC_ID"),
    ]
    row = await enqueue(session, chat_id=7, method="send_media_group", payload={"media": media})
    assert row.method == "sendMediaGroup"
    json.dumps(row.payload)  # the placeholders aiogram uses for bot defaults are gone
    assert row.payload["media"] == [
        {"type": "photo", "media": "PHOTO_ID", "caption": "Lokasi"},
        {"type": "document", "media": "DOC_ID"},
    ]
    call = build_method(row.method, row.payload, 7)
    assert isinstance(call, SendMediaGroup) and call.media[1].media == "DOC_ID"

    copy = await enqueue(
        session, chat_id=7, method="CopyMessage", payload={"from_chat_id": 5, "message_id": 3}
    )
    assert copy.method == "copyMessage"
    assert isinstance(build_method(copy.method, copy.payload, 7), CopyMessage)


async def test_enqueue_rejects_bad_payloads_and_unknown_methods(session):
    with pytest.raises(ValueError, match="sendMessage"):
        await enqueue(session, chat_id=7, method="sendMessage", payload={"caption": "no text"})
    with pytest.raises(UnknownMethodError):
        await enqueue(session, chat_id=7, method="sendTelegram", payload={})
    # Not chat-bound: cannot be an outbox row.
    with pytest.raises(UnknownMethodError):
        await enqueue(
            session, chat_id=7, method="answerCallbackQuery", payload={"callback_query_id": "1"}
        )
    assert await OutboxRepo(session).counts_by_status("x") == {}


async def test_enqueue_chat_id_in_payload_does_not_override(session):
    payload = {"text": "x", "chat_id": 99}
    row = await enqueue(session, chat_id=7, method="sendMessage", payload=payload)
    assert row.chat_id == 7 and "chat_id" not in row.payload
