"""``storage.generation``: every committed write to a watched table moves the counter in its own
transaction, including an ORM change that is only flushed by the commit itself (a revoked officer
must not stay cached in another process)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import generation
from storage.db import create_engine, create_session_factory
from storage.models import Agency


@pytest.fixture
async def app_engine(engine) -> AsyncIterator[AsyncEngine]:
    """The ``engine`` fixture's database (SQLite and PostgreSQL) with the bot's own engine and listeners."""
    built = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        yield built
    finally:
        await built.dispose()


async def _counter(factory) -> int:
    async with factory() as s:
        return await generation.read(s)


async def test_a_change_flushed_only_by_the_commit_moves_the_counter(app_engine):
    factory = create_session_factory(app_engine)
    async with factory() as s:
        s.add(Agency(name="Dinas Alpha", kind="opd"))  # pending until the commit flushes it
        await s.commit()
    assert await _counter(factory) == 1

    async with factory() as s:
        agency = await s.scalar(select(Agency))
        agency.name = "Dinas Beta"  # an attribute set, no flush before the commit
        await s.commit()
    assert await _counter(factory) == 2


async def test_a_commit_of_unwatched_writes_leaves_the_counter(app_engine):
    factory = create_session_factory(app_engine)
    async with factory() as s:
        s.add(Agency(name="Dinas Alpha", kind="opd"))
        await s.commit()
    async with factory() as s:
        assert (await s.scalar(select(Agency))).name == "Dinas Alpha"  # read, nothing written
        await s.commit()
    assert await _counter(factory) == 1
