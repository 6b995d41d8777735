"""``storage.held`` on SQLite: an update's reads and the FSM row written at its commit go to sqlite3
without SQLAlchemy's execution (issue 15), and keep what the session's path gave them: the one
writer's turn, the writes deferred before them, SQLite's thread when the loop may not run them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import Integer, String, column, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import held
from storage.base import Base
from storage.db import create_engine, create_session_factory
from storage.fsm import SqlAlchemyStorage
from storage.sqlite_driver import DEFER
from storage.unit_of_work import alone, bound_session, held_session

_ONE = text("SELECT v FROM t WHERE id = :id").columns(column("v", String))
# A million pairs: over the loop's budget.
_LONG = text("SELECT count(*) AS n FROM t a, t b WHERE a.id > :id").columns(column("n", Integer))
KEY = StorageKey(bot_id=1, chat_id=2, user_id=2)


async def _engine(path, **kwargs):
    engine = create_engine(f"sqlite+aiosqlite:///{path}", **kwargs)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await conn.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
            "INSERT INTO t (id, v) SELECT i, 'x' FROM n"))
    return engine


@pytest.fixture
async def engine(tmp_path):
    engine = await _engine(tmp_path / "held.db")
    yield engine
    await engine.dispose()


@asynccontextmanager
async def in_update(engine) -> AsyncIterator[AsyncSession]:
    async with held_session(create_session_factory(engine)) as session:
        with bound_session(session):
            yield session


async def test_a_read_runs_on_the_loop_seen_by_the_engines_listeners(engine, trips):
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda _c, _cu, sql, *_: statements.append(sql))
    async with in_update(engine) as session:
        trips.clear()
        assert await held.first_row(session, _ONE, {"id": 1}) == ("x",)
        assert await held.first_row(session, _ONE, {"id": 5000}) is None
        assert trips == []
        assert not session.in_transaction()  # nothing begun for a read: no commit to pay for it
    assert statements == ["SELECT v FROM t WHERE id = ?"] * 2


async def test_a_read_behind_deferred_writes_goes_through_the_session(engine):
    # A deferred write that fails fails the read after it, as on the session's path: sent by
    # ``read_inline`` and then again through the session, the failure would be lost with the write.
    async with in_update(engine) as session:
        await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'again')"), execution_options={DEFER: True})
        with pytest.raises(IntegrityError):
            await held.first_row(session, _ONE, {"id": 1})
        await session.rollback()


async def test_a_long_read_and_a_busy_thread_go_to_sqlites_thread(engine, trips):
    async with in_update(engine) as session:
        trips.clear()
        assert await held.first_row(session, _LONG, {"id": 0}) == (1_000_000,)
        assert trips == ["_run"]  # stopped on the loop after its budget, done on the thread

        raw = held.held_connection(session).sync_connection.connection.dbapi_connection._connection
        busy = asyncio.create_task(raw._execute(time.sleep, 0.05))
        await asyncio.sleep(0)  # queued on the connection's thread
        trips.clear()
        assert await held.first_row(session, _ONE, {"id": 2}) == ("x",)
        assert trips == ["_run"]  # behind the work on the thread, not beside it
        await busy


async def test_the_fsm_row_at_the_commit_takes_the_one_writers_turn(tmp_path):
    # As any write: a task that holds the turn and writes the FSM row through a second
    # connection waits for itself and fails after the pool timeout (storage/db.py OneWriter).
    # Sent to sqlite3 unseen by the one writer, the commit would wait in SQLite's busy handler.
    engine = await _engine(tmp_path / "turn.db", pool_timeout=0.1)
    try:
        storage = SqlAlchemyStorage(create_session_factory(engine))
        async with engine.connect() as first:
            await first.execute(text("UPDATE t SET v = 'first' WHERE id = 1"))
            async with in_update(engine) as session:
                await storage.set_data(KEY, {"title": "Air mati"})
                with pytest.raises(OperationalError, match="no turn to write"):  # as SQLAlchemy raises it
                    await asyncio.wait_for(session.commit(), 5)
            await first.commit()
        async with in_update(engine) as session:  # its turn now
            await storage.set_data(KEY, {"title": "Air mati"})
            await session.commit()
        async with in_update(engine) as session:
            assert await storage.get_data(KEY) == {"title": "Air mati"}
    finally:
        await engine.dispose()


async def test_a_mark_goes_with_the_updates_commit_and_a_jobs_write_to_the_thread(engine, trips):
    mark = text("UPDATE t SET v = :v WHERE id = :id")
    async with in_update(engine) as session:
        trips.clear()
        async with alone(session):
            await held.write_alone(session, mark, {"v": "marked", "id": 7})
        assert trips == []  # with the commit, on the loop's thread
    # Outside an update (a job, the command line) writes may be long batches: SQLite's thread, and
    # nothing is put at a commit the loop's thread would make.
    async with create_session_factory(engine)() as session:
        trips.clear()
        assert not await session.run_sync(held.defer_write, mark, {"v": "job", "id": 8})
        await held.write_alone(session, mark, {"v": "job", "id": 8})
        await session.commit()
        assert trips == ["_run", "_commit"]
    async with in_update(engine) as session:
        assert await held.first_row(session, _ONE, {"id": 7}) == ("marked",)
        assert await held.first_row(session, _ONE, {"id": 8}) == ("job",)
