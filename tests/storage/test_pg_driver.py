"""PostgreSQL transactions begin at their first write (storage/pg_driver.py): a transaction that
only reads costs neither BEGIN nor COMMIT, and everything that writes or locks is still inside
one transaction that commits or rolls back whole."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import create_engine, create_session_factory
from storage.pg_driver import is_plain_read
from storage.unit_of_work import alone, held_session

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(("statement", "plain"), [
    ("SELECT citizen.id FROM citizen WHERE citizen.id = $1", True),
    ("  select 1", True),
    ("SELECT fsm_state.state FROM fsm_state WHERE x = $1 FOR UPDATE", False),
    ("SELECT outbox.id FROM outbox FOR UPDATE OF outbox SKIP LOCKED", False),
    ("SELECT 1 FOR SHARE", False),
    ("SELECT 1 FOR NO KEY UPDATE", False),
    ("WITH moved AS (UPDATE report SET x = 1 RETURNING id) SELECT count(*) FROM moved", False),
    ("UPDATE received_update SET done_at = $1", False),
    ("INSERT INTO citizen (telegram_id) VALUES ($1)", False),
])
def test_what_counts_as_a_plain_read(statement, plain):
    assert is_plain_read(statement) is plain


async def _in_transaction(conn) -> bool:
    raw = (await conn.get_raw_connection()).driver_connection
    return raw.is_in_transaction()


async def test_reads_run_alone_and_the_first_write_begins_the_transaction(pg_database_url):
    engine = create_engine(pg_database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS lazy_begin (id int)"))
            await conn.commit()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM lazy_begin"))
            assert not await _in_transaction(conn)  # without the rule: BEGIN went out first
            await conn.execute(text("INSERT INTO lazy_begin VALUES (1)"))
            assert await _in_transaction(conn)
            await conn.execute(text("SELECT count(*) FROM lazy_begin"))
            await conn.execute(text("INSERT INTO lazy_begin VALUES (2)"))
            await conn.rollback()  # both writes go together
            assert (await conn.execute(text("SELECT count(*) FROM lazy_begin"))).scalar_one() == 0
            await conn.execute(text("SELECT 1 FROM lazy_begin FOR UPDATE"))
            assert await _in_transaction(conn)  # a lock is held to the end of a transaction
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_inside_alone_each_write_commits_by_itself_and_after_it_transactions_are_whole(pg_database_url):
    """``storage.unit_of_work.alone`` (the journal's marks): a lone write is one round trip, no
    BEGIN nor COMMIT, and committed at once; after the block, writes are one transaction again."""
    engine = create_engine(pg_database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS each_alone (id int)"))
            await conn.execute(text("DELETE FROM each_alone"))
            await conn.commit()
        async with held_session(create_session_factory(engine)) as session:
            await session.execute(text("SELECT count(*) FROM each_alone"))
            async with alone(session):
                await session.execute(text("INSERT INTO each_alone VALUES (1)"))
                # Committed by itself: without the rule it waits for a COMMIT in an open transaction.
                assert not await _in_transaction(await session.connection())
            await session.execute(text("INSERT INTO each_alone VALUES (2)"))
            assert await _in_transaction(await session.connection())
            await session.execute(text("INSERT INTO each_alone VALUES (3)"))
            await session.rollback()  # 2 and 3 go together; 1 stays
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT array_agg(id) FROM each_alone"))).scalar_one() == [1]
    finally:
        await engine.dispose()
