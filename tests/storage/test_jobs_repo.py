"""Job leases, recorded effects and the digest queue on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from bot.jobs.base import run_leased, write_each_once
from bot.services.outbox import enqueue_message
from storage.models import Outbox
from storage.repositories.jobs import JobRepo
from tests.schedule_fixtures import D_MON, add_citizen, wita

LEASE = timedelta(minutes=30)


async def test_a_run_is_claimed_once(session_factory):
    now = wita(D_MON, 8)
    async with session_factory() as s:
        assert await JobRepo(s).try_insert_run("officer_reminder", "2024-05-20", "a", now) is True
        await s.commit()
    async with session_factory() as s:
        repo = JobRepo(s)
        assert await repo.try_insert_run("officer_reminder", "2024-05-20", "b", now) is False
        # A different day is a different run.
        assert await repo.try_insert_run("officer_reminder", "2024-05-21", "b", now) is True
        await s.commit()
        assert [(r.run_key, r.owner) for r in await repo.runs("officer_reminder")] == [
            ("2024-05-20", "a"),
            ("2024-05-21", "b"),
        ]


async def test_an_unfinished_run_is_taken_over_only_after_its_lease(session_factory):
    start = wita(D_MON, 8)
    async with session_factory() as s:
        repo = JobRepo(s)
        await repo.try_insert_run("escalation", "2024-05-20", "dead", start)
        await s.commit()
        assert await repo.take_over_stale_run("escalation", "2024-05-20", "b", start + LEASE / 2, LEASE) is False
        assert await repo.take_over_stale_run("escalation", "2024-05-20", "b", start + LEASE, LEASE) is True
        # Only one of two late-comers wins the same stale row.
        assert await repo.take_over_stale_run("escalation", "2024-05-20", "c", start + LEASE, LEASE) is False
        await s.commit()
        run = await repo.get_run("escalation", "2024-05-20")
        assert (run.owner, run.attempts) == ("b", 2)
        # The dead owner can no longer mark it finished; the new one can.
        assert await repo.finish_run("escalation", "2024-05-20", "dead", start + LEASE, None) is False
        assert await repo.finish_run("escalation", "2024-05-20", "b", start + LEASE, "3 effects") is True
        await s.commit()
        assert await repo.take_over_stale_run("escalation", "2024-05-20", "d", start + 10 * LEASE, LEASE) is False


async def test_run_leased_runs_the_body_once_and_recovers_from_a_crash(session_factory):
    calls: list[str] = []
    now = wita(D_MON, 7)

    async def body() -> int:
        calls.append("ran")
        return 1

    async def crashing() -> int:
        raise RuntimeError("process died")

    try:
        await run_leased(session_factory, "auto_close", "2024-05-20", now, LEASE, crashing)
    except RuntimeError:
        pass
    # Within the lease another process keeps off; afterwards it finishes the run.
    assert await run_leased(session_factory, "auto_close", "2024-05-20", now + LEASE / 3, LEASE, body) is None
    assert await run_leased(session_factory, "auto_close", "2024-05-20", now + LEASE, LEASE, body) == 1
    assert await run_leased(session_factory, "auto_close", "2024-05-20", now + 3 * LEASE, LEASE, body) is None
    assert calls == ["ran"]
    async with session_factory() as s:
        run = await JobRepo(s).get_run("auto_close", "2024-05-20")
        assert run.finished_at == now + LEASE and run.attempts == 2


async def test_an_effect_is_recorded_once_and_rolls_back_with_its_transaction(session_factory):
    now = wita(D_MON, 8)
    async with session_factory() as s:
        repo = JobRepo(s)
        assert await repo.record_effect("checkin", "report:1", now) is True
        assert await repo.record_effect("checkin", "report:1", now) is False
        assert await repo.record_effect("checkin_answer", "report:1", now) is True
        await s.commit()
    async with session_factory() as s:
        assert await JobRepo(s).record_effect("checkin", "report:2", now) is True
        await s.rollback()
    async with session_factory() as s:
        repo = JobRepo(s)
        assert await repo.has_effect("checkin", "report:1") is True
        assert await repo.has_effect("checkin", "report:2") is False
        assert await repo.effect_keys("checkin") == ["report:1"]


async def test_digest_items_are_stamped_once(session_factory):
    now = wita(D_MON, 10)
    async with session_factory() as s:
        repo = JobRepo(s)
        c = await add_citizen(s, 501)
        first = await repo.add_digest_item(citizen_id=c.id, chat_id=501, report_id=None, text="a", now=now)
        later = await repo.add_digest_item(
            citizen_id=c.id, chat_id=501, report_id=None, text="b", now=now + timedelta(hours=7)
        )
        await s.commit()
        pending = await repo.pending_digest_items(now + timedelta(hours=6))
        assert [i.id for i in pending] == [first.id]
        assert await repo.mark_digested([first.id], now) == 1
        assert await repo.mark_digested([first.id, later.id], now) == 1
        await s.commit()
        assert await repo.pending_digest_items(now + timedelta(days=1)) == []


async def test_effects_written_together_are_each_written_once(session_factory):
    """write_each_once: a batch commits its effects together; a rerun (a run taken over after a
    crash) skips what was recorded and writes only the rest."""
    now = wita(D_MON, 9)
    written: list[str] = []

    def effect(key: str):
        async def write(session) -> None:
            written.append(key)
        return (key, write)

    assert await write_each_once(session_factory, "job", [effect("a"), effect("b"), effect("c")], now,
                                 per_transaction=2) == 3
    assert await write_each_once(session_factory, "job", [effect("a"), effect("d"), effect("d")], now) == 1
    assert written == ["a", "b", "c", "d"]
    async with session_factory() as s:
        assert all([await JobRepo(s).has_effect("job", k) for k in "abcd"])


async def test_effects_recorded_in_one_statement_are_those_not_recorded_before(session_factory):
    now = wita(D_MON, 9)
    async with session_factory() as s:
        repo = JobRepo(s)
        assert await repo.record_effect("reminder", "x", now) is True
        assert await repo.record_effects("reminder", ["x", "y", "z", "y"], now) == {"y", "z"}
        assert await repo.record_effects("reminder", [], now) == set()
        assert await repo.record_effects("other", ["x"], now) == {"x"}
        await s.commit()
        assert await repo.effect_keys("reminder") == ["x", "y", "z"]


async def test_a_batch_inserts_its_messages_together_in_order(engine, session_factory):
    """The messages of one batch of effects reach the outbox in one INSERT at its commit (one
    round trip per officer was most of the reminder job, issue 15), in the order written."""
    inserts: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append(statement)

    def message(chat_id: int):
        async def write(session) -> None:
            await enqueue_message(session, chat_id, f"part 1 to {chat_id}")
            await enqueue_message(session, chat_id, f"part 2 to {chat_id}")
        return (f"to:{chat_id}", write)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await write_each_once(session_factory, "job", [message(c) for c in (31, 32, 33)],
                                     wita(D_MON, 9)) == 3
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    # SQLAlchemy sends SQLite (in-process, no round trip) one row per statement all the same.
    if engine.dialect.name == "postgresql":
        assert len(inserts) == 1
    async with session_factory() as s:
        rows = (await s.scalars(select(Outbox).order_by(Outbox.id))).all()
    assert [r.payload["text"] for r in rows] == [f"part {p} to {c}" for c in (31, 32, 33) for p in (1, 2)]
