"""Agency group chats end to end: the real ``lapor-bot run`` process and the local Bot API server,
a group with privacy mode on (the bot a plain member) and a forum supergroup (the bot an admin,
so it hears everything and must itself keep the members' talk away from the reporter).

An officer bound by a real invite links the group (/hubungkan), the admin confirms with the
button in their private chat; the agency's anonymous report arrives in the group (in its own
topic in the forum); a member who is no officer is refused; what officers write in the group is
never sent to the reporter; the answer goes out through the buttons; the closed report closes
its topic. Every request the server
got for a group is searched for the anonymous reporter's identity.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sandbox.botapi import BotApiServer, SimUser
from storage.models import AgencyGroup, ReportTopic
from tests.e2e.actors import (
    ADMIN_ID,
    NO_QUIET_HOURS,
    admin_assigns,
    db,
    eventually,
    file_anonymous_report,
    import_agencies,
    load_report,
    make_officer,
    onboard,
    person,
    requests_to,
    texts_to,
    wait_text,
)
from tests.e2e.botprocess import BotProcess
from tests.e2e.chat import Chatter

pytestmark = pytest.mark.e2e

REPORTER_ID = 870_455_321
FIRST, LAST, USERNAME = "Zubaidah", "Kertanegoro", "zk_rahasia_88"
GROUP, FORUM = -100_4242, -100_777_000_1
FAST = {**NO_QUIET_HOURS, "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0.2"}
MIRA = SimUser(id=6301, first_name="Mira")  # in the group, no officer


@pytest.fixture
async def bot(api_server, tmp_path):
    person(api_server, ADMIN_ID, "Admin")
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", tmp_path, extra_env=FAST)
    try:
        await proc.start()
        import_agencies(proc)
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.stop()


def _leaks(server: BotApiServer, chat_id: int) -> list[str]:
    """The anonymous reporter's identity in anything the bot sent to ``chat_id``."""
    dump = json.dumps([r.params for r in requests_to(server, chat_id)], ensure_ascii=False, default=str).lower()
    return [s for s in (FIRST, LAST, USERNAME, str(REPORTER_ID)) if s.lower() in dump]


async def _press(server: BotApiServer, user: SimUser, chat_id: int, label: str) -> dict:
    """``user`` presses the newest button labelled ``label`` in the group; the callback answer."""
    for msg in reversed(server.bot_messages(chat_id)):
        for row in msg.inline_keyboard:
            for button in row:
                if label.lower() in button["text"].lower() and "callback_data" in button:
                    cq = await server.user_presses(user, msg.message_id, button["callback_data"], chat_id=chat_id)
                    return await server.wait_callback_answer(cq, timeout=20)
    raise AssertionError(f"no button {label!r} in chat {chat_id}")


async def _link(server: BotApiServer, admin: Chatter, officer: Chatter, chat_id: int, tmp_path) -> None:
    await server.user_sends_command(officer.user, "hubungkan", chat_id=chat_id)
    await wait_text(server, chat_id, "admin LAPOR!")  # "asked the admins"
    await wait_text(server, ADMIN_ID, "minta")
    await admin.tap("✅ Hubungkan")
    await wait_text(server, chat_id, "sekarang terhubung")
    await eventually(server, lambda: _active(tmp_path, chat_id), what="the link")


def _active(tmp_path, chat_id: int) -> AgencyGroup | None:
    with db(tmp_path) as s:
        link = s.scalar(select(AgencyGroup).where(AgencyGroup.chat_id == chat_id, AgencyGroup.status == "active"))
        if link is not None:
            s.expunge(link)
        return link


async def _people(api_server) -> tuple[Chatter, Chatter, Chatter]:
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    officer = person(api_server, 6101, "Oki", username="oki_pdam")
    citizen = person(api_server, REPORTER_ID, FIRST, last_name=LAST, username=USERNAME)
    await make_officer(admin, officer, "PDAM", "Danum Taka")
    await onboard(citizen)
    return admin, officer, citizen


async def test_a_group_with_privacy_mode(api_server, bot, tmp_path):
    admin, officer, citizen = await _people(api_server)
    api_server.add_group(GROUP, "Penghubung PDAM", [officer.user, MIRA], bot_status="left")
    api_server.set_bot_status(GROUP, "member", by=officer.user)  # the officer adds the bot
    await wait_text(api_server, GROUP, "/hubungkan")  # its hello says how to link

    # A member who is no officer cannot link it; the officer can, once the admin confirms.
    await api_server.user_sends_command(MIRA, "hubungkan", chat_id=GROUP)
    await wait_text(api_server, GROUP, "Hanya petugas penghubung")
    await _link(api_server, admin, officer, GROUP, tmp_path)

    tid = await file_anonymous_report(citizen, title="Air PDAM keruh di RT 09",
                                      body="Sudah seminggu air PDAM keruh dan berbau di RT 09 Nipah-Nipah.")
    await wait_text(api_server, ADMIN_ID, tid)
    await admin_assigns(admin, tid, "Danum Taka")
    card = await wait_text(api_server, GROUP, "Air PDAM keruh di RT 09")
    assert tid in card and "ANONIM" in card
    await wait_text(api_server, officer.user.id, "Air PDAM keruh di RT 09")  # "as well as" private chats

    # Mira presses the agency's buttons: refused, nothing changes.
    answer = await _press(api_server, MIRA, GROUP, "Tindak lanjuti")
    assert answer["show_alert"] and answer["text"]
    assert load_report(tmp_path, tid).status == "assigned"

    # Members talk in the group: with privacy mode the bot does not even hear it; a reply to
    # the bot's card it hears, and passes on to nobody.
    before = len(requests_to(api_server, REPORTER_ID))
    await api_server.user_sends_text(MIRA, "Pak Oki, ini wilayah siapa?", chat_id=GROUP)
    card_msg = next(m for m in reversed(api_server.bot_messages(GROUP)) if m.inline_keyboard)
    await api_server.user_sends_text(officer.user, "Saya cek besok, catatan internal", chat_id=GROUP,
                                     reply_to=card_msg.message_id)
    # The officer answers the reporter with the card's button; the text step is private.
    answer = await _press(api_server, officer.user, GROUP, "Minta info")
    assert "pribadi" in (answer["text"] or "")
    await wait_text(api_server, officer.user.id, "Tulis pertanyaan")
    await officer.say("Rumah nomor berapa tepatnya?")
    question = await wait_text(api_server, REPORTER_ID, "Rumah nomor berapa tepatnya?")
    assert "catatan internal" not in question
    assert not any("catatan internal" in t or "wilayah siapa" in t for t in texts_to(api_server, REPORTER_ID))
    assert len(requests_to(api_server, REPORTER_ID)) > before
    assert load_report(tmp_path, tid).status == "awaiting_reporter"

    # The citizen's answer reaches the group too; nothing there names them.
    await citizen.say("Rumah nomor 12, dekat musala")
    await wait_text(api_server, GROUP, "Rumah nomor 12, dekat musala")
    assert _leaks(api_server, GROUP) == []
    assert api_server.violations == [], api_server.violations


async def test_a_forum_supergroup_gives_each_report_its_topic(api_server, bot, tmp_path):
    admin, officer, citizen = await _people(api_server)
    # The bot must be an admin to open topics, so it hears every message in the forum.
    api_server.add_group(FORUM, "Forum PDAM", [officer.user, MIRA], forum=True, bot_status="administrator")
    await _link(api_server, admin, officer, FORUM, tmp_path)
    assert _active(tmp_path, FORUM).is_forum

    tid = await file_anonymous_report(citizen, title="Pipa bocor di Gang Mawar",
                                      body="Pipa PDAM bocor di Gang Mawar sejak kemarin sore, air terbuang.")
    await wait_text(api_server, ADMIN_ID, tid)
    await admin_assigns(admin, tid, "Danum Taka")
    card = await wait_text(api_server, FORUM, "Pipa bocor di Gang Mawar")
    assert tid in card
    (topic,) = api_server.state.chats[FORUM].topics.values()
    assert topic.name.startswith(tid) and "Gang Mawar" in topic.name
    # After the topic opened (before it: "this group is now linked", in General).
    in_topic = [m for m in api_server.bot_messages(FORUM) if m.message_id > topic.message_thread_id]
    assert in_topic and all(m.message_thread_id == topic.message_thread_id for m in in_topic)
    with db(tmp_path) as s:
        assert s.scalar(select(ReportTopic.message_thread_id)) == topic.message_thread_id

    # Officers discuss in the topic: the admin bot hears it and sends it nowhere.
    await api_server.user_sends_text(officer.user, "Tim lapangan berangkat jam 8, jangan dikabari dulu",
                                     chat_id=FORUM, thread_id=topic.message_thread_id)
    answer = await _press(api_server, MIRA, FORUM, "Tanggapi")
    assert answer["show_alert"]
    await _press(api_server, officer.user, FORUM, "Tanggapi")
    await wait_text(api_server, officer.user.id, "Tulis tanggapan")
    await officer.say("Pipa di Gang Mawar sudah diganti pagi ini.")
    await wait_text(api_server, REPORTER_ID, "Pipa di Gang Mawar sudah diganti pagi ini.")
    assert not any("jangan dikabari" in t for t in texts_to(api_server, REPORTER_ID))
    assert load_report(tmp_path, tid).status == "answered"

    # The reporter's rating comes back to the same topic; no second topic was opened.
    await citizen.tap("Puas")
    await citizen.tap("⭐⭐⭐⭐⭐")
    rated = await eventually(api_server, lambda: next(
        (m for m in api_server.bot_messages(FORUM) if "5/5" in (m.text or "")), None), what="the rating")
    assert rated.message_thread_id == topic.message_thread_id
    assert len(api_server.requests("createForumTopic")) == 1

    # Rated, the report is closed, and so is its topic: a last line in it, then closeForumTopic.
    # Members can no longer write there; the bot, an admin of the forum, still can (the rating
    # notice went in after the close).
    await eventually(api_server, lambda: topic.closed, what="the topic closed")
    (last,) = [m for m in api_server.bot_messages(FORUM) if "🔒" in (m.text or "")]
    assert last.message_thread_id == topic.message_thread_id and tid in last.text and "Selesai" in last.text
    assert len(api_server.requests("closeForumTopic")) == 1
    with pytest.raises(PermissionError, match="TOPIC_CLOSED"):
        await api_server.user_sends_text(officer.user, "Sudah beres ya", chat_id=FORUM,
                                         thread_id=topic.message_thread_id)
    assert _leaks(api_server, FORUM) == []
    assert api_server.violations == [], api_server.violations
