"""The journal's upkeep stops at shutdown even when a SIGTERM comes in the middle of its round.

Cancelled mid-statement, the round's session failed to roll back on the way out and that error
(PendingRollbackError) replaced the cancellation: the loop went on and the process did not stop
(bench/concurrency.py, "bot did not stop within 30s"). The keeper is now told to stop and lets
the round finish."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.journal import JournalKeeper, JournalMiddleware


class RoundInProgress:
    """A journal whose renewal is under way when the shutdown comes, and which turns a
    cancellation into another error, as the session's way out did."""

    lease = timedelta(seconds=0.03)

    def __init__(self) -> None:
        self.renewing = asyncio.Event()
        self.rounds = 0

    async def renew(self, update_ids) -> None:
        self.rounds += 1
        self.renewing.set()
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            if self.rounds > 1:
                raise  # once is enough (and lets a failing test end)
            raise RuntimeError("Can't reconnect until invalid transaction is rolled back") from None

    async def orphans(self, *, take_over: bool) -> list:
        return []


async def test_a_shutdown_during_an_upkeep_round_stops_the_keeper():
    journal = RoundInProgress()
    keeper = JournalKeeper(dp=None, journal=journal, middleware=JournalMiddleware(journal))  # type: ignore[arg-type]
    keeper.start(bot=None)  # type: ignore[arg-type]
    await asyncio.wait_for(journal.renewing.wait(), 5)
    stopping = asyncio.create_task(keeper.stop(drain_timeout=0))
    done, _ = await asyncio.wait({stopping}, timeout=5)  # not wait_for: its cancel was swallowed too
    assert stopping in done, "the keeper did not stop"
    rounds = journal.rounds
    await asyncio.sleep(0.1)
    assert journal.rounds == rounds  # no round after the stop
