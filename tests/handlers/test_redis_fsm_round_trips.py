"""With Redis, a form step costs three round trips to Redis (issue 15): the chat's lock taken
with the state and the data read in one script, the step's writes in one script before its
question is sent (a MULTI/EXEC before), the "question sent" mark and the lock's release in one
script (bot/fsm_redis.py). It used to be eight: the lock, two reads, every set_state and set_data
on its own, the release; then five, the lock and one MGET apart; then four, the mark and the
release apart."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bot import redis_wire
from bot.services.update_journal import UpdateJournal
from handlers.intake import flow
from handlers.intake.flow import QUESTION_UNSENT
from handlers.intake.states import STATE_OF
from tests.handlers.harness import Harness
from tests.handlers.test_statements_per_step import WALK, as_polling

REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")

# The chat's lock taken with the read, the step before its question is sent, the "question sent"
# mark with the lock's release.
STEP_BOUND = 3
# Beside the form, the marker of a too-long description sent in parts: its own key, one more read.
BOUNDS = {"body": 4}


@contextmanager
def round_trips(monkeypatch) -> Iterator[list[str]]:
    seen: list[str] = []
    command, execute, direct = Redis.execute_command, Pipeline.execute, redis_wire.command

    async def counted_command(self, *args, **kwargs):
        seen.append(" ".join(map(str, args)))
        return await command(self, *args, **kwargs)

    async def counted_pipeline(self, *args, **kwargs):
        seen.append("pipeline: " + " ".join(str(c[0][0]) for c in self.command_stack))
        return await execute(self, *args, **kwargs)

    async def counted_direct(connection, *args):  # the scripts' light path
        seen.append(" ".join(a.decode() if isinstance(a, bytes) else str(a) for a in args))
        return await direct(connection, *args)

    with monkeypatch.context() as m:
        m.setattr(Redis, "execute_command", counted_command)
        m.setattr(Pipeline, "execute", counted_pipeline)
        m.setattr(redis_wire, "command", counted_direct)
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
    assert [trip.split()[0] for trip in title] == ["EVALSHA"] * 3, title
    # The step's data and state together, in one script, before its question is sent; the
    # "question sent" mark (the data alone) with the lock's release, the update's last trip.
    writes = [trip.split()[2:] for trip in title if trip.split()[1] == write_sha]
    assert [(w[0], sorted(k.rsplit(":", 1)[-1] for k in w[1:1 + int(w[0])])) for w in writes] == [
        ("2", ["data", "state"])], title
    last = title[-1].split()[2:]
    assert sorted(k.rsplit(":", 1)[-1] for k in last[1:1 + int(last[0])]) == ["data", "lock"], title


async def test_the_journal_calls_a_step_done_only_after_redis_holds_it_and_the_lock_is_free(tmp_path, monkeypatch):
    """The "question sent" mark and the lock's release go in one script before the journal's
    "done" (bot/unit_of_work.py): a kill -9 between the two leaves the step stored in Redis and
    the update unfinished (replayed over its own writes), never an update done whose last state
    Redis lacks."""
    async with Harness.create(tmp_path, redis={"url": REDIS_URL}) as h:
        as_polling(h)
        user = h.user(random.randrange(10**8, 10**9), "Alice")
        redis = h.app.fsm_storage.redis
        seen_at_done: list[tuple[str | None, bool]] = []
        finish_in = UpdateJournal.finish_in

        async def observed(self, session, update_id):
            keys = {k.decode().rsplit(":", 1)[-1]: k async for k in redis.scan_iter(match=f"*:{user.id}:*")}
            data = await redis.get(keys["data"]) if "data" in keys else None
            seen_at_done.append((data.decode() if data else None, "lock" in keys))
            return await finish_in(self, session, update_id)

        monkeypatch.setattr(UpdateJournal, "finish_in", observed)
        for _name, step in WALK[:7]:  # onboarding, /lapor, kind, agency, title
            await step(h, user)
        form_steps = seen_at_done[3:]
        assert len(form_steps) == 4, seen_at_done
        for data, locked in form_steps:
            assert data is not None and QUESTION_UNSENT not in json.loads(data), data  # "question sent" stored
            assert not locked  # released with it


@pytest.mark.postgres
async def test_on_postgresql_a_step_is_in_redis_before_its_question_is_sent(tmp_path, pg_empty_database_url,
                                                                           monkeypatch):
    """On PostgreSQL a form step's database work is only reading, and its state and data go to
    Redis without a commit of the session (storage/unit_of_work.py, ``send_elsewhere_only``): still
    before the question is sent, marked "question not yet sent" (handlers/intake/flow.py), so a kill
    -9 while the question is out leaves the step stored and the question shown again."""
    async with Harness.create(tmp_path, database={"url": pg_empty_database_url}, redis={"url": REDIS_URL}) as h:
        as_polling(h)
        user = h.user(random.randrange(10**8, 10**9), "Alice")
        redis = h.app.fsm_storage.redis
        stored_when_sent: list[tuple[str | None, dict]] = []
        send_prompt = flow.send_prompt

        async def observed(bot, chat_id, form, step, *args, **kwargs):
            keys = {k.decode().rsplit(":", 1)[-1]: k async for k in redis.scan_iter(match=f"*:{user.id}:*")}
            state = await redis.get(keys["state"]) if "state" in keys else None
            data = await redis.get(keys["data"]) if "data" in keys else None
            stored_when_sent.append((state.decode() if state else None, json.loads(data) if data else {}))
            assert stored_when_sent[-1][0] == STATE_OF[step].state, (step, stored_when_sent[-1])
            return await send_prompt(bot, chat_id, form, step, *args, **kwargs)

        monkeypatch.setattr(flow, "send_prompt", observed)
        for _name, step in WALK[:8]:  # onboarding, /lapor, kind, agency, title, body
            await step(h, user)
        assert len(stored_when_sent) == 5, stored_when_sent  # /lapor, kind, agency, title, body
        for _state, data in stored_when_sent:
            assert data.get(QUESTION_UNSENT) is True, data
        assert "Sudah tiga hari" in json.dumps(stored_when_sent[-1][1]), stored_when_sent[-1]  # the body's answer
