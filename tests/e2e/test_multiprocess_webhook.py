"""Issue #4 "Several processes", end to end: two real ``lapor-bot run`` processes in webhook mode
behind one token, one PostgreSQL database and one Redis, with the local Bot API server playing
Telegram and the load balancer (``BotApiServer.forward_webhook``: each update POSTed to the next
process in turn, with the secret header, retried until a 2xx).

Citizens onboard and fill the /lapor form while its steps land on both processes in turn (the
form's state lives in Redis), one taps "Kirim" twice so that the two taps reach the two
processes at the same moment, the admin assigns every report and the officer is told. Then:
every report filed once, every outbox row sent exactly once (the server's log against the
table), the daily and weekly jobs both processes swept at start done once, and nothing Telegram
would refuse.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.workdays import WorkCalendar
from bot.fsm import redis_key_builder
from sandbox.botapi import BotApiServer, Limits
from storage.models import Citizen, JobRun, Outbox, OutboxStatus, Report
from tests.conftest import _pg_admin, _pg_url
from tests.e2e.actors import (
    ADMIN_ID,
    NO_QUIET_HOURS,
    TRACKING,
    admin_assigns,
    import_agencies,
    make_officer,
    onboard,
    person,
    wait_text,
)
from tests.e2e.botprocess import BotProcess
from tests.e2e.chat import Chatter
from tests.e2e.own_bot import server_with_own_bot_id
from tests.e2e.zygote_client import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET = "multi-process_webhook-secret"
# A dedicated index; the keys also carry this test's random bot id, and are deleted at the end.
REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
TZ = ZoneInfo("Asia/Makassar")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_port(port: int, proc: BotProcess, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if proc.proc is not None and proc.proc.returncode is not None:
            raise AssertionError(f"bot exited with {proc.proc.returncode}:\n{proc.log()}")
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"webhook port {port} never opened:\n{proc.log()}")


@pytest.fixture
def own_pg_url():
    """A database of this test's own: two processes migrate and run on it."""
    name = f"lapor_mp_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def server():
    async with server_with_own_bot_id(REDIS_URL, Limits(per_chat_burst=20, global_burst=60), "MultiProcess") as s:
        yield s


async def _fill_form(chat: Chatter, *, title: str, body: str, consent_first: bool = False) -> None:
    """/lapor up to the summary; ``consent_first``: a newcomer agrees to the notice /lapor shows,
    and the form starts right away."""
    await chat.say("/lapor")
    if consent_first:
        assert "pemberitahuan data pribadi" in chat.texts().lower()
        await chat.tap("Setuju")
        assert "Mari mulai laporan Anda" in chat.last_text()
    await chat.tap("Pengaduan")
    await chat.say("PDAM")
    await chat.tap("Danum Taka")
    await chat.say(title)
    await chat.say(body)
    await chat.say("kemarin")
    await chat.tap("Biasa")
    await chat.say("Jl. Nipah-Nipah RT 07")
    await chat.act(chat.server.user_sends_photo(chat.user))
    await chat.tap("Selesai")
    assert title in chat.last_text()  # the summary


def _call(method: str, chat_id: int, params: dict) -> tuple:
    """What identifies one Bot API call of the outbox: method, chat, and what it shows."""
    shown = next((params[k] for k in ("text", "caption", "photo", "document", "latitude") if params.get(k)), None)
    return method, chat_id, str(shown)


def _tracking_ids(chat: Chatter) -> list[str]:
    found = (TRACKING.search(m.text or "") for m in chat.messages())
    return [f.group(0) for f in found if f]


async def _submit(chat: Chatter) -> str:
    await chat.tap("Kirim")
    found = TRACKING.search(chat.last_text())
    assert found, chat.last_text()
    return found.group(0)


async def _double_submit(server: BotApiServer, chat: Chatter) -> tuple[list[int], list[dict]]:
    """Two taps on "Kirim" sent at once (the forwarder told not to wait for the first)."""
    msg, data = next(
        (m, b["callback_data"]) for m in reversed(chat.messages())
        for row in m.inline_keyboard for b in row if "Kirim" in b["text"]
    )
    forwarder = server.webhook_forwarder
    assert forwarder is not None and forwarder.idle
    before = len(forwarder.deliveries)
    forwarder.per_chat_order = False
    try:
        cqs = [await server.user_presses(chat.user, msg.message_id, data) for _ in range(2)]
        answers = [await server.wait_callback_answer(cq, timeout=30) for cq in cqs]
    finally:
        forwarder.per_chat_order = True
    await server.wait_until(lambda: forwarder.idle or None, timeout=30)
    await wait_text(server, chat.user.id, "LPR-")
    await asyncio.sleep(1.0)  # let a second submission, if there were one, show up too
    ids = [d.update_id for d in forwarder.deliveries[before:] if d.ok]
    return ids, answers


async def test_two_webhook_processes_share_one_database_and_one_redis(server, own_pg_url, tmp_path):
    calendar = WorkCalendar("Asia/Makassar", [])
    today = datetime.now(TZ).date()
    # Every daily job's time already passed today and the weekly summary due today: both
    # processes' catch-up sweeps at start race for the same runs.
    env = {
        **NO_QUIET_HOURS,
        "LAPOR_REDIS__URL": REDIS_URL,
        "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0.2",
        "LAPOR_NOTIFICATIONS__AUTO_CLOSE_TIME": "00:00:00",
        "LAPOR_NOTIFICATIONS__OFFICER_REMINDER_TIME": "00:00:00",
        "LAPOR_NOTIFICATIONS__ESCALATION_TIME": "00:00:00",
        "LAPOR_NOTIFICATIONS__WEEKLY_SUMMARY_TIME": "00:00:00",
        "LAPOR_NOTIFICATIONS__WEEKLY_SUMMARY_WEEKDAY": str(today.weekday()),
        "LAPOR_TELEGRAM__MODE": "webhook",
        "LAPOR_TELEGRAM__WEBHOOK_URL": "https://lapor.example/telegram",
        "LAPOR_TELEGRAM__WEBHOOK_SECRET": SECRET,
    }
    admin = person(server, ADMIN_ID, "Admin")  # has talked to the bot before
    ports = [_free_port(), _free_port()]
    procs = []
    for i, port in enumerate(ports):
        workdir = tmp_path / f"p{i}"
        workdir.mkdir()
        procs.append(BotProcess(server, own_pg_url, workdir,
                                extra_env={**env, "LAPOR_TELEGRAM__WEBHOOK_PORT": str(port)}))
    migrate = await asyncio.to_thread(run_cli, ["migrate"], env=procs[0].env(), cwd=procs[0].workdir)
    assert migrate.returncode == 0, migrate.stderr
    await asyncio.to_thread(import_agencies, procs[0])

    engine = create_async_engine(own_pg_url)
    try:
        await asyncio.gather(*(p.start_without_polling() for p in procs))
        await asyncio.gather(*(_wait_port(port, p) for port, p in zip(ports, procs, strict=True)))
        await server.wait_until(lambda: len(server.requests("setWebhook")) >= 2 or None, timeout=30)
        assert {r.params["secret_token"] for r in server.requests("setWebhook")} == {SECRET}
        targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
        forwarder = server.forward_webhook(targets)

        # The start-up sweeps' weekly summary first, so it does not land amid the admin's steps.
        await wait_text(server, ADMIN_ID, "Ringkasan mingguan", timeout=30)
        await asyncio.sleep(1.0)

        # -- the officer is bound, three citizens fill the form at once --------------------------
        officer = person(server, 6101, "Oki", username="oki_pdam")
        await make_officer(admin, officer, "PDAM", "Danum Taka")
        rina, budi, sari = (person(server, 5201, "Rina"), person(server, 5202, "Budi"),
                            person(server, 5203, "Sari"))

        async def newcomer_reports(chat: Chatter, title: str) -> None:
            await _fill_form(chat, title=title, body=f"{title}: sudah seminggu belum ada perbaikan.",
                             consent_first=True)

        async def onboarded_reports(chat: Chatter, title: str) -> None:
            await onboard(chat)
            await _fill_form(chat, title=title, body=f"{title}: sudah seminggu belum ada perbaikan.")

        await asyncio.gather(
            onboarded_reports(rina, "Air keruh di RT 07"),
            onboarded_reports(budi, "Pipa bocor di Jl. Propinsi"),
            newcomer_reports(sari, "Meteran air rusak"),
        )
        # The half-done forms live in Redis, where either process finds them.
        r = aioredis.from_url(REDIS_URL)
        try:
            keys = redis_key_builder()
            bot_id = int(server.token.split(":")[0])
            for c in (rina, budi, sari):
                state = await r.get(keys.build(StorageKey(bot_id, c.user.id, c.user.id), "state"))
                assert state is not None and b"confirm" in state.lower(), state
        finally:
            await r.aclose()
        # Each citizen's steps were handled by both processes.
        chat_targets: dict[int, set[str]] = {}
        for d in forwarder.deliveries:
            if d.ok and d.chat_id is not None:
                chat_targets.setdefault(d.chat_id, set()).add(d.target)
        for c in (rina, budi, sari):
            assert chat_targets[c.user.id] == set(targets), c.user.first_name

        # -- submit: two normally, one with a double tap reaching both processes at once ---------
        tids = list(await asyncio.gather(_submit(budi), _submit(sari)))
        tap_updates, answers = await _double_submit(server, rina)
        assert len(tap_updates) == 2
        taps = [d for d in forwarder.deliveries if d.update_id in tap_updates and d.ok]
        assert {d.target for d in taps} == set(targets)  # one tap to each process...
        assert max(d.started for d in taps) < min(d.finished for d in taps)  # ...at the same time
        assert all(a is not None for a in answers)
        rina_ids = _tracking_ids(rina)
        assert len(rina_ids) == 1, rina.texts()  # filed once, told once
        tids.append(rina_ids[0])

        # -- the admin assigns each report, the officer is told ----------------------------------
        for tid in tids:
            await wait_text(server, ADMIN_ID, tid, timeout=30)  # the "new report" notice (outbox)
        for tid in tids:
            await admin_assigns(admin, tid, "Danum Taka")
        for tid in tids:
            await wait_text(server, officer.user.id, tid, timeout=30)
        for c, tid in zip((budi, sari, rina), tids, strict=True):
            update = await wait_text(server, c.user.id, "diteruskan ke", timeout=30)
            assert tid in update

        # -- everything delivered: no update waiting, no outbox row left --------------------------
        async def outbox_drained() -> bool:
            async with engine.connect() as conn:
                left = await conn.scalar(
                    select(func.count()).select_from(Outbox).where(Outbox.status != OutboxStatus.SENT)
                )
            return left == 0

        deadline = asyncio.get_running_loop().time() + 30
        while not (forwarder.idle and await outbox_drained()):
            assert asyncio.get_running_loop().time() < deadline, "outbox not drained"
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
    finally:
        codes = await asyncio.gather(*(p.stop() for p in procs if p.proc is not None), return_exceptions=True)

    try:
        async with engine.connect() as conn:
            reports = (await conn.execute(
                select(Report.tracking_id, Citizen.telegram_id).join(Citizen, Report.citizen_id == Citizen.id)
            )).all()
            outbox = (await conn.execute(select(
                Outbox.chat_id, Outbox.method, Outbox.payload, Outbox.status, Outbox.attempts,
                Outbox.telegram_message_id,
                Outbox.group_key,
            ))).all()
            runs = (await conn.execute(select(JobRun.job_name, JobRun.run_key, JobRun.finished_at))).all()
    finally:
        await engine.dispose()

    assert codes == [0, 0], [p.log() for p in procs]

    # Every report filed once: one per citizen, the ones the citizens were told.
    assert sorted(tid for tid, _ in reports) == sorted(tids)
    assert Counter(owner for _, owner in reports) == {5201: 1, 5202: 1, 5203: 1}

    # Every update acknowledged once (a retry after a failure would show as a second 2xx).
    acked = Counter(d.update_id for d in forwarder.deliveries if d.ok)
    assert acked and set(acked.values()) == {1}
    assert {d.target for d in forwarder.deliveries if d.ok} == set(targets)

    # Every outbox row sent exactly once: the table against what the server received.
    assert outbox and all(row.status == OutboxStatus.SENT and row.attempts == 1 for row in outbox)
    expected = Counter(_call(row.method, row.chat_id, row.payload) for row in outbox)
    sent = Counter(
        call for q in server.sent_requests
        if q.ok and (call := _call(q.method, int(q.params.get("chat_id") or 0), q.params)) in expected
    )
    assert sent == expected
    for row in outbox:
        assert any(m.message_id == row.telegram_message_id for m in server.bot_messages(row.chat_id))

    # Both processes swept every job at start; each run happened once and finished.
    assert all(finished is not None for _, _, finished in runs)
    assert len({(job, key) for job, key, _ in runs}) == len(runs)
    by_job = Counter(job for job, _, _ in runs)
    assert by_job["weekly_summary"] == 1 and by_job["auto_close"] == 1
    if calendar.is_working_day(today):
        assert by_job["officer_reminder"] == 1 and by_job["escalation"] == 1
    weekly = [row for row in outbox if (row.group_key or "").startswith("weekly_summary")]
    assert [row.chat_id for row in weekly] == [ADMIN_ID]  # one summary, one admin, sent once

    assert server.violations == []
