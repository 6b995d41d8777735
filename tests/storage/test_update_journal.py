"""The received-update journal on SQLite and PostgreSQL: stored once, claimed once, a dead
process's claim taken over, finished updates never handed out again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.services.update_journal import Claim, Seen, UpdateJournal
from storage.repositories.updates import ReceivedUpdateRepo

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def journal(session_factory, clock: Clock) -> UpdateJournal:
    return UpdateJournal(session_factory, lease=timedelta(seconds=30), clock=clock)


async def test_an_update_delivered_twice_is_stored_and_claimed_once(session_factory):
    clock = Clock()
    a, b = journal(session_factory, clock), journal(session_factory, clock)  # two processes
    assert await a.record(1, {"update_id": 1}) is Seen.NEW
    assert await b.record(1, {"update_id": 1}) is Seen.NEW  # not held yet
    won = await asyncio.gather(a.claim(1), b.claim(1))
    assert sorted(w is not None for w in won) == [False, True]
    assert await a.record(1, {"update_id": 1}) is Seen.BUSY
    await a.finish(1)
    assert await b.record(1, {"update_id": 1}) is Seen.DONE
    assert not await b.claim(1) and not await b.claim(1, take_over=True)


async def test_a_dead_process_leaves_its_update_to_the_next(session_factory):
    clock = Clock()
    dead, alive = journal(session_factory, clock), journal(session_factory, clock)
    await dead.record(7, {"update_id": 7, "message": {"text": "halo"}})
    assert await dead.claim(7)
    # While the claim runs, another webhook process leaves it alone...
    assert await alive.orphans(take_over=False) == []
    assert not await alive.claim(7)
    # ...the one polling process at start takes it over at once...
    [orphan] = await alive.orphans(take_over=True)
    assert orphan.update_id == 7 and orphan.payload["message"]["text"] == "halo"
    # ...and anyone may once the claim ran out.
    clock.now += timedelta(seconds=31)
    assert [o.update_id for o in await alive.orphans(take_over=False)] == [7]
    assert await alive.claim(7)
    await alive.finish(7)
    assert await alive.orphans(take_over=True) == []


async def test_a_running_claim_is_renewed_and_a_released_one_is_free(session_factory):
    clock = Clock()
    a, b = journal(session_factory, clock), journal(session_factory, clock)
    await a.record(3, {"update_id": 3})
    assert await a.claim(3)
    clock.now += timedelta(seconds=20)
    await a.renew([3])
    clock.now += timedelta(seconds=20)  # 40 s after the claim, 20 s after the renewal
    assert not await b.claim(3)
    await a.release(3)
    assert await b.claim(3)


async def test_old_finished_updates_are_pruned(session_factory):
    clock = Clock()
    j = journal(session_factory, clock)
    for uid in (1, 2):
        await j.record(uid, {"update_id": uid})
    await j.claim(1)
    await j.finish(1)
    clock.now += timedelta(days=3)
    assert await j.prune() == 1
    assert [o.update_id for o in await j.orphans(take_over=True)] == [2]


async def test_a_claim_says_when_the_update_came_and_when_its_button_was_answered(session_factory):
    clock = Clock()
    dead, alive = journal(session_factory, clock), journal(session_factory, clock)
    await dead.record(9, {"update_id": 9})
    assert await dead.claim(9) == Claim(T0, None)
    clock.now += timedelta(seconds=2)
    await dead.mark_answered(9)
    clock.now += timedelta(seconds=40)  # the process died; its claim ran out
    assert await alive.claim(9) == Claim(T0, T0 + timedelta(seconds=2))


async def test_a_polled_batch_of_any_size_is_recorded_by_one_cached_statement(session_factory):
    """Issue 15: at a steady rate every getUpdates answer is a batch of its own, mostly of one
    update; compiling its INSERT again for each one cost more CPU than the insert itself. The
    statement is compiled once for one update and once for several (SQLAlchemy keys an executemany
    apart), whatever the batch size; only the new updates are won."""
    from sqlalchemy import event

    engine = session_factory.kw["bind"]
    misses: list[str] = []

    def seen(_conn, _cursor, statement, _params, context, _many) -> None:
        if "received_update" in statement and context.cache_hit != context.dialect.CACHE_HIT:
            misses.append(statement)

    j = journal(session_factory, Clock())
    # Compiled here, if not before.
    assert await j.record_claimed_batch([(1, {"update_id": 1})]) == {1}
    assert await j.record_claimed_batch([(2, {"update_id": 2}), (3, {"update_id": 3})]) == {2, 3}
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await j.record_claimed_batch([(4, {"update_id": 4})]) == {4}
        assert await j.record_claimed_batch([(u, {"update_id": u}) for u in (3, 5, 1, 6)]) == {5, 6}
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert misses == []
    assert sorted(o.update_id for o in await j.orphans(take_over=True)) == [1, 2, 3, 4, 5, 6]


async def test_a_mark_commits_by_itself_and_leaves_the_pool_transactional(session_factory):
    """On PostgreSQL each journal mark is one statement committed by itself (``single_statements``:
    no BEGIN, storage/pg_driver.py); the pooled connection stays as it was, so an update's own
    session on it still rolls back as a whole."""
    from sqlalchemy import func, select

    from storage.db import create_engine, create_session_factory
    from storage.models import ReceivedUpdate
    from storage.unit_of_work import single_statements

    bind = session_factory.kw["bind"]
    if bind.dialect.name != "postgresql":
        pytest.skip("SQLite's marks are plain transactions")
    # The bot's own engine (its driver), on the fixture's database.
    engine = create_engine(bind.url.render_as_string(hide_password=False), pool_size=2)
    factory = create_session_factory(engine)

    async def stored() -> int:
        async with factory() as s:
            return await s.scalar(select(func.count()).select_from(ReceivedUpdate))

    try:
        j = journal(factory, Clock())
        with pytest.raises(RuntimeError):
            async with single_statements(factory) as s:
                await ReceivedUpdateRepo(s).record(1, {"update_id": 1}, T0)
                raise RuntimeError("no commit")  # committed all the same: the statement was alone
        assert await stored() == 1
        for _ in range(3):  # the pool's connections (most recently used first) are transactional
            async with factory() as s:
                await ReceivedUpdateRepo(s).record(2, {"update_id": 2}, T0)
                await s.rollback()
            await j.record_claimed_batch([(3, {"update_id": 3})])
        assert await stored() == 2
    finally:
        await engine.dispose()


def _pg_only(session_factory) -> None:
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the held connection is PostgreSQL's (asyncpg); SQLite records in a session")


async def test_while_polling_the_batches_are_committed_on_one_connection_given_back_at_the_end(session_factory):
    """Issue 15: at a steady rate every getUpdates answer is a batch of one. While polling, the
    batches are recorded on one connection kept for them; each is committed before the call
    returns (the next getUpdates confirms it to Telegram), and the connection goes back to the
    pool when polling ends."""
    from sqlalchemy import event, select

    from storage.models import ReceivedUpdate

    _pg_only(session_factory)
    engine = session_factory.kw["bind"]
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    event.listen(engine.sync_engine.pool, "checkout", checked_out)
    clock = Clock()
    j = journal(session_factory, clock)
    await j.record(2, {"update_id": 2})  # stored before, e.g. by a webhook
    checkouts.clear()
    try:
        async with j.polling():
            assert await j.record_claimed_batch([(1, {"update_id": 1, "message": {"text": "é\u2028"}})]) == {1}
            assert await j.record_claimed_batch([(u, {"update_id": u}) for u in (2, 3, 4)]) == {3, 4}
            assert len(checkouts) == 1
            # Seen from another connection while the held one is still out: committed.
            async with session_factory() as s:
                rows = {r.update_id: r for r in await s.scalars(select(ReceivedUpdate))}
            assert engine.pool.checkedout() == 1
    finally:
        event.remove(engine.sync_engine.pool, "checkout", checked_out)
    assert engine.pool.checkedout() == 0
    assert sorted(rows) == [1, 2, 3, 4]
    assert rows[1].payload == {"update_id": 1, "message": {"text": "é\u2028"}}
    for uid in (1, 3, 4):
        assert (rows[uid].claimed_by, rows[uid].claimed_until, rows[uid].attempts) == (j.owner, T0 + j.lease, 1)
    assert rows[2].claimed_by is None
    assert await j.claim(3) is None  # held by this process already


async def test_while_polling_a_connection_that_failed_is_replaced(session_factory):
    """The server closed the held connection (a restart): that batch fails (the poller tries it
    again, bot/journal.py ``_until_stored``) and the next one is recorded on a new connection."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    _pg_only(session_factory)
    url = session_factory.kw["bind"].url
    engine = create_async_engine(url, poolclass=NullPool)  # no pooled connection outlives the kill
    try:
        j = journal(async_sessionmaker(engine, expire_on_commit=False), Clock())
        async with j.polling():
            assert await j.record_claimed_batch([(1, {"update_id": 1})]) == {1}
            async with engine.connect() as other:
                await other.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            with pytest.raises(Exception):  # noqa: B017 - whichever error asyncpg raises for it
                await j.record_claimed_batch([(2, {"update_id": 2})])
            assert await j.record_claimed_batch([(2, {"update_id": 2})]) == {2}
            assert await j.record_claimed_batch([(3, {"update_id": 3})]) == {3}
    finally:
        await engine.dispose()
