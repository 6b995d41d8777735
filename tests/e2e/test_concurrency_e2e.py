"""A few hundred citizens at once against the real ``lapor-bot run`` process: every one answered.

Issue 15: from about 15 concurrent citizens on, the bot stopped answering altogether (each update
waited for a second pool connection while holding one); on PostgreSQL + Redis half the citizens
failed on the Redis client's connection cap. Here 200 citizens start at the same moment and each
walks the onboarding and the first form steps, waiting for every answer as a person would;
nobody may be left without one, on SQLite (the default) and on PostgreSQL + Redis. The local Bot
API server runs without rate limits: the subject is the bot, not Telegram's pace.
Throughput is measured by bench/concurrency.py, not here.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from sandbox.botapi import BotApiServer, Limits, SimUser
from tests.conftest import _pg_admin, _pg_url
from tests.e2e.botprocess import BotProcess
from tests.e2e.crowd import FORM, ONBOARDING, run_crowd

pytestmark = pytest.mark.e2e
CITIZENS = 200
STEPS = ONBOARDING + FORM[:2]  # up to the agency question: 5 updates each
REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
async def free_server() -> AsyncIterator[BotApiServer]:
    # A bot id of its own: the Redis keys of this run are its own.
    bot_id = 700_000_000 + secrets.randbelow(99_999_999)
    # Button answers may come late in a burst of 200 (the backlog waits its turn at
    # Telegram); what must not happen is no answer at all.
    limits = Limits.off(callback_answer_timeout=120)
    async with BotApiServer(token=f"{bot_id}:AACrowd{secrets.token_hex(12)}", limits=limits) as server:
        server.add_user(SimUser(id=9000, first_name="Admin"))
        yield server
    r = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in r.scan_iter(match=f"lapor:fsm:{bot_id}:*")]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


async def _crowd_all_answered(server: BotApiServer, proc: BotProcess) -> None:
    await proc.start()
    try:
        result = await run_crowd(server, CITIZENS, STEPS, timeout=90)
        unanswered = [(c.user.id, c.failed) for c in result.unanswered]
        assert not unanswered, f"{len(unanswered)} citizens left without an answer: {unanswered[:5]}\n{proc.log()}"
        assert result.updates == CITIZENS * len(STEPS)
        assert server.violations == [], server.violations[:5]
    finally:
        assert await proc.stop() == 0
    log = proc.log_path.read_text(errors="replace")
    assert "failed" not in log and "database is locked" not in log, log[-3000:]


async def test_200_citizens_at_once_on_sqlite_all_answered(free_server, tmp_path):
    proc = BotProcess(free_server, f"sqlite+aiosqlite:///{tmp_path / 'crowd.db'}", tmp_path)
    await _crowd_all_answered(free_server, proc)


@pytest.mark.postgres
async def test_200_citizens_at_once_on_postgresql_and_redis_all_answered(free_server, tmp_path):
    name = f"lapor_crowd_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        proc = BotProcess(free_server, _pg_url(name), tmp_path, extra_env={"LAPOR_REDIS__URL": REDIS_URL})
        migrate = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "bot", "migrate"], env=proc.env(), cwd=tmp_path,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert migrate.returncode == 0, migrate.stderr
        await _crowd_all_answered(free_server, proc)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
