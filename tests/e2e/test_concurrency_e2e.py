"""A few hundred citizens at once against the real ``lapor-bot run`` process: every one answered.

Issue 15: from about 15 concurrent citizens on, the bot stopped answering altogether (each update
waited for a second pool connection while holding one); on PostgreSQL + Redis half the citizens
failed on the Redis client's connection cap. Here 200 citizens start at the same moment and each
walks the onboarding and the first form steps, waiting for every answer as a person would;
nobody may be left without one. The local Bot API server runs without rate limits: the subject
is the bot, not Telegram's pace. Throughput is measured by bench/concurrency.py, not here.

On PostgreSQL + Redis a few of 200 citizens once seemed to get no answer to one step, without
any error logged. The bot had answered them, but not with what the crowd waited for: the runs
shared one Redis database and one bot id, and the FSM keys of an earlier run (this walk stops
mid-form) outlived the fresh PostgreSQL database, so those citizens' /lapor found a form in
progress. Reproduced: the same 30-citizen walk twice on one Redis, 0 then 30 unanswered. Each
run here has a bot id, hence Redis keys, of its own (``server_with_own_bot_id``) and a database
of its own.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from sandbox.botapi import BotApiServer, Limits, SimUser
from tests.conftest import _pg_admin, _pg_url
from tests.e2e.botprocess import BotProcess
from tests.e2e.crowd import FORM, ONBOARDING, run_crowd
from tests.e2e.own_bot import server_with_own_bot_id

pytestmark = pytest.mark.e2e
REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
CITIZENS = 200
STEPS = ONBOARDING + FORM[:2]  # up to the agency question: 5 updates each


@pytest.fixture
async def free_server() -> AsyncIterator[BotApiServer]:
    # Button answers may come late in a burst of 200 (the backlog waits its turn at
    # Telegram); what must not happen is no answer at all.
    limits = Limits.off(callback_answer_timeout=120)
    async with BotApiServer(limits=limits) as server:
        server.add_user(SimUser(id=9000, first_name="Admin"))
        yield server


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


@pytest.fixture
def own_pg_url() -> Iterator[str]:
    name = f"lapor_crowd_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_200_citizens_at_once_on_postgresql_and_redis_all_answered(own_pg_url, tmp_path):
    limits = Limits.off(callback_answer_timeout=120)
    async with server_with_own_bot_id(REDIS_URL, limits, "Crowd") as server:
        server.add_user(SimUser(id=9000, first_name="Admin"))
        proc = BotProcess(server, own_pg_url, tmp_path, extra_env={"LAPOR_REDIS__URL": REDIS_URL})
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=proc.env(), cwd=tmp_path, check=True,
                       capture_output=True)
        await _crowd_all_answered(server, proc)
