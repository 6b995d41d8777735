"""With Redis, a form step costs four round trips to Redis (issue 15): the chat's lock taken
with the state and the data read in one script, the step's writes in one script at each commit (a
MULTI/EXEC before), the lock's release (bot/fsm_redis.py). It used to be eight: the lock, two reads, every
set_state and set_data on its own, the release; then five, the lock and one MGET apart."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from tests.handlers.harness import Harness
from tests.handlers.test_statements_per_step import WALK, as_polling

REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")

# The chat's lock taken with the read, the step before its question is sent, the "question sent"
# mark with the update's end, the lock's release.
STEP_BOUND = 4
# Beside the form, the marker of a too-long description sent in parts: its own key, one more read.
BOUNDS = {"body": 5}


@contextmanager
def round_trips(monkeypatch) -> Iterator[list[str]]:
    seen: list[str] = []
    command, execute = Redis.execute_command, Pipeline.execute

    async def counted_command(self, *args, **kwargs):
        seen.append(" ".join(map(str, args)))
        return await command(self, *args, **kwargs)

    async def counted_pipeline(self, *args, **kwargs):
        seen.append("pipeline: " + " ".join(str(c[0][0]) for c in self.command_stack))
        return await execute(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Redis, "execute_command", counted_command)
        m.setattr(Pipeline, "execute", counted_pipeline)
        yield seen


async def test_a_form_step_reads_redis_once_and_writes_it_once_per_commit(tmp_path, monkeypatch):
    async with Harness.create(tmp_path, redis={"url": REDIS_URL}) as h:
        as_polling(h)
        # A citizen of this run alone: FSM keys of an earlier run would put them mid-form.
        user = h.user(random.randrange(10**8, 10**9), "Alice")
        # A script's first use on a Redis server costs a failed EVALSHA and a SCRIPT LOAD (redis-py
        # retries): the form's writes are first used at /lapor, as a fresh server would show.
        storage = h.app.fsm_storage
        await storage.redis.script_load(storage.write_script.script)
        counts = {}
        for name, step in WALK:
            with round_trips(monkeypatch) as seen:
                await step(h, user)
            counts[name] = seen
        assert "LPR-" in h.last_text(user)  # the form went through, every step stored
        write_sha = h.app.fsm_storage.write_script.sha
        keys = [k async for k in h.app.fsm_storage.redis.scan_iter(match=f"*:{user.id}:*")]
        assert keys == []  # submitting cleared the form

    form_steps = {name: seen for name, seen in counts.items() if name not in ("/start", "language", "consent")}
    for name, seen in form_steps.items():
        assert len(seen) <= BOUNDS.get(name, STEP_BOUND), (name, seen)
    title = counts["title"]
    # No read of its own: the lock's script (EVALSHA) read it; another EVALSHA releases the lock.
    assert not any(trip.split()[0] in ("MGET", "GET", "SET") or trip.startswith("pipeline") for trip in title), title
    assert [trip.split()[0] for trip in title] == ["EVALSHA"] * 4, title
    # The step's data and state together, in one script, before its question is sent; the
    # "question sent" mark (the data alone) with the update's end.
    writes = [trip.split()[2:] for trip in title if trip.split()[1] == write_sha]
    assert [(w[0], sorted(k.rsplit(":", 1)[-1] for k in w[1:1 + int(w[0])])) for w in writes] == [
        ("2", ["data", "state"]), ("1", ["data"])], title
