"""The local Bot API server's groups, supergroups and forum topics, driven by a real aiogram Bot:
privacy mode, the bot joining and leaving (my_chat_member), createForumTopic and
message_thread_id both ways, and the refusals Telegram answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile

from sandbox.botapi import BotApiServer, Limits, SimUser
from tests.e2e.test_botapi_server import keyboard, make_bot

ALICE = SimUser(id=1001, first_name="Siti", language_code="id")
BUDI = SimUser(id=1002, first_name="Budi", language_code="id")
GROUP, FORUM = -100500, -1001234567890


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(limits=Limits.off()) as srv:
        srv.add_user(ALICE)
        srv.add_user(BUDI)
        yield srv


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    b = make_bot(server)
    yield b
    await b.session.close()


async def _updates(bot: Bot, offset: int | None = None) -> list:
    return await bot.get_updates(offset=offset, timeout=0, allowed_updates=["message", "callback_query",
                                                                             "my_chat_member"])


async def test_privacy_mode_the_bot_hears_commands_and_replies_to_it_only(bot: Bot, server: BotApiServer) -> None:
    server.add_group(GROUP, "Penghubung Dinas PU", [ALICE, BUDI])
    await server.user_sends_text(ALICE, "rapat jam 9 ya")  # private: heard
    await server.user_sends_text(BUDI, "siap, rapat jam 9", chat_id=GROUP)  # chatter: not heard
    await server.user_sends_text(BUDI, "/kotak", chat_id=GROUP)  # a command: heard
    await server.user_sends_text(BUDI, "/kotak@other_bot", chat_id=GROUP)  # another bot's: not heard
    await server.user_sends_text(BUDI, "/kotak@lapor_bot", chat_id=GROUP)
    sent = await bot.send_message(GROUP, "Laporan baru")
    await server.user_sends_text(ALICE, "saya ambil", chat_id=GROUP, reply_to=sent.message_id)
    mine = await server.user_sends_text(ALICE, "catatan", chat_id=GROUP)
    await server.user_sends_text(BUDI, "oke", chat_id=GROUP, reply_to=mine.message_id)  # a reply to a person
    heard = [u.message.text for u in await _updates(bot) if u.message]
    assert heard == ["rapat jam 9 ya", "/kotak", "/kotak@lapor_bot", "saya ambil"]
    assert (await bot.get_me()).can_read_all_group_messages is False
    # Every message is in the chat all the same: the members read each other.
    assert len(server.chat(GROUP)) == 8


async def test_an_admin_bot_hears_everything(bot: Bot, server: BotApiServer) -> None:
    server.add_group(GROUP, "Penghubung Dinas PU", [ALICE], supergroup=True, bot_status="administrator")
    await server.user_sends_text(ALICE, "rapat jam 9", chat_id=GROUP)
    (update,) = await _updates(bot)
    assert update.message.chat.type == "supergroup" and update.message.text == "rapat jam 9"


async def test_added_and_removed_the_bot_hears_it_and_cannot_post_after(bot: Bot, server: BotApiServer) -> None:
    server.add_group(GROUP, "Penghubung Dinas PU", [ALICE, BUDI], bot_status="left")
    with pytest.raises(TelegramForbiddenError, match="not a member"):
        await bot.send_message(GROUP, "halo")
    await server.user_sends_text(BUDI, "/hubungkan", chat_id=GROUP)  # not in the group: nothing
    server.set_bot_status(GROUP, "member", by=ALICE)
    (joined,) = await _updates(bot)
    change = joined.my_chat_member
    assert change is not None and change.chat.id == GROUP and change.from_user.id == ALICE.id
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    await bot.send_message(GROUP, "halo")
    server.set_bot_status(GROUP, "kicked", by=BUDI)
    (kicked,) = await _updates(bot, joined.update_id + 1)
    assert kicked.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(TelegramForbiddenError, match="kicked"):
        await bot.send_message(GROUP, "halo lagi")
    member = await bot.get_chat_member(GROUP, server.state.bot_user["id"])
    assert member.status == "kicked"


async def test_forum_topics_created_written_to_and_written_in(bot: Bot, server: BotApiServer) -> None:
    server.add_group(FORUM, "Dinas PU · laporan", [ALICE, BUDI], forum=True, bot_status="administrator")
    chat = await bot.get_chat(FORUM)
    assert chat.type == "supergroup" and chat.is_forum
    topic = await bot.create_forum_topic(FORUM, "LPR-ABC123 · Jalan berlubang")
    assert topic.name == "LPR-ABC123 · Jalan berlubang" and topic.message_thread_id > 0
    card = await bot.send_message(FORUM, "Laporan baru", message_thread_id=topic.message_thread_id,
                                  reply_markup=keyboard(("Ambil", "take:1")))
    assert card.message_thread_id == topic.message_thread_id and card.is_topic_message
    doc = await bot.send_document(FORUM, BufferedInputFile(b"%PDF", "surat.pdf"),
                                  message_thread_id=topic.message_thread_id)
    assert doc.message_thread_id == topic.message_thread_id
    general = await bot.send_message(FORUM, "Pengingat harian")
    assert general.message_thread_id is None

    # Members write in the topic: the admin bot hears it with the thread; a button press
    # carries the message and its thread.
    await server.user_sends_text(ALICE, "saya cek lokasinya besok", chat_id=FORUM, thread_id=topic.message_thread_id)
    await server.user_presses(BUDI, card.message_id, "take:1", chat_id=FORUM)
    said, pressed = await _updates(bot)
    assert said.message.message_thread_id == topic.message_thread_id and said.message.is_topic_message
    assert said.message.reply_to_message.forum_topic_created.name == topic.name
    assert pressed.callback_query.message.message_thread_id == topic.message_thread_id
    t = topic.message_thread_id
    assert [m.message_thread_id for m in server.chat(FORUM)] == [t, t, t, None, t]

    await bot.edit_forum_topic(FORUM, topic.message_thread_id, name="LPR-ABC123 · selesai")
    assert server.state.chats[FORUM].topics[topic.message_thread_id].name == "LPR-ABC123 · selesai"
    assert not server.violations


async def test_a_closed_topic_refuses_members_but_not_the_groups_admins(bot: Bot, server: BotApiServer) -> None:
    """closeForumTopic / reopenForumTopic as Telegram has them: in a closed topic only the group's
    administrators (the admin bot among them) may write; closing twice is TOPIC_NOT_MODIFIED."""
    server.add_group(FORUM, "Dinas PU · laporan", [ALICE, BUDI], forum=True, bot_status="administrator",
                     admins=[ALICE])
    thread = (await bot.create_forum_topic(FORUM, "LPR-ABC123 · Jalan berlubang")).message_thread_id
    assert await bot.close_forum_topic(FORUM, thread) is True
    assert server.state.chats[FORUM].topics[thread].closed
    last = await bot.send_message(FORUM, "🔒 LPR-ABC123 selesai", message_thread_id=thread)  # an admin bot may
    assert last.message_thread_id == thread
    with pytest.raises(PermissionError, match="TOPIC_CLOSED"):  # a member may not
        await server.user_sends_text(BUDI, "masih rusak", chat_id=FORUM, thread_id=thread)
    await server.user_sends_text(ALICE, "ditutup ya", chat_id=FORUM, thread_id=thread)  # the group's admin may
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(FORUM, thread)
    # A bot that is no admin (demoted) is refused in a closed topic, and may not reopen it.
    server.state.chats[FORUM].bot_status = "member"
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(FORUM, "lagi", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.reopen_forum_topic(FORUM, thread)
    server.state.chats[FORUM].bot_status = "administrator"
    assert await bot.reopen_forum_topic(FORUM, thread) is True
    await server.user_sends_text(BUDI, "masih rusak", chat_id=FORUM, thread_id=thread)
    assert [m.text for m in server.chat(FORUM) if m.message_thread_id == thread][-3:] == [
        "🔒 LPR-ABC123 selesai", "ditutup ya", "masih rusak"]
    assert [v.description for v in server.violations] == [  # the refusals on purpose
        "Bad Request: TOPIC_NOT_MODIFIED", "Bad Request: TOPIC_CLOSED",
        "Bad Request: not enough rights to create a topic"]


async def test_topics_refused_where_telegram_refuses_them(bot: Bot, server: BotApiServer) -> None:
    server.add_group(GROUP, "Grup biasa", [ALICE], supergroup=True, bot_status="administrator")
    server.add_group(FORUM, "Forum", [ALICE], forum=True)  # the bot is a plain member
    with pytest.raises(TelegramBadRequest, match="not a forum"):
        await bot.create_forum_topic(GROUP, "LPR-1")
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_forum_topic(FORUM, "LPR-1")
    with pytest.raises(TelegramBadRequest, match="thread not found"):
        await bot.send_message(FORUM, "x", message_thread_id=999)
    with pytest.raises(TelegramBadRequest, match="thread not found"):
        await bot.send_message(GROUP, "x", message_thread_id=1)
    with pytest.raises(TelegramBadRequest):
        await bot.create_forum_topic(FORUM, "x" * 129)
    # What the bot did wrong is counted, as for every refused call.
    assert len(server.violations) == 5
