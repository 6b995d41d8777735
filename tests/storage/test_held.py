"""``storage.held``: the citizen read and the journal's marks on the update's held connection,
straight to asyncpg on PostgreSQL (issue 15), the session's path elsewhere. Same results, same
transactions, and a failure still reaches SQLAlchemy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import Integer, String, bindparam, cast, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage import held
from storage.base import utcnow
from storage.db import create_engine, create_session_factory
from storage.models import Agency, Citizen, ReceivedUpdate
from storage.repositories.citizens import CitizenRepo
from storage.repositories.updates import ReceivedUpdateRepo
from storage.unit_of_work import alone, held_session

CONSENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _citizen(factory, telegram_id: int = 42) -> None:
    async with factory() as s:
        s.add(Citizen(telegram_id=telegram_id, first_name="Siti", language="id", consent_at=CONSENT))
        await s.commit()


async def test_the_citizen_read_gives_the_entity_the_orm_would(app_engine):
    factory = create_session_factory(app_engine)
    await _citizen(factory)
    async with factory() as s:
        s.add(Agency(name="Dinas Alpha", kind="opd"))  # a watched table: the generation moves
        await s.flush()
        await s.commit()
        loaded = await s.scalar(select(Citizen).where(Citizen.telegram_id == 42))
    async with held_session(factory) as session:
        citizen, generation = await CitizenRepo(session).with_generation(42)
        assert citizen is not None and generation == 1
        for column in Citizen.__table__.c:
            assert getattr(citizen, column.key) == getattr(loaded, column.key), column.key
        assert citizen.consent_at.tzinfo is not None  # UTCDateTime's processing applied
        # A persistent entity of the session: a service's change to it is written at the commit.
        assert citizen in session and not session.dirty
        again, _ = await CitizenRepo(session).with_generation(42)
        assert again is citizen  # what the session holds wins, as with an ORM load
        citizen.language = "en"
        await session.commit()
        assert await CitizenRepo(session).with_generation(7) == (None, 1)  # a newcomer: one row still
    async with factory() as s:
        assert await s.scalar(select(Citizen.language).where(Citizen.telegram_id == 42)) == "en"


async def test_the_citizen_read_sees_the_updates_own_uncommitted_write(app_engine):
    factory = create_session_factory(app_engine)
    await _citizen(factory)
    async with held_session(factory) as session:
        await session.execute(update(Citizen).where(Citizen.telegram_id == 42).values(language="en"))
        citizen, _ = await CitizenRepo(session).with_generation(42)
        assert citizen is not None and citizen.language == "en"
        await session.rollback()


async def test_an_update_that_only_read_gives_its_connection_back_without_tasks(app_engine, monkeypatch):
    """SQLAlchemy's context managers close a session and a connection each in a task of its own
    behind a shield (a cancellation must not cut a close short); on PostgreSQL, with nothing open
    on the server, the closes reach no await and ``held_session`` calls them directly (issue 15)."""
    factory = create_session_factory(app_engine)
    await _citizen(factory)
    loop = asyncio.get_running_loop()
    created: list[str] = []
    create_task = loop.create_task

    def counted(coro, **kwargs):
        created.append(coro.__qualname__)
        return create_task(coro, **kwargs)

    async with held_session(factory) as session:
        assert await session.scalar(select(Citizen.first_name)) == "Siti"  # through the session
        monkeypatch.setattr(loop, "create_task", counted)
    monkeypatch.undo()
    assert app_engine.sync_engine.pool.checkedout() == 0
    if app_engine.dialect.name == "postgresql":
        assert created == []
    async with held_session(factory) as session:  # something open on the server: rolled back
        await session.execute(update(Citizen).values(language="en"))
    async with factory() as s:
        assert await s.scalar(select(Citizen.language)) == "id"
    assert app_engine.sync_engine.pool.checkedout() == 0


async def _record(factory, update_id: int) -> None:
    async with factory() as s:
        s.add(ReceivedUpdate(update_id=update_id, payload={}, received_at=utcnow()))
        await s.commit()


async def _done_at(factory, update_id: int):
    async with factory() as s:
        return await s.scalar(select(ReceivedUpdate.done_at).where(ReceivedUpdate.update_id == update_id))


async def test_a_mark_inside_alone_is_committed_by_itself(app_engine):
    factory = create_session_factory(app_engine)
    await _record(factory, 1)
    async with held_session(factory) as session:
        await CitizenRepo(session).with_generation(42)  # an update's reads
        async with alone(session):
            await ReceivedUpdateRepo(session).finish(1, utcnow())
            if app_engine.dialect.name == "postgresql":
                assert await _done_at(factory, 1) is not None  # committed already, alone
        assert not session.in_transaction()
    assert await _done_at(factory, 1) is not None


async def test_a_mark_beside_uncommitted_work_goes_with_that_work(app_engine):
    factory = create_session_factory(app_engine)
    await _citizen(factory)
    await _record(factory, 1)
    async with held_session(factory) as session:
        citizen, _ = await CitizenRepo(session).with_generation(42)
        assert citizen is not None
        citizen.language = "en"  # the update's work, not even flushed yet
        await ReceivedUpdateRepo(session).finish(1, utcnow())
        await session.rollback()  # the work failed: its "done" goes with it
    assert await _done_at(factory, 1) is None
    async with held_session(factory) as session:
        await session.execute(update(Citizen).values(language="en"))  # sent, not committed
        await ReceivedUpdateRepo(session).finish(1, utcnow())
        await session.rollback()
    assert await _done_at(factory, 1) is None


@pytest.mark.postgres
async def test_a_failure_on_asyncpg_reaches_sqlalchemy_and_the_pool_heals(pg_empty_database_url):
    engine = create_engine(pg_empty_database_url, idle_ping=60.0)
    factory = create_session_factory(engine)
    try:
        await _citizen(factory)
        async with held_session(factory) as session:
            killer = create_async_engine(pg_empty_database_url, poolclass=NullPool)
            async with killer.connect() as conn:  # what a restart of the server does
                await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            await killer.dispose()
            with pytest.raises(DBAPIError) as failure:
                await CitizenRepo(session).with_generation(42)
            assert failure.value.connection_invalidated  # SQLAlchemy saw it: the pool is renewed
        async with held_session(factory) as session:
            citizen, _ = await CitizenRepo(session).with_generation(42)
            assert citizen is not None
    finally:
        await engine.dispose()


async def test_a_read_failing_inside_the_updates_transaction_reports_its_own_cause(app_engine):
    if app_engine.dialect.name != "postgresql":
        pytest.skip("SQLite casts 'abc' to 0; the read goes through the session there anyway")
    factory = create_session_factory(app_engine)
    await _citizen(factory)
    async with held_session(factory) as session:
        await session.execute(update(Citizen).values(language="en"))  # the update's transaction is open
        with pytest.raises(Exception) as failure:
            await held.fetch_one(session, _NUMBER, {"x": "abc"})
        # Sent again through the session it would only say "current transaction is aborted",
        # and the log would lose what went wrong.
        assert "invalid input syntax" in str(failure.value)
        await session.rollback()


_NUMBER = select(cast(bindparam("x", type_=String), Integer))
