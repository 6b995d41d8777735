"""The dispatcher handles an update once however often it arrives, and an update a killed
process left unfinished is handled at the next start (bot/journal.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.methods import SendMessage
from aiogram.types import Chat, Message, Update

from bot.services.update_journal import UpdateJournal
from tests.handlers.harness import Harness


def _start(update_id: int, user) -> Update:
    msg = Message(message_id=update_id, date=datetime.now(UTC), chat=Chat(id=user.id, type="private"),
                  from_user=user, text="/start")
    return Update(update_id=update_id, message=msg)


async def test_the_same_update_twice_is_handled_once(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        update = _start(500, alice)
        await h.feed(update)
        await h.feed(update)  # Telegram delivering again what it was not told arrived
        assert len([r for r in h.requests if isinstance(r, SendMessage)]) == 1


async def test_an_update_a_dead_process_held_is_handled_at_start(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        update = _start(600, alice)
        # A previous process stored and claimed it, then was killed before it answered.
        dead = UpdateJournal(h.app.session_factory)
        await dead.record(600, update.model_dump(mode="json", exclude_none=True, by_alias=True))
        assert await dead.claim(600)
        # Polling: the one process starting takes every unfinished update over.
        assert await h.app.journal.replay(h.app.bot, take_over=True) == 1
        assert "Pilih bahasa" in h.last_text(alice)
        assert await h.app.journal.replay(h.app.bot, take_over=True) == 0
        await h.feed(update)  # and Telegram's own redelivery of it changes nothing
        assert len([r for r in h.requests if isinstance(r, SendMessage)]) == 1


async def test_a_database_away_for_a_moment_delays_the_update_and_loses_nothing(tmp_path, monkeypatch):
    from bot import journal as wiring

    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    monkeypatch.setattr(wiring.asyncio, "sleep", nap)
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        real_claim = h.app.dp.journal.claim
        outage = [ConnectionRefusedError(111, "Connect call failed")] * 3

        async def flaky_claim(update_id: int, **kw):
            if outage:
                raise outage.pop()
            return await real_claim(update_id, **kw)

        monkeypatch.setattr(h.app.dp.journal, "claim", flaky_claim)
        await h.feed(_start(700, alice))
        assert naps == [0.5, 1.0, 2.0]
        assert "Pilih bahasa" in h.last_text(alice)


async def test_a_polled_batch_is_stored_and_claimed_in_one_commit_and_handled_once(tmp_path):
    """Issue 15: polling stores each getUpdates answer with one statement, already claimed, so
    the handling neither records nor claims again; one handled before is left alone."""
    from sqlalchemy import event, select

    from storage.models import ReceivedUpdate

    async with Harness.create(tmp_path) as h:
        dp = h.app.dp
        alice, budi, sari = h.user(1001, "Alice"), h.user(1002, "Budi"), h.user(1003, "Sari")
        await h.feed(_start(500, alice))  # handled before (a redelivery)
        batch = [_start(500, alice), _start(501, budi), _start(502, sari)]

        commits: list[object] = []

        def committed(conn) -> None:
            commits.append(conn)

        event.listen(h.app.engine.sync_engine, "commit", committed)
        try:
            await dp.record_batch(batch)
        finally:
            event.remove(h.app.engine.sync_engine, "commit", committed)
        assert len(commits) == 1
        assert dp.journal_middleware.held == {501, 502}

        for update in batch[1:]:
            await h.feed(update)
        assert not dp.journal_middleware.held
        sent = [r.chat_id for r in h.requests if isinstance(r, SendMessage)]
        assert sorted(sent) == [1001, 1002, 1003]
        async with h.app.session_factory() as s:
            rows = (await s.scalars(select(ReceivedUpdate).order_by(ReceivedUpdate.update_id))).all()
        assert [(r.update_id, r.attempts, r.done_at is not None) for r in rows] == [
            (500, 1, True), (501, 1, True), (502, 1, True)]
