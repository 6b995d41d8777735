"""The local Bot API server, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
)

from sandbox.botapi import BotApiServer, Limits, SimUser
from sandbox.botapi.markup import parse_html, utf16_len
from sandbox.botapi.models import ApiError

ALICE = SimUser(id=1001, first_name="Siti", last_name="Aminah", username="siti", language_code="id")
BUDI = SimUser(id=1002, first_name="Budi", language_code="en")


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


async def _started(limits: Limits) -> BotApiServer:
    server = BotApiServer(limits=limits)
    await server.start()
    return server


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    srv = await _started(Limits.off())
    srv.add_user(ALICE)
    srv.add_user(BUDI)
    yield srv
    await srv.stop()


def make_bot(server: BotApiServer) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(server.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    b = make_bot(server)
    yield b
    await b.session.close()


# -- basics --------------------------------------------------------------------------------


async def test_get_me_answers_with_the_configured_bot(bot: Bot, server: BotApiServer) -> None:
    me = await bot.get_me()
    assert me.username == "lapor_bot"
    assert me.is_bot
    assert me.id == int(server.token.split(":")[0])


async def test_sent_message_can_be_read_back_with_entities_and_keyboard(bot: Bot, server: BotApiServer) -> None:
    sent = await bot.send_message(
        ALICE.id, "<b>Laporan</b> diterima 😀 &lt;ok&gt;", reply_markup=keyboard(("Lihat", "r:1"))
    )

    assert sent.text == "Laporan diterima 😀 <ok>"
    assert sent.chat.id == ALICE.id
    stored = server.chat(ALICE.id)[-1]
    assert stored.from_bot and stored.message_id == sent.message_id
    assert stored.entities == [{"type": "bold", "offset": 0, "length": 7}]
    assert stored.callback_data() == ["r:1"]
    assert server.requests("sendMessage")[-1].params["text"].startswith("<b>Laporan</b>")
    assert server.violations == []


async def test_message_ids_increase_per_chat(bot: Bot, server: BotApiServer) -> None:
    first = await bot.send_message(ALICE.id, "a")
    await bot.send_message(BUDI.id, "b")
    second = await bot.send_message(ALICE.id, "c")
    assert second.message_id == first.message_id + 1


async def test_unknown_chat_is_refused_and_recorded(bot: Bot, server: BotApiServer) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hi")
    assert [(v.method, v.chat_id, v.description) for v in server.violations] == [
        ("sendMessage", 424242, "Bad Request: chat not found")
    ]


async def test_unknown_method_and_token_answer_like_telegram(server: BotApiServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/bot{server.token}/sendTelepathy") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        async with http.post(f"{server.base_url}/bot999:wrong/getMe") as resp:
            assert resp.status == 401
            assert (await resp.json())["description"] == "Unauthorized"


async def test_json_and_urlencoded_bodies_are_accepted(server: BotApiServer) -> None:
    url = f"{server.base_url}/bot{server.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Ya", "callback_data": "yes"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": ALICE.id, "text": "json", "reply_markup": markup}) as resp:
            body = await resp.json()
            assert body["ok"] and body["result"]["reply_markup"] == markup
        async with http.post(url, data={"chat_id": str(BUDI.id), "text": "form"}) as resp:
            assert (await resp.json())["result"]["text"] == "form"
    assert [m.text for m in server.chat(ALICE.id)] == ["json"]


# -- what Telegram refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<foo>x</foo>", 'can\'t parse entities: Unsupported start tag "foo" at byte offset 0'),
        ("Jalan rusak < 5 m", 'Unsupported start tag "" at byte offset 12'),
        ("é <bar>", 'Unsupported start tag "bar" at byte offset 3'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>tebal", 'Can\'t find end tag corresponding to start tag "b"'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_bad_html_is_refused(bot: Bot, server: BotApiServer, text: str, description: str) -> None:
    with pytest.raises(TelegramBadRequest) as err:
        await bot.send_message(ALICE.id, text)
    assert description in err.value.message
    assert err.value.message.startswith("Bad Request: can't parse entities: ")
    assert server.chat(ALICE.id) == []
    assert len(server.violations) == 1


async def test_length_is_counted_in_utf16_after_parsing(bot: Bot) -> None:
    # 2048 emoji are 4096 UTF-16 code units: the limit exactly; one more is too long
    # although the string is only 2049 Python characters.
    await bot.send_message(ALICE.id, "😀" * 2048)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE.id, "😀" * 2049)
    # Tags do not count.
    await bot.send_message(ALICE.id, "<b>" + "a" * 4096 + "</b>")


async def test_empty_text_and_long_caption_are_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE.id, "<b> </b>")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE.id, BufferedInputFile(b"img", "a.jpg"), caption="x" * 1025)


async def test_markdown_is_refused_with_a_clear_reason(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="only implements HTML"):
        await bot.send_message(ALICE.id, "*bold*", parse_mode="MarkdownV2")


@pytest.mark.parametrize("data", ["x" * 65, "é" * 33])
async def test_callback_data_over_64_bytes_is_refused(bot: Bot, data: str) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE.id, "pilih", reply_markup=keyboard(("A", data)))


async def test_callback_data_of_64_bytes_is_fine(bot: Bot, server: BotApiServer) -> None:
    await bot.send_message(ALICE.id, "pilih", reply_markup=keyboard(("A", "x" * 64)))
    assert server.violations == []


async def test_inline_button_without_action_is_refused(server: BotApiServer) -> None:
    url = f"{server.base_url}/bot{server.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "just text"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": ALICE.id, "text": "x", "reply_markup": markup}) as resp:
            assert resp.status == 400
            assert "Text buttons are unallowed" in (await resp.json())["description"]


def test_html_parser_counts_offsets_in_utf16() -> None:
    text, entities = parse_html("😀 <b>tebal</b> <i>miring <u>garis</u></i>")
    assert text == "😀 tebal miring garis"
    assert utf16_len("😀") == 2
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "italic", "offset": 9, "length": 12},
        {"type": "underline", "offset": 16, "length": 5},
    ]


def test_html_parser_knows_telegram_specific_tags() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<blockquote expandable>kutipan</blockquote><tg-spoiler>rahasia</tg-spoiler>'
        '<a href="https://lapor.go.id">LAPOR</a>&#33;&#x21;&quot;'
    )
    assert text == 'x = 1kutipanrahasiaLAPOR!!"'
    assert {"type": "pre", "offset": 0, "length": 5, "language": "python"} in entities
    assert {"type": "expandable_blockquote", "offset": 5, "length": 7} in entities
    assert {"type": "spoiler", "offset": 12, "length": 7} in entities
    assert {"type": "text_link", "offset": 19, "length": 5, "url": "https://lapor.go.id"} in entities


def test_html_parser_refuses_unknown_named_entity() -> None:
    with pytest.raises(ApiError, match="Unescaped"):
        parse_html("a&nbsp;b")


# -- editing, deleting, copying ------------------------------------------------------------


async def test_edit_message_text_updates_the_stored_message(bot: Bot, server: BotApiServer) -> None:
    sent = await bot.send_message(ALICE.id, "Status: baru", reply_markup=keyboard(("Tutup", "close")))
    edited = await bot.edit_message_text("Status: <i>selesai</i>", chat_id=ALICE.id, message_id=sent.message_id)

    assert edited.text == "Status: selesai"
    stored = server.chat(ALICE.id)[0]
    assert stored.text == "Status: selesai"
    assert stored.entities == [{"type": "italic", "offset": 8, "length": 7}]
    # No reply_markup in the edit removes the keyboard, as on Telegram.
    assert stored.reply_markup is None
    assert stored.history[0]["text"] == "Status: baru"
    assert stored.edit_date is not None


async def test_identical_edit_is_not_modified(bot: Bot, server: BotApiServer) -> None:
    sent = await bot.send_message(ALICE.id, "<b>sama</b>", reply_markup=keyboard(("A", "a")))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>sama</b>", chat_id=ALICE.id, message_id=sent.message_id, reply_markup=keyboard(("A", "a"))
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ALICE.id, message_id=sent.message_id, reply_markup=keyboard(("A", "a"))
        )
    await bot.edit_message_reply_markup(chat_id=ALICE.id, message_id=sent.message_id, reply_markup=None)
    assert server.chat(ALICE.id)[0].reply_markup is None


async def test_editing_a_users_message_or_a_missing_one_is_refused(bot: Bot, server: BotApiServer) -> None:
    mine = await server.user_sends_text(ALICE, "halo")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=ALICE.id, message_id=mine.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE.id, message_id=999)


async def test_edit_caption_and_delete(bot: Bot, server: BotApiServer) -> None:
    photo = await bot.send_photo(ALICE.id, BufferedInputFile(b"img", "a.jpg"), caption="lama")
    await bot.edit_message_caption(chat_id=ALICE.id, message_id=photo.message_id, caption="<b>baru</b>")
    assert server.chat(ALICE.id)[0].caption == "baru"
    assert await bot.delete_message(ALICE.id, photo.message_id)
    assert server.chat(ALICE.id)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE.id, photo.message_id)


async def test_copy_and_forward(bot: Bot, server: BotApiServer) -> None:
    original = await server.user_sends_text(ALICE, "Jalan berlubang di RT 03")
    copied = await bot.copy_message(BUDI.id, ALICE.id, original.message_id)
    forwarded = await bot.forward_message(BUDI.id, ALICE.id, original.message_id)
    budi_chat = server.chat(BUDI.id)
    assert [m.message_id for m in budi_chat] == [copied.message_id, forwarded.message_id]
    assert budi_chat[0].text == budi_chat[1].text == "Jalan berlubang di RT 03"
    assert forwarded.forward_origin is not None
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(BUDI.id, ALICE.id, 999)


# -- users, updates and callbacks ----------------------------------------------------------


async def test_get_updates_long_poll_receives_a_users_message(bot: Bot, server: BotApiServer) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0)  # let the poll reach the server before the user writes
    await server.user_sends_text(ALICE, "/start ref")
    updates = await asyncio.wait_for(poll, 10)

    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start ref"
    assert message.from_user is not None and message.from_user.username == "siti"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    # Confirming by offset removes the update, as on Telegram.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []
    assert server.state.updates == []


async def test_unconfirmed_updates_are_delivered_again(bot: Bot, server: BotApiServer) -> None:
    await server.user_sends_text(ALICE, "satu")
    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == [u.update_id for u in again]
    await server.user_sends_text(ALICE, "dua")
    more = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in more if u.message] == ["dua"]
    assert more[0].update_id > first[-1].update_id


async def test_allowed_updates_filters_update_types(bot: Bot, server: BotApiServer) -> None:
    await server.user_sends_text(ALICE, "teks")
    sent = await bot.send_message(ALICE.id, "pilih", reply_markup=keyboard(("A", "a")))
    await server.user_presses(ALICE, sent.message_id, "a")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates if u.callback_query] == ["a"]
    assert all(u.message is None for u in updates)


async def test_a_second_poller_terminates_the_first(bot: Bot, server: BotApiServer) -> None:
    other = make_bot(server)
    try:
        first = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 10)
        assert await asyncio.wait_for(second, 10) == []
    finally:
        await other.session.close()


async def test_callback_flow_with_answer(bot: Bot, server: BotApiServer) -> None:
    sent = await bot.send_message(ALICE.id, "Setujui?", reply_markup=keyboard(("Ya", "ok:1"), ("Tidak", "no:1")))
    cq_id = await server.user_presses(ALICE, sent.message_id, "ok:1")

    (update,) = await bot.get_updates(timeout=0)
    cq = update.callback_query
    assert cq is not None and cq.id == cq_id and cq.data == "ok:1"
    assert cq.message is not None and cq.message.message_id == sent.message_id
    assert await bot.answer_callback_query(cq.id, text="Disetujui")
    answer = await server.wait_callback_answer(cq_id, timeout=5)
    assert answer["text"] == "Disetujui" and answer["show_alert"] is False
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(cq.id)


async def test_pressing_a_button_the_message_lacks_is_a_test_error(bot: Bot, server: BotApiServer) -> None:
    sent = await bot.send_message(ALICE.id, "Setujui?", reply_markup=keyboard(("Ya", "ok:1")))
    with pytest.raises(LookupError):
        await server.user_presses(ALICE, sent.message_id, "forged")
    # A forged client can still send it.
    assert await server.user_presses(ALICE, sent.message_id, "forged", check_button=False)


async def test_unanswered_callback_is_a_violation() -> None:
    server = await _started(Limits.off(callback_answer_timeout=0.05))
    try:
        bot = make_bot(server)
        server.add_user(ALICE)
        sent = await bot.send_message(ALICE.id, "x", reply_markup=keyboard(("A", "a")))
        cq_id = await server.user_presses(ALICE, sent.message_id, "a")
        violations = await server.wait_until(lambda: server.violations, timeout=5)
        assert violations[0].method == "answerCallbackQuery"
        assert cq_id in violations[0].description and "not answered" in violations[0].description
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(cq_id)
        await bot.session.close()
    finally:
        await server.stop()


async def test_wait_for_bot_message_returns_each_new_message_once(bot: Bot, server: BotApiServer) -> None:
    await bot.send_message(ALICE.id, "pertama")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(ALICE.id, "kedua")

    task = asyncio.create_task(later())
    first = await server.wait_for_bot_message(ALICE.id, timeout=5)
    second = await server.wait_for_bot_message(ALICE.id, timeout=5)
    await task
    assert (first.text, second.text) == ("pertama", "kedua")
    with pytest.raises(TimeoutError):
        await server.wait_for_bot_message(ALICE.id, timeout=0.05)


async def test_simulated_media_messages(bot: Bot, server: BotApiServer) -> None:
    album = await server.user_sends_album(ALICE, 3, caption="foto jalan")
    await server.user_sends_location(ALICE, -1.25, 116.83)
    await server.user_sends_document(ALICE, "surat.pdf", "application/pdf", 2048)
    await server.user_sends_sticker(ALICE)
    await server.user_sends_voice(ALICE, 4)
    updates = await bot.get_updates(timeout=0)
    msgs = [u.message for u in updates if u.message]
    assert len({m.media_group_id for m in msgs[:3]}) == 1 and msgs[0].media_group_id
    assert msgs[0].caption == "foto jalan" and msgs[0].photo and len(msgs[0].photo) > 1
    assert msgs[3].location is not None and msgs[3].location.latitude == -1.25
    assert msgs[4].document is not None and msgs[4].document.file_size == 2048
    assert msgs[5].sticker is not None and msgs[6].voice is not None and msgs[6].voice.duration == 4
    # The bot can fetch what a user sent.
    largest = msgs[0].photo[-1]
    file = await bot.get_file(largest.file_id)
    data = await bot.download_file(file.file_path)
    assert data is not None and len(data.read()) == largest.file_size
    assert [m.message_id for m in server.chat(ALICE.id)][:3] == [m.message_id for m in album]


# -- files ---------------------------------------------------------------------------------


async def test_photo_upload_and_resend_by_file_id(bot: Bot, server: BotApiServer) -> None:
    content = b"\xff\xd8\xff" + b"x" * 5000
    sent = await bot.send_photo(ALICE.id, BufferedInputFile(content, "bukti.jpg"), caption="<b>Bukti</b>")
    assert sent.photo and sent.caption == "Bukti"
    largest = sent.photo[-1]

    file = await bot.get_file(largest.file_id)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == content

    again = await bot.send_photo(BUDI.id, largest.file_id)
    assert again.photo is not None
    assert again.photo[-1].file_unique_id == largest.file_unique_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(BUDI.id, "no-such-file")
    doc = await bot.send_document(ALICE.id, BufferedInputFile(b"%PDF", "surat.pdf"))
    assert doc.document is not None and doc.document.file_name == "surat.pdf"
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(ALICE.id, doc.document.file_id)


async def test_send_media_group(bot: Bot, server: BotApiServer) -> None:
    existing = await bot.send_photo(ALICE.id, BufferedInputFile(b"one", "1.jpg"))
    media = [
        InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg"), caption="<i>Album</i>"),
        InputMediaPhoto(media=BufferedInputFile(b"three", "3.jpg")),
        InputMediaPhoto(media=existing.photo[-1].file_id),
    ]
    messages = await bot.send_media_group(BUDI.id, media)
    assert len(messages) == 3
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
    assert messages[0].caption == "Album"
    stored = server.chat(BUDI.id)
    assert [m.kind for m in stored] == ["photo"] * 3
    assert stored[2].media["photo"][-1]["file_unique_id"] == existing.photo[-1].file_unique_id
    with pytest.raises(TelegramBadRequest, match="2-10 items"):
        await bot.send_media_group(BUDI.id, media[:1])


async def test_location_chat_action_and_commands(bot: Bot, server: BotApiServer) -> None:
    loc = await bot.send_location(ALICE.id, latitude=-1.2, longitude=116.8)
    assert loc.location is not None and loc.location.longitude == 116.8
    assert await bot.send_chat_action(ALICE.id, "typing")
    assert server.state.chat_actions[ALICE.id][0] == "typing"

    await bot.set_my_commands([BotCommand(command="lapor", description="Buat laporan")], language_code="id")
    await bot.set_my_commands(
        [BotCommand(command="report", description="New report")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="en",
    )
    assert [c.command for c in await bot.get_my_commands(language_code="id")] == ["lapor"]
    assert await bot.get_my_commands() == []
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en")
    assert [c.command for c in got] == ["report"]
    await bot.delete_my_commands(language_code="id")
    assert await bot.get_my_commands(language_code="id") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command!", description="x")])
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""


# -- limits and faults ---------------------------------------------------------------------


async def test_per_chat_rate_limit_answers_429_with_retry_after() -> None:
    # A near-zero refill makes the outcome independent of how fast the machine is.
    server = await _started(Limits(per_chat_rate=0.001, per_chat_burst=2))
    bot = make_bot(server)
    try:
        server.add_user(ALICE)
        server.add_user(BUDI)
        await bot.send_message(ALICE.id, "1")
        await bot.send_message(ALICE.id, "2")
        with pytest.raises(TelegramRetryAfter) as err:
            await bot.send_message(ALICE.id, "3")
        assert err.value.retry_after >= 1
        await bot.send_message(BUDI.id, "another chat is fine")
        expected = f"Too Many Requests: retry after {err.value.retry_after}"
        assert expected in err.value.message
        assert [v.description for v in server.violations] == [expected]
    finally:
        await bot.session.close()
        await server.stop()


async def test_global_rate_limit() -> None:
    server = await _started(Limits(global_rate=0.001, global_burst=3, per_chat_burst=10))
    bot = make_bot(server)
    try:
        users = [SimUser(id=2000 + i) for i in range(4)]
        for user in users:
            server.add_user(user)
        for user in users[:3]:
            await bot.send_message(user.id, "siaran")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(users[3].id, "siaran")
    finally:
        await bot.session.close()
        await server.stop()


async def test_injected_faults(bot: Bot, server: BotApiServer) -> None:
    server.faults.add(method="sendMessage", chat_id=ALICE.id, kind="403")
    server.faults.add(method="sendMessage", kind="5xx")
    server.faults.add(method="sendMessage", kind="429", retry_after=7)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE.id, "x")
    with pytest.raises(TelegramServerError):
        await bot.send_message(BUDI.id, "x")
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(BUDI.id, "x")
    assert err.value.retry_after == 7
    await bot.send_message(ALICE.id, "lewat")
    assert [m.text for m in server.chat(ALICE.id)] == ["lewat"]
    assert server.faults.pending == []
    # Injected faults are the test's doing, not the bot's.
    assert server.violations == []
    assert [r.ok for r in server.requests("sendMessage")] == [False, False, False, True]


async def test_fault_applies_only_to_its_chat_and_times(bot: Bot, server: BotApiServer) -> None:
    server.faults.add(method="sendMessage", chat_id=ALICE.id, kind="5xx", times=2)
    await bot.send_message(BUDI.id, "budi ok")
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(ALICE.id, "x")
    await bot.send_message(ALICE.id, "third time")
    assert [m.text for m in server.chat(ALICE.id)] == ["third time"]


async def test_network_fault_after_delivery(bot: Bot, server: BotApiServer) -> None:
    server.faults.add(method="sendMessage", kind="network", deliver=True)
    server.faults.add(method="sendMessage", kind="network")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE.id, "terkirim tapi tanpa jawaban")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE.id, "hilang")
    assert [m.text for m in server.chat(ALICE.id)] == ["terkirim tapi tanpa jawaban"]


async def test_timeout_fault(bot: Bot, server: BotApiServer) -> None:
    server.faults.add(method="sendMessage", kind="timeout", hang=30)
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(ALICE.id, "x", request_timeout=1)
    assert server.chat(ALICE.id) == []


async def test_blocked_user_gets_403_until_unblocked(bot: Bot, server: BotApiServer) -> None:
    server.block_user(ALICE.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE.id, "x")
    await bot.send_message(BUDI.id, "y")
    server.unblock_user(ALICE.id)
    await bot.send_message(ALICE.id, "z")
    updates = await bot.get_updates(timeout=0)
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == ["kicked", "member"]
    assert server.violations == []


# -- control API ---------------------------------------------------------------------------


async def test_control_api_posts_as_a_user_and_reads_the_chat(bot: Bot, server: BotApiServer) -> None:
    base = f"{server.base_url}/_sandbox"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/state") as resp:
            version = (await resp.json())["version"]
        async with http.post(f"{base}/chats/{ALICE.id}/send", json={"user_id": ALICE.id, "text": "dari web"}) as resp:
            assert resp.status == 200
        async with http.get(f"{base}/poll", params={"since": version, "timeout": "1"}) as resp:
            assert (await resp.json())["version"] > version

        (update,) = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == "dari web"
        sent = await bot.send_message(ALICE.id, "pilih", reply_markup=keyboard(("A", "a")))
        async with http.post(
            f"{base}/chats/{ALICE.id}/press",
            json={"user_id": ALICE.id, "message_id": sent.message_id, "callback_data": "a"},
        ) as resp:
            cq_id = (await resp.json())["callback_query_id"]
        await bot.answer_callback_query(cq_id, text="ok")
        async with http.get(f"{base}/callbacks/{cq_id}") as resp:
            assert (await resp.json())["answer"]["text"] == "ok"
        async with http.get(f"{base}/chats/{ALICE.id}/messages") as resp:
            messages = (await resp.json())["messages"]
        assert [(m["from_bot"], m["text"]) for m in messages] == [(False, "dari web"), (True, "pilih")]
        assert messages[1]["buttons"][0][0]["callback_data"] == "a"
        async with http.post(f"{base}/chats/{ALICE.id}/send", json={"user_id": 5555, "text": "x"}) as resp:
            assert resp.status == 400


# -- a real dispatcher -----------------------------------------------------------------------


async def test_aiogram_polling_round_trip_leaves_no_violations(bot: Bot, server: BotApiServer) -> None:
    from aiogram import Dispatcher, F
    from aiogram.types import CallbackQuery, Message

    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Anda menulis: <i>{message.text}</i>", reply_markup=keyboard(("OK", "ok")))

    @dp.callback_query(F.data == "ok")
    async def ok(callback: CallbackQuery) -> None:
        await callback.answer("Siap")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        await server.user_sends_text(ALICE, "lampu jalan mati")
        reply = await server.wait_for_bot_message(ALICE.id, timeout=10)
        assert reply.text == "Anda menulis: lampu jalan mati"
        cq_id = await server.user_presses(ALICE, reply.message_id, "ok")
        assert (await server.wait_callback_answer(cq_id, timeout=10))["text"] == "Siap"
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
    assert server.violations == []


async def test_a_poll_abandoned_by_a_stopped_bot_is_not_a_violation(bot: Bot, server: BotApiServer) -> None:
    abandoned = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    abandoned.cancel()
    await asyncio.sleep(0.05)
    other = make_bot(server)
    try:
        polling = asyncio.create_task(other.get_updates(timeout=5))
        # The old poll is terminated with a 409 that nobody is there to read.
        await server.wait_until(lambda: any(r.status == 409 for r in server.requests("getUpdates")), timeout=5)
        await server.user_sends_text(ALICE, "halo")
        updates = await asyncio.wait_for(polling, 10)
        assert [u.message.text for u in updates if u.message] == ["halo"]
    finally:
        await other.session.close()
    assert server.violations == []


async def test_group_chat(bot: Bot, server: BotApiServer) -> None:
    server.add_group(-100500, "Penghubung Dinas PU", [ALICE, BUDI])
    await server.user_sends_text(BUDI, "/status@lapor_bot", chat_id=-100500)
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.chat.type == "group" and update.message.chat.title == "Penghubung Dinas PU"
    assert update.message.from_user is not None and update.message.from_user.id == BUDI.id
    await bot.send_message(-100500, "Laporan terbuka: 3")
    assert [m.from_bot for m in server.chat(-100500)] == [False, True]
