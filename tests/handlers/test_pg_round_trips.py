"""What one form step costs in round trips to PostgreSQL (issue 15), with Redis for the FSM.

On PostgreSQL a transaction's BEGIN and COMMIT are round trips of their own, and so was every
pool checkout's pre-ping (three: BEGIN, a blank query, ROLLBACK). A step used to cost 18-22
round trips in 3-4 checkouts; now: the journal's record of the batch alone (one, in
autocommit), the update's reads on its one connection (no BEGIN nor COMMIT when it only reads,
storage/pg_driver.py) and its "done" mark alone (one). Counted on asyncpg's connection (BEGIN, COMMIT, ROLLBACK and the
ping go through ``execute``/``fetchrow``) and SQLAlchemy's statements.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.handlers.harness import Harness
from tests.handlers.test_redis_fsm_round_trips import REDIS_URL
from tests.handlers.test_statements_per_step import TAPPED, WALK, as_polling

pytestmark = pytest.mark.postgres

# The record, the citizen with the cache generation, "done".
STEP_BOUND = 3
BOUNDS = {
    "/start": 7,  # a newcomer: the citizen created (BEGIN, COMMIT), their roles read
    "language": 7,  # onboarding writes the citizen: BEGIN and COMMIT
    "consent": 7,
    "submit": 13,
}
# A tapped button's answer recorded in the journal, alone: one round trip.
ANSWER_MARK = 1
# Session commits in a typed form step: the journal's record of the batch (the harness records it
# through a session; the polling bot on a held connection without one). None of the update's
# own: it only read the database, so its state and data go to Redis before its question is sent
# and its marks are written alone without a commit around them (a commit's CPU each, about 3 % of
# a step's, issue 15).
STEP_SESSION_COMMITS = 1
TYPED_FORM_STEPS = ("title", "body", "location")


@contextmanager
def round_trips(engine, monkeypatch) -> Iterator[dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"trips": [], "checkouts": [], "commits": []}
    execute, fetchrow = asyncpg.Connection.execute, asyncpg.Connection.fetchrow

    async def counted_execute(self, query, *args, **kwargs):
        seen["trips"].append(query.split()[0])
        return await execute(self, query, *args, **kwargs)

    async def counted_fetchrow(self, query, *args, **kwargs):
        seen["trips"].append("fetchrow " + query[:20])
        return await fetchrow(self, query, *args, **kwargs)

    def statement(conn, cursor, text, *_) -> None:
        seen["trips"].append(" ".join(text.split())[:60])

    def checkout(*_) -> None:
        seen["checkouts"].append("checkout")

    def committed(_session) -> None:
        seen["commits"].append("commit")

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync.pool, "checkout", checkout)
    event.listen(Session, "after_commit", committed)
    with monkeypatch.context() as m:
        m.setattr(asyncpg.Connection, "execute", counted_execute)
        m.setattr(asyncpg.Connection, "fetchrow", counted_fetchrow)
        try:
            yield seen
        finally:
            event.remove(sync, "before_cursor_execute", statement)
            event.remove(sync.pool, "checkout", checkout)
            event.remove(Session, "after_commit", committed)


async def test_a_form_step_costs_a_few_round_trips_to_postgresql(tmp_path, pg_empty_database_url, monkeypatch):
    async with Harness.create(tmp_path, database={"url": pg_empty_database_url}, redis={"url": REDIS_URL}) as h:
        as_polling(h)
        counts = {}
        for walk in range(2):  # the first walk fills the process caches and the pool
            # Citizens of this run alone: FSM keys of an earlier run would put them mid-form.
            user = h.user(random.randrange(10**8, 10**9), "Alice")
            for name, step in WALK:
                with round_trips(h.app.engine, monkeypatch) as seen:
                    await step(h, user)
                if walk:
                    counts[name] = seen
            assert "LPR-" in h.last_text(user)

    for name, seen in counts.items():
        extra = ANSWER_MARK if name in TAPPED else 0
        assert len(seen["trips"]) <= BOUNDS.get(name, STEP_BOUND) + extra, (name, seen["trips"])
        # The batch's record, then the update's one connection (not one per commit).
        assert len(seen["checkouts"]) <= 2, (name, seen)
        assert "fetchrow ;" not in seen["trips"], (name, seen)  # no ping (asyncpg's is a blank query)
    for name in TYPED_FORM_STEPS:
        assert len(counts[name]["commits"]) <= STEP_SESSION_COMMITS, (name, counts[name])
