"""The SQLite engine makes one trip to aiosqlite's thread per statement (storage/sqlite_driver.py),
and statements give what SQLAlchemy's own adapter gives."""

from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine
from storage.sqlite_driver import DEFER


@pytest.fixture
def trips(monkeypatch):
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


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
            assert len(trips) == 1, trips

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
        assert trips == ["_run"]  # the pool's rollback on return and this commit cost nothing

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
