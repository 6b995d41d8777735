"""Issue #5 end to end: an announcement to 300 citizens from the real ``lapor-bot run`` process
over the local Bot API server, with flood waits (429), users who blocked the bot (403), and a
crash (SIGKILL) half-way.

Where the crash lands matters. Delivery is at-least-once: a message Telegram accepted whose
"sent" the process had not committed yet is sent again after a restart. This test makes that
window empty on purpose: once about half is out it makes every further sendMessage hang (the
request never reaches Telegram), waits until every accepted message is committed as sent, and
only then kills the process. So the assertion below is exact (one copy each); a crash inside the
window could give each of the (at most ``max_in_flight``) messages in the air a second copy.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import time
from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.i18n import build_i18n
from bot.services.broadcasts import Progress
from bot.ui.admin_keyboards import broadcast_progress_text
from sandbox.botapi import BotApiServer, Limits, SimUser
from storage.models import Broadcast, Citizen
from tests.e2e.botprocess import BotProcess
from tests.e2e.chat import Chatter
from tests.e2e.zygote_client import run_cli

pytestmark = pytest.mark.e2e

ADMIN = 9000
FIRST = 100_000
USERS = 300
BLOCKED = {FIRST + i for i in range(USERS) if i % 20 == 7}  # 15 users, 5%
FLOOD = [FIRST + 10, FIRST + 60, FIRST + 120, FIRST + 240]  # a 429 on each one's first try
TEXT = "Layanan KTP tutup 17 Agustus & buka lagi 19 Agustus <pukul 08.00>"


@pytest.fixture
async def fast_server():
    # Telegram's rules stay on, with an overall limit above the bot's configured 200/s.
    async with BotApiServer(limits=Limits(per_chat_burst=20, global_rate=300, global_burst=120)) as server:
        yield server


@pytest.fixture
async def bot(fast_server, tmp_path):
    fast_server.add_user(SimUser(id=ADMIN, first_name="Admin"))
    proc = BotProcess(
        fast_server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", tmp_path,
        extra_env={
            "LAPOR_DELIVERY__GLOBAL_RATE": "200",
            # A crashed process's claims come back after 5 s instead of a minute.
            "LAPOR_DELIVERY__LEASE_SECONDS": "5",
            # ...which must outlast a request (the settings refuse a shorter lease).
            "LAPOR_TELEGRAM__REQUEST_TIMEOUT": "4",
        },
    )
    try:
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.stop(signal.SIGKILL)


def _seed_citizens(proc: BotProcess, db_path) -> None:
    """Three hundred citizens who gave consent, written straight into the schema the bot made:
    onboarding each through /start would take minutes and is covered elsewhere."""
    run_cli(["migrate"], env=proc.env(), cwd=proc.workdir, check=True)
    now = datetime.now(UTC)
    with Session(create_engine(f"sqlite:///{db_path}")) as db:
        for i in range(USERS):
            db.add(Citizen(telegram_id=FIRST + i, first_name=f"Warga {i}", language="id", consent_at=now))
        db.commit()


def _sql(db_path, query: str, *args) -> list[tuple]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(query, args).fetchall()


def _delivered(server: BotApiServer) -> dict[int, int]:
    """Successful sendMessage calls per citizen chat: what people actually received."""
    out: dict[int, int] = {}
    for r in server.requests("sendMessage"):
        chat = int(r.params.get("chat_id", 0))
        if r.ok and chat >= FIRST:
            out[chat] = out.get(chat, 0) + 1
    return out


async def _press(chat: Chatter, prefix: str) -> None:
    for msg in reversed(chat.messages()):
        for row in msg.inline_keyboard:
            for button in row:
                if button.get("callback_data", "").startswith(prefix):
                    cq = await chat.server.user_presses(chat.user, msg.message_id, button["callback_data"])
                    await chat.server.wait_callback_answer(cq, timeout=20)
                    return
    raise AssertionError(f"no {prefix} button; last text: {chat.last_text()[:300]}")


async def _compose(admin: Chatter) -> str:
    """/umumkan up to the confirmation; returns the preview line with the count."""
    await admin.say("/umumkan")
    await admin.say(TEXT)
    shown = len(admin.messages())
    await _press(admin, "bca:citizens")
    # The copy of the announcement and then the line with the count: the bot keeps Telegram's
    # pace per chat (two at once, then one a second), so the count may come a second after the
    # copy, later than a quiet moment. Wait for the line itself.
    def count_line() -> str | None:
        return next((m.text for m in admin.messages()[shown:] if m.text and "Pratinjau" in m.text), None)

    return await admin.server.wait_until(count_line, timeout=20)


async def _until(check, timeout: float, what: str, proc: BotProcess):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s\n{proc.log()}")
        await asyncio.sleep(0.02)


async def test_broadcast_survives_flood_blocks_and_a_crash(fast_server, bot, tmp_path):
    server = fast_server
    db_path = tmp_path / "e2e.db"
    _seed_citizens(bot, db_path)
    for uid in range(FIRST, FIRST + USERS):
        server.add_user(SimUser(id=uid, first_name=f"Warga {uid - FIRST}"))
    for uid in BLOCKED:
        server.block_user(uid)
    await bot.start()
    admin = Chatter(server, server.state.users[ADMIN])

    preview = await _compose(admin)
    assert str(USERS) in preview
    for uid in FLOOD:
        server.faults.add(method="sendMessage", chat_id=uid, kind="429", retry_after=1)
    started = time.monotonic()
    await _press(admin, "bcc:send")

    # -- about half out: from now on every sendMessage hangs, then the process dies ------------
    await _until(lambda: sum(_delivered(server).values()) >= USERS // 2, 30, "half of the sending", bot)
    hang = server.faults.add(method="sendMessage", kind="timeout", times=10_000, hang=3600)

    def settled() -> bool:
        hung = 10_000 - hang.times
        committed = _sql(db_path, "SELECT count(*) FROM outbox WHERE group_key = 'broadcast:1' "
                                  "AND status = 'sent'")[0][0]
        return hung > 0 and committed == sum(_delivered(server).values())

    await _until(settled, 20, "the in-flight requests to hang and the sent ones to be committed", bot)
    await asyncio.sleep(0.3)
    assert settled()
    before_crash = sum(_delivered(server).values())
    assert USERS // 2 <= before_crash < USERS - len(BLOCKED)
    await bot.kill()
    # Telegram works again; the flood faults not met yet stay.
    floods_left = [f for f in server.faults.pending if f is not hang]
    server.faults.clear()
    for f in floods_left:
        server.faults.add(method=f.method, chat_id=f.chat_id, kind=f.kind, retry_after=f.retry_after)
    assert floods_left, "a flood wait should remain for after the restart"
    await bot.start()

    # -- the restarted process finishes the job -----------------------------------------------
    def done() -> bool:
        return _sql(db_path, "SELECT status FROM broadcast WHERE id = 1") == [("done",)]

    await _until(done, 60, "the broadcast to finish", bot)
    delivered = _delivered(server)
    reachable = set(range(FIRST, FIRST + USERS)) - BLOCKED
    assert set(delivered) == reachable, sorted(set(delivered) ^ reachable)[:10]
    copies = {uid: n for uid, n in delivered.items() if n != 1}
    assert copies == {}, f"users with other than one copy: {copies}"
    for uid in FLOOD:  # the flood waits were met and the message went out after them
        tries = [r.status for r in server.requests("sendMessage") if int(r.params.get("chat_id", 0)) == uid]
        assert tries[:2] == [429, 200], uid
    # What arrived is what the admin wrote: their text, escaped on the way and shown as written.
    assert server.bot_messages(FIRST)[-1].text == TEXT

    rows = dict(_sql(db_path, "SELECT status, count(*) FROM outbox WHERE group_key = 'broadcast:1' "
                              "GROUP BY status"))
    assert rows == {"sent": len(reachable), "unreachable": len(BLOCKED)}
    unreachable = {tid for (tid,) in _sql(db_path, "SELECT telegram_id FROM citizen "
                                                   "WHERE unreachable_at IS NOT NULL")}
    assert unreachable == BLOCKED

    # The admin's one progress message ends with the totals.
    with Session(create_engine(f"sqlite:///{db_path}")) as db:
        broadcast = db.get(Broadcast, 1)
        i18n = build_i18n("id")
        with i18n.context(), i18n.use_locale(broadcast.language or "id"):
            expected = broadcast_progress_text(broadcast, Progress(
                total=USERS, sent=len(reachable), failed=0, blocked=len(BLOCKED), cancelled=0,
                remaining=0, eta_seconds=0.0))
        progress_id = broadcast.progress_message_id
    shown = next(m for m in server.chat(ADMIN) if m.message_id == progress_id)
    await _until(lambda: shown.text == unescape(re.sub(r"<[^>]+>", "", expected)), 10,
                 "the final progress edit", bot)
    assert not shown.inline_keyboard  # no stop button on a finished announcement

    refusals = sorted(int(r.params["chat_id"]) for r in server.requests("sendMessage") if r.status == 403)
    assert refusals == sorted(BLOCKED)  # one 403 each: the rest of their rows were not tried

    # -- next time the blocked users are skipped ----------------------------------------------
    mark = len(server.sent_requests)
    assert str(len(reachable)) in await _compose(admin)
    await _press(admin, "bcc:send")
    await _until(lambda: _sql(db_path, "SELECT status FROM broadcast WHERE id = 2") == [("done",)],
                 30, "the second broadcast to finish", bot)
    assert not [r for r in server.sent_requests[mark:] if int(r.params.get("chat_id", 0)) in BLOCKED]
    assert set(_delivered(server).values()) == {2}
    assert await bot.stop() == 0
    assert time.monotonic() - started < 90
    assert server.violations == [], server.violations[:5]
