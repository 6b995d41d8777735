"""The SQLite engine runs an update's statements on the loop's thread and the rest in one trip to
aiosqlite's thread per statement (storage/sqlite_driver.py), with the results SQLAlchemy's own
adapter gives; what may wait long (another process's lock, a long read) never keeps the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, create_session_factory
from storage.sqlite_driver import DEFER, INLINE, _connect
from storage.unit_of_work import bound_session


async def test_one_trip_per_statement_with_the_same_results(tmp_path, trips):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        async with engine.connect() as conn:
            trips.clear()
            inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a'), ('b') RETURNING id"))
            assert sorted(inserted.scalars()) == [1, 2]
            assert len(trips) == 1, trips  # SQLAlchemy's adapter: cursor, execute, fetchall, close

            trips.clear()
            rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
            assert trips == [], trips  # a short read runs on the loop's thread

            assert (await conn.execute(text("UPDATE t SET v = 'c' WHERE id > 0"))).rowcount == 2
            plain = await conn.execute(text("INSERT INTO t (v) VALUES ('d')"))
            assert plain.lastrowid == 3
            with pytest.raises(IntegrityError):
                await conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'again')"))
            await conn.rollback()

        async with engine.connect() as conn:  # server-side cursors keep SQLAlchemy's own
            streamed = await conn.stream(text("SELECT id FROM t ORDER BY id"))
            assert [r[0] async for r in streamed] == []  # the rolled-back rows are gone
    finally:
        await engine.dispose()


async def test_no_trip_to_end_a_transaction_that_is_not_open(tmp_path, trips):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ends.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        trips.clear()
        async with engine.connect() as conn:  # a read: no transaction; given back to the pool
            await conn.execute(text("SELECT id FROM t"))
            await conn.commit()
        assert trips == []  # the read ran on the loop; the pool's rollback and this commit cost nothing

        async with engine.connect() as conn:  # a write left open is still rolled back on return
            await conn.execute(text("INSERT INTO t (id) VALUES (1)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
            await conn.execute(text("INSERT INTO t (id) VALUES (2)"))
            await conn.commit()
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_deferred_write_rides_with_the_next_trip_in_order(tmp_path, trips):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'deferred.db'}")
    later = {DEFER: True}
    insert = text("INSERT INTO t (id, v) VALUES (:id, :v)")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        async with engine.connect() as conn:
            await conn.execute(text("DELETE FROM t"))  # a write outside an update: on the thread
            trips.clear()
            await conn.execute(insert, {"id": 1, "v": "a"}, execution_options=later)
            await conn.execute(insert, {"id": 2, "v": "b"}, execution_options=later)
            await conn.commit()
            assert trips == ["_commit"]  # both writes and the commit in one trip

            await conn.execute(insert, {"id": 3, "v": "c"}, execution_options=later)
            rows = (await conn.execute(text("SELECT id FROM t ORDER BY id"))).scalars().all()
            assert rows == [1, 2, 3]  # sent before the read that follows it
            await conn.execute(insert, {"id": 4, "v": "d"}, execution_options=later)
            await conn.rollback()  # forgotten with the transaction
            async with engine.connect() as other:
                assert (await other.execute(text("SELECT count(*) FROM t"))).scalar() == 2

            # A failing deferred write fails the commit: nothing of the transaction is kept.
            await conn.execute(insert, {"id": 5, "v": "e"})
            await conn.execute(insert, {"id": 1, "v": "again"}, execution_options=later)
            with pytest.raises(IntegrityError):
                await conn.commit()
            await conn.rollback()
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    finally:
        await engine.dispose()


async def _ticking(ticks: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        ticks[0] += 1
        await asyncio.sleep(0)


async def _loop_ran_during(awaitable) -> tuple[object, int]:
    """The awaitable's result, and how many times another task ran while it was awaited (0 when
    it kept the loop's thread to itself)."""
    ticks, stop = [0], asyncio.Event()
    ticker = asyncio.create_task(_ticking(ticks, stop))
    await asyncio.sleep(0)
    before = ticks[0]
    try:
        result = await awaitable
        return result, ticks[0] - before
    finally:
        stop.set()
        await ticker


@asynccontextmanager
async def in_update(engine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        with bound_session(session):
            yield session


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hot.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await conn.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
            "INSERT INTO t (id, v) SELECT i, 'x' FROM n"))
    yield engine
    await engine.dispose()


async def test_an_updates_statements_and_commit_make_no_trip(engine, trips):
    async with in_update(engine) as session:
        trips.clear()
        await session.execute(text("SELECT v FROM t WHERE id = 1"))
        await session.execute(text("UPDATE t SET v = 'y' WHERE id = 1"))
        await session.execute(text("INSERT INTO t (id, v) VALUES (1001, 'z')"), execution_options={DEFER: True})
        await session.commit()
        assert trips == []
        with pytest.raises(IntegrityError):  # errors as on the thread
            await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'again')"))
        await session.rollback()
    async with engine.connect() as conn:  # outside an update a write goes to the thread, its commit too
        await conn.execute(text("UPDATE t SET v = 'w' WHERE id = 2"))
        await conn.commit()
        assert trips == ["_run", "_commit"]
        trips.clear()  # unless it is marked short
        await conn.execute(text("UPDATE t SET v = 'w' WHERE id = 3"), execution_options={INLINE: True})
        await conn.commit()
        assert trips == []
        assert (await conn.execute(text("SELECT count(*) FROM t WHERE v IN ('y', 'z', 'w')"))).scalar() == 4


@contextmanager
def locked_by_another_process(path, seconds: float = 0.2) -> Iterator[None]:
    """Another process (the command line) writes, and lets go after ``seconds``, from its own thread."""
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE t SET v = 'other' WHERE id = 3")
    release = threading.Timer(seconds, other.commit)
    release.start()
    try:
        yield
    finally:
        release.join()
        other.close()


async def test_a_lock_held_by_another_process_is_waited_for_off_the_loop(engine, tmp_path, trips):
    with locked_by_another_process(tmp_path / "hot.db"):
        async with in_update(engine) as session:
            trips.clear()
            _, ticks = await _loop_ran_during(session.execute(text("UPDATE t SET v = 'mine' WHERE id = 4")))
            await session.commit()
        assert ticks > 0, "the loop waited for the lock"
        assert trips[0] == "_run", trips  # found busy on the loop, done on the thread
    with locked_by_another_process(tmp_path / "hot.db"):  # the same for a write deferred to the commit
        async with in_update(engine) as session:
            await session.execute(text("INSERT INTO t (id, v) VALUES (1002, 'at commit')"),
                                  execution_options={DEFER: True})
            trips.clear()
            _, ticks = await _loop_ran_during(session.commit())
        assert ticks > 0, "the loop waited for the lock"
        assert trips == ["_commit"], trips
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, v FROM t WHERE id IN (3, 4, 1002) ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [(3, "other"), (4, "mine"), (1002, "at commit")]


LONG_READS = [
    "SELECT count(*) FROM t a, t b",  # a million pairs
    "WITH c(n) AS (SELECT count(*) FROM t a, t b) SELECT n FROM c",
]


@pytest.mark.parametrize("long_read", LONG_READS)
async def test_a_long_read_is_stopped_on_the_loop_and_done_on_the_thread(engine, trips, long_read):
    async with in_update(engine) as session:
        await session.execute(text("UPDATE t SET v = 'kept' WHERE id = 5"))  # a write before it
        trips.clear()
        result, ticks = await _loop_ran_during(session.execute(text(long_read)))
        assert result.scalar() == 1_000_000
        assert ticks > 0, "the long read kept the loop"
        assert trips == ["_run"]
        await session.commit()  # stopping the read on the loop left the transaction whole
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT v FROM t WHERE id = 5"))).scalar() == "kept"


async def test_nothing_runs_on_the_loop_while_the_thread_has_work(engine, trips):
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        busy = asyncio.create_task(raw._execute(time.sleep, 0.05))
        await asyncio.sleep(0)  # queued on the connection's thread
        trips.clear()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1000
        assert trips == ["_run"]  # behind the work on the thread, not beside it
        await busy


async def test_the_wal_is_checkpointed_on_the_thread_not_inside_a_commit(engine, trips, monkeypatch):
    checkpoints = engine.sync_engine.dialect.loaded_dbapi.checkpoints
    monkeypatch.setattr(checkpoints, "every", 3)
    async with in_update(engine) as session:
        assert (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 0  # on the loop
        trips.clear()
        for i in range(3):
            await session.execute(text("UPDATE t SET v = :v WHERE id = 6"), {"v": str(i)})
            await session.commit()
        await asyncio.gather(*checkpoints._running)
        assert trips == ["_checkpoint"]


async def test_a_writer_waiting_for_itself_fails_after_the_pool_timeout(tmp_path):
    # One writer per process (storage/db.py OneWriter): a task holding the write turn that writes
    # through a second connection would wait for itself; it fails like SQLite would.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'self.db'}", pool_timeout=0.1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(text("INSERT INTO t (id) VALUES (1)"))
            with pytest.raises(OperationalError, match="no turn to write"):
                await asyncio.wait_for(second.execute(text("INSERT INTO t (id) VALUES (2)")), 5)
            await first.commit()
            await second.execute(text("INSERT INTO t (id) VALUES (2)"))  # its turn now
            await second.commit()
    finally:
        await engine.dispose()


async def test_a_close_after_a_stop_does_not_wait_forever(tmp_path):
    """SQLAlchemy's terminate, cancelled half-way, stops the connection (its force close) while
    its graceful close is under way; that close stops it again in its ``finally``."""
    connection = await _connect(str(tmp_path / "stop.db"))
    busy = asyncio.ensure_future(connection._execute(time.sleep, 0.2))  # the thread has work
    await asyncio.sleep(0.05)
    first = connection.stop()
    with pytest.raises(ValueError, match="closed"):  # aiosqlite: nothing runs after a stop
        await asyncio.wait_for(connection.close(), timeout=5)
    await asyncio.wait_for(first, timeout=5)
    await busy
