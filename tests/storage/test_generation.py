"""``storage.generation``: every committed write to a watched table moves the counter in its own
transaction, including an ORM change that is only flushed by the commit itself (a revoked officer
must not stay cached in another process)."""

from __future__ import annotations

from sqlalchemy import select

from storage import generation
from storage.db import create_session_factory
from storage.models import Agency


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
