"""``storage.unit_of_work.only_read``: may the update's session be committed now without
committing any of its work? (bot/callback_answers.py commits its journal mark that way.)"""

from __future__ import annotations

from sqlalchemy import select, update

from storage import unit_of_work
from storage.base import utcnow
from storage.models import Agency, ReceivedUpdate


async def test_only_a_transaction_that_has_not_written_counts_as_only_read(engine, session_factory):
    unit_of_work.install(engine)
    async with session_factory() as s:
        s.add(ReceivedUpdate(update_id=1, payload={}, received_at=utcnow()))
        await s.commit()
    async with session_factory() as s:
        assert await unit_of_work.only_read(s)  # nothing begun
        await s.scalar(select(ReceivedUpdate.update_id))
        assert s.in_transaction() and await unit_of_work.only_read(s)
        await s.execute(update(ReceivedUpdate).values(attempts=2))
        assert not await unit_of_work.only_read(s)  # written, not committed
        await s.commit()
        assert await unit_of_work.only_read(s)
        await s.scalar(select(ReceivedUpdate.update_id))
        assert await unit_of_work.only_read(s)  # the write was in the transaction before
        s.add(Agency(name="Dinas Alpha", kind="opd"))
        assert not await unit_of_work.only_read(s)  # waiting to be flushed
        await s.rollback()
        assert await unit_of_work.only_read(s)


async def test_an_engine_not_watched_never_counts_as_only_read(engine, session_factory):
    async with session_factory() as s:
        await s.scalar(select(ReceivedUpdate.update_id))
        assert not await unit_of_work.only_read(s)
