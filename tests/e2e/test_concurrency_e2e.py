"""A few hundred citizens at once against the real ``lapor-bot run`` process: every one answered.

Issue 15: from about 15 concurrent citizens on, the bot stopped answering altogether (each update
waited for a second pool connection while holding one); on PostgreSQL + Redis half the citizens
failed on the Redis client's connection cap. Here 200 citizens start at the same moment and each
walks the onboarding and the first form steps, waiting for every answer as a person would;
nobody may be left without one. The local Bot API server runs without rate limits: the subject
is the bot, not Telegram's pace. Throughput is measured by bench/concurrency.py, not here.

SQLite (the default) only for now: on PostgreSQL + Redis a few of 200 citizens sometimes got no
answer to one step without any error logged (bench/README.md, "Open finding"); that test joins
this module once the cause is found.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.botapi import BotApiServer, Limits, SimUser
from tests.e2e.botprocess import BotProcess
from tests.e2e.crowd import FORM, ONBOARDING, run_crowd

pytestmark = pytest.mark.e2e
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
