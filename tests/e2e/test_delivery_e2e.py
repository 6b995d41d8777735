"""Issue #3, "delivery that loses nothing", over the real process and the local Bot API server.

The server fails on purpose (5xx, 429 with retry_after, a timeout, a network error after the
message went out, an officer who blocked the bot) and the process is killed while an officer's
notification is in flight. Every notification arrives once (the one exception is documented
below) or is recorded as undeliverable, and the process keeps running.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Citizen, Outbox
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

TITLE = "Meteran air PDAM rusak"
# Short request timeout, backoff and lease so a hung call, a retry and a crash mid-send each
# cost seconds rather than the production minutes.
FAST_FAILURES = {
    **NO_QUIET_HOURS,
    "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0.2",
    "LAPOR_TELEGRAM__REQUEST_TIMEOUT": "2",
    "LAPOR_DELIVERY__BACKOFF_BASE_SECONDS": "0.5",
    "LAPOR_DELIVERY__LEASE_SECONDS": "6",
}
OPEN = ("pending", "sending")


@pytest.fixture
async def bot(api_server, tmp_path):
    person(api_server, ADMIN_ID, "Admin")  # has talked to the bot before
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", tmp_path,
                      extra_env=FAST_FAILURES)
    try:
        await proc.start()
        import_agencies(proc)
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.stop()


def _outbox(tmp_path) -> list[Outbox]:
    with db(tmp_path) as s:
        rows = list(s.scalars(select(Outbox).order_by(Outbox.id)))
        s.expunge_all()
        return rows


def _settled(tmp_path) -> list[Outbox] | None:
    rows = _outbox(tmp_path)
    return rows if rows and not any(r.status in OPEN for r in rows) else None


def _count(api_server, chat_id: int, needle: str) -> int:
    return sum(needle in t for t in texts_to(api_server, chat_id))


async def _filed(api_server) -> tuple[Chatter, Chatter, str]:
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    citizen = person(api_server, 5301, "Rina")
    await onboard(citizen)
    tid = await file_anonymous_report(citizen, title=TITLE, body="Meteran air di rumah saya rusak sejak kemarin.")
    await wait_text(api_server, ADMIN_ID, tid)
    return admin, citizen, tid


async def test_every_notification_arrives_once_or_is_recorded_undeliverable(api_server, bot, tmp_path):
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    o1 = person(api_server, 6301, "Okta")
    o2 = person(api_server, 6302, "Opik")
    await make_officer(admin, o1, "PDAM", "Danum Taka")
    await make_officer(admin, o2, "PDAM", "Danum Taka")
    _, citizen, tid = await _filed(api_server)

    # o2 blocked the bot; o1's and the citizen's chats fail in every way but the last.
    mark = len(api_server.sent_requests)
    api_server.block_user(o2.user.id)
    faults = api_server.faults
    faults.add(method="sendMessage", chat_id=o1.user.id, kind="5xx", times=2)
    faults.add(method="sendMessage", chat_id=o1.user.id, kind="429", retry_after=1)
    faults.add(method="sendMessage", chat_id=o1.user.id, kind="timeout", hang=3)
    faults.add(method="sendPhoto", chat_id=o1.user.id, kind="network", deliver=True)
    faults.add(method="sendMessage", chat_id=citizen.user.id, kind="5xx")
    faults.add(method="sendMessage", chat_id=citizen.user.id, kind="timeout", hang=3)
    await admin_assigns(admin, tid, "Danum Taka")

    rows = await eventually(api_server, lambda: _settled(tmp_path), timeout=40, what="outbox settled")
    assert faults.pending == [], faults.pending  # every fault fired
    assert bot.proc.returncode is None, bot.log()

    # o1: the card once, despite 2×5xx, a 429 and a timeout on it.
    assert _count(api_server, o1.user.id, TITLE) == 1
    card_tries = [r for r in requests_to(api_server, o1.user.id, mark) if r.method == "sendMessage"]
    assert [r.ok for r in card_tries] == [False, False, False, False, True], card_tries
    # The photo: the network dropped the answer AFTER Telegram delivered it, so the bot could
    # not know and sent it again. At-least-once: exactly one extra copy, never more.
    photos = [m for m in api_server.bot_messages(o1.user.id) if m.kind == "photo"]
    assert len(photos) == 2, photos
    # The citizen: the update once, after a 5xx and a timeout.
    assert _count(api_server, citizen.user.id, "diteruskan ke") == 1

    # o2: one refused try, the rest cancelled, the person flagged; nothing reached the chat.
    assert [r.method for r in requests_to(api_server, o2.user.id, mark)] == ["sendMessage"]
    assert _count(api_server, o2.user.id, TITLE) == 0
    o2_rows = [r for r in rows if r.chat_id == o2.user.id]
    assert sorted(r.status for r in o2_rows) == ["cancelled", "unreachable"]
    with db(tmp_path) as s:
        flagged = s.scalar(select(Citizen.unreachable_at).where(Citizen.telegram_id == o2.user.id))
    assert flagged is not None
    assert {r.status for r in rows if r.chat_id != o2.user.id} == {"sent"}

    # Later news for the agency goes to o1 only: nothing more is tried on the blocked officer.
    await o1.tap("Minta info")
    await o1.say("Nomor pelanggan PDAM Anda berapa?")
    await wait_text(api_server, citizen.user.id, "Nomor pelanggan PDAM Anda berapa?")
    await citizen.say("Nomor pelanggan 0042-771")
    await wait_text(api_server, o1.user.id, "0042-771")
    await eventually(api_server, lambda: _settled(tmp_path), timeout=20, what="outbox settled again")
    assert [r.method for r in requests_to(api_server, o2.user.id, mark)] == ["sendMessage"]
    assert load_report(tmp_path, tid).status == "in_progress"
    assert bot.proc.returncode is None, bot.log()
    assert api_server.violations == [], api_server.violations


async def test_a_crash_right_after_the_assignment_loses_no_notification(api_server, bot, tmp_path):
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    officer = person(api_server, 6401, "Oska")
    await make_officer(admin, officer, "PDAM", "Danum Taka")
    _, citizen, tid = await _filed(api_server)

    # The card's first send hangs: the assignment is committed, its notification is not out.
    api_server.faults.add(method="sendMessage", chat_id=officer.user.id, kind="timeout", hang=30)
    await admin_assigns(admin, tid, "Danum Taka")
    await api_server.wait_until(lambda: any(
        r.method == "sendMessage" and not r.ok for r in requests_to(api_server, officer.user.id)))
    await bot.kill()
    assert load_report(tmp_path, tid).status == "assigned"
    assert _count(api_server, officer.user.id, TITLE) == 0

    await bot.start()
    # Sent again once the dead process's lease on the row runs out.
    await wait_text(api_server, officer.user.id, TITLE, timeout=30)
    await eventually(api_server, lambda: _settled(tmp_path), timeout=20, what="outbox settled")
    assert _count(api_server, officer.user.id, TITLE) == 1
    assert len([m for m in api_server.bot_messages(officer.user.id) if m.kind == "photo"]) == 1
    assert _count(api_server, citizen.user.id, "diteruskan ke") == 1
    assert {r.status for r in _outbox(tmp_path)} == {"sent"}
    assert api_server.violations == [], api_server.violations
