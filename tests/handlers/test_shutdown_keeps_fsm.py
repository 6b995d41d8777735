"""A SIGTERM lets the running updates finish with their FSM storage (issue 15).

aiogram closes the FSM storage as its first shutdown handler, before ours drains the running
handlers: with Redis every update in flight at a restart failed on a closed pool ("Connection
closed") half-way, its chat lock unreleased, and was marked done unfinished (found by
tests/e2e/test_concurrency_e2e.py on PostgreSQL + Redis). The storage is closed by App.close,
after the drain.
"""

from __future__ import annotations

import asyncio
import os

from aiogram.fsm.storage.base import StorageKey

from tests.handlers.harness import BOT_USER, Harness

REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


async def test_the_fsm_storage_is_closed_after_the_running_handlers_end(tmp_path):
    async with Harness.create(tmp_path, redis={"url": REDIS_URL}) as h:
        key = StorageKey(bot_id=BOT_USER.id, chat_id=424242, user_id=424242)
        storage = h.app.fsm_storage
        middleware = h.app.dp.journal_middleware
        events: list[str] = []
        close = storage.close

        async def recorded_close() -> None:
            events.append("storage closed")
            await close()

        storage.close = recorded_close  # type: ignore[method-assign]

        async def running_update() -> None:
            # Half-way when the SIGTERM comes: it still writes its step afterwards.
            middleware.in_flight.add(1)
            middleware._idle.clear()
            await asyncio.sleep(0.3)
            await storage.set_data(key, {"step": "after the signal"})
            events.append("handler done")
            middleware.in_flight.discard(1)
            middleware._idle.set()

        task = asyncio.create_task(running_update())
        await asyncio.sleep(0.05)
        await h.app.dp.emit_shutdown(bot=h.app.bot)  # what aiogram runs on SIGTERM
        await task
        # A command in flight when the pool closed failed with "Connection closed" (the e2e run).
        assert events == ["handler done"]
        assert await storage.get_data(key) == {"step": "after the signal"}
        await storage.set_data(key, {})
    assert events == ["handler done", "storage closed"]  # App.close, at the end
