"""PostgreSQL connections are pinged only after sitting idle (storage/db.py ``ping_when_idle``):
asyncpg's ping is three round trips, and SQLAlchemy's pre-ping paid them at every checkout
(issue 15). A restart of the server must still be survived: an idle connection it closed is
replaced at checkout, and a connection that was busy just now heals the pool at its first use."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import create_engine

pytestmark = pytest.mark.postgres


async def _kill_backends(url: str) -> None:
    """What a restart of PostgreSQL does to every connection a pool holds."""
    killer = create_async_engine(url, poolclass=NullPool)
    try:
        async with killer.connect() as conn:
            await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            await conn.commit()
    finally:
        await killer.dispose()


async def _select_one(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 1"))).scalar_one()


def _count_pings(engine) -> list[int]:
    pings: list[int] = []
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


async def test_a_connection_used_just_now_is_not_pinged(pg_database_url):
    engine = create_engine(pg_database_url, idle_ping=60.0)
    pings = _count_pings(engine)
    try:
        for _ in range(5):
            assert await _select_one(engine) == 1
        assert pings == []
    finally:
        await engine.dispose()


async def test_an_idle_connection_closed_by_a_restart_is_replaced_at_checkout(pg_database_url):
    engine = create_engine(pg_database_url, idle_ping=0.05)
    pings = _count_pings(engine)
    try:
        assert await _select_one(engine) == 1
        await _kill_backends(pg_database_url)
        await asyncio.sleep(0.1)
        assert await _select_one(engine) == 1  # without the ping: "connection is closed"
        assert pings
    finally:
        await engine.dispose()


async def test_a_busy_connection_closed_by_a_restart_fails_once_and_the_pool_heals(pg_database_url):
    engine = create_engine(pg_database_url, idle_ping=60.0)
    try:
        assert await _select_one(engine) == 1
        await _kill_backends(pg_database_url)
        async with AsyncSession(engine) as session:  # as an update's session meets it
            with pytest.raises(DBAPIError) as failure:
                await session.execute(text("SELECT 1"))
            assert failure.value.connection_invalidated
        assert await _select_one(engine) == 1
    finally:
        await engine.dispose()
