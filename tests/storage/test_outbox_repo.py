from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import Citizen, Outbox, OutboxStatus
from storage.repositories.outbox import OutboxRepo

T0 = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _add(session, chat_id, *, now=T0, **kw) -> Outbox:
    return await OutboxRepo(session).add(
        chat_id=chat_id, method="sendMessage", payload={"text": f"to {chat_id}"}, now=now, **kw
    )


async def test_claim_returns_due_rows_in_id_order_and_leases_them(session):
    rows = [await _add(session, chat) for chat in (30, 10, 20)]
    await session.commit()
    repo = OutboxRepo(session)

    first = await repo.claim_due(T0, 2, LEASE)
    assert [r.id for r in first] == [rows[0].id, rows[1].id]
    assert all(r.status == "sending" and r.claimed_until == T0 + LEASE for r in first)
    await session.commit()

    second = await repo.claim_due(T0, 2, LEASE)
    assert [r.id for r in second] == [rows[2].id]
    assert await repo.claim_due(T0, 2, LEASE) == []


async def test_one_row_per_chat_in_id_order(session):
    a1 = await _add(session, 1)
    a2 = await _add(session, 1)
    b1 = await _add(session, 2)
    await session.commit()
    repo = OutboxRepo(session)

    claimed = await repo.claim_due(T0, 10, LEASE)
    assert [r.id for r in claimed] == [a1.id, b1.id]
    # The second row of chat 1 waits until the first is settled.
    assert await repo.claim_due(T0 + LEASE * 2, 10, LEASE) == [a1, b1]
    await repo.mark_sent(a1.id, T0, 555)
    await repo.mark_sent(b1.id, T0, 556)
    assert [r.id for r in await repo.claim_due(T0, 10, LEASE)] == [a2.id]


async def test_expired_lease_is_claimed_again(session):
    row = await _add(session, 7)
    await session.commit()
    repo = OutboxRepo(session)

    assert [r.id for r in await repo.claim_due(T0, 10, LEASE)] == [row.id]
    assert await repo.claim_due(T0 + timedelta(seconds=59), 10, LEASE) == []
    again = await repo.claim_due(T0 + timedelta(seconds=61), 10, LEASE)
    assert [r.id for r in again] == [row.id]
    assert again[0].claimed_until == T0 + timedelta(seconds=61) + LEASE


async def test_not_before_holds_a_row_back_without_blocking_later_ones(session):
    later = T0 + timedelta(hours=6)
    digest = await _add(session, 5, not_before=later)
    urgent = await _add(session, 5)
    await session.commit()
    repo = OutboxRepo(session)

    assert [r.id for r in await repo.claim_due(T0, 10, LEASE)] == [urgent.id]
    await repo.mark_sent(urgent.id, T0, 1)
    assert await repo.claim_due(later - timedelta(seconds=1), 10, LEASE) == []
    assert [r.id for r in await repo.claim_due(later, 10, LEASE)] == [digest.id]


async def test_row_in_backoff_is_not_due_and_holds_back_its_chat(session):
    first = await _add(session, 9)
    second = await _add(session, 9)
    await session.commit()
    repo = OutboxRepo(session)

    await repo.claim_due(T0, 10, LEASE)
    retry_at = T0 + timedelta(seconds=30)
    await repo.mark_retry(first.id, retry_at, "TelegramServerError: 502")
    await session.commit()

    assert await repo.claim_due(T0 + timedelta(seconds=10), 10, LEASE) == []
    claimed = await repo.claim_due(retry_at, 10, LEASE)
    assert [r.id for r in claimed] == [first.id]
    assert claimed[0].attempts == 1 and claimed[0].last_error == "TelegramServerError: 502"
    await repo.mark_sent(first.id, retry_at, 2)
    assert [r.id for r in await repo.claim_due(retry_at, 10, LEASE)] == [second.id]


async def test_flood_retry_does_not_count_an_attempt(session):
    row = await _add(session, 9)
    repo = OutboxRepo(session)
    await repo.claim_due(T0, 10, LEASE)
    await repo.mark_retry(row.id, T0, "flood", count_attempt=False)
    fresh = await repo.get(row.id)
    assert (fresh.status, fresh.attempts, fresh.claimed_until) == ("pending", 0, None)


async def test_release_hands_rows_back(session):
    row = await _add(session, 3)
    repo = OutboxRepo(session)
    await repo.claim_due(T0, 10, LEASE)
    await repo.release([row.id])
    claimed = await repo.claim_due(T0, 10, LEASE)
    assert [r.id for r in claimed] == [row.id]
    assert claimed[0].attempts == 0


async def test_mark_unreachable_flags_citizen_and_cancels_that_chat(session):
    citizen = Citizen(telegram_id=4242, first_name="Sari")
    bystander = Citizen(telegram_id=5151)
    session.add_all([citizen, bystander])
    await session.flush()
    row = await _add(session, 4242, citizen_id=citizen.id)
    queued = await _add(session, 4242, group_key="report:1")
    other_chat = await _add(session, 5151)
    repo = OutboxRepo(session)
    await repo.claim_due(T0, 10, LEASE)

    cancelled = await repo.mark_unreachable(
        row.id, T0, "Forbidden: bot was blocked by the user", chat_id=4242, citizen_id=citizen.id
    )
    await session.commit()

    assert cancelled == 1
    assert (await repo.get(row.id)).status == "unreachable"
    assert (await repo.get(queued.id)).status == "cancelled"
    # Chat 5151 was claimed (sending) and is someone else: untouched.
    assert (await repo.get(other_chat.id)).status == "sending"
    await session.refresh(citizen)
    await session.refresh(bystander)
    assert citizen.unreachable_at == T0
    assert bystander.unreachable_at is None


async def test_mark_unreachable_finds_the_citizen_by_chat_id(session):
    citizen = Citizen(telegram_id=777)
    session.add(citizen)
    await session.flush()
    row = await _add(session, 777)  # an officer notification: no citizen_id on the row
    repo = OutboxRepo(session)
    await repo.mark_unreachable(row.id, T0, "Forbidden", chat_id=777)
    await session.refresh(citizen)
    assert citizen.unreachable_at == T0


async def test_counts_by_group_and_failed_listing(session):
    repo = OutboxRepo(session)
    rows = [await _add(session, chat, group_key="broadcast:7") for chat in (1, 2, 3, 4)]
    await _add(session, 5, group_key="broadcast:8")
    await repo.mark_sent(rows[0].id, T0, 10)
    await repo.mark_failed(rows[1].id, "Bad Request: chat not found")
    await repo.mark_failed(rows[2].id, "Bad Request: message is too long")

    assert await repo.counts_by_status("broadcast:7") == {"sent": 1, "failed": 2, "pending": 1}
    failed = await repo.list_failed(10)
    assert [(r.id, r.last_error) for r in failed] == [
        (rows[2].id, "Bad Request: message is too long"),
        (rows[1].id, "Bad Request: chat not found"),
    ]
    assert await repo.cancel_group("broadcast:7") == 1
    assert await repo.counts_by_status("broadcast:7") == {"sent": 1, "failed": 2, "cancelled": 1}


async def test_concurrent_claimers_never_share_a_row(engine, session_factory):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) exist on PostgreSQL only")
    async with session_factory() as s:
        for chat in range(1, 101):
            await _add(s, chat)
        await s.commit()

    # A holds its claim uncommitted while B claims: B must skip A's locked rows.
    async with session_factory() as a, session_factory() as b:
        got_a = [r.id for r in await OutboxRepo(a).claim_due(T0, 30, LEASE)]
        got_b = [r.id for r in await OutboxRepo(b).claim_due(T0, 30, LEASE)]
        assert len(got_a) == len(got_b) == 30
        assert not set(got_a) & set(got_b)
        await a.commit()
        await b.commit()

    # And truly in parallel, over the remaining 40 rows.
    async def claim() -> list[int]:
        async with session_factory() as s:
            ids = [r.id for r in await OutboxRepo(s).claim_due(T0, 15, LEASE)]
            await asyncio.sleep(0.05)  # hold the locks while the others run
            await s.commit()
            return ids

    results = await asyncio.gather(*(claim() for _ in range(4)))
    claimed = [i for ids in results for i in ids]
    assert len(claimed) == len(set(claimed)) == 40

    async with session_factory() as s:
        statuses = set((await s.scalars(select(Outbox.status))).all())
    assert statuses == {OutboxStatus.SENDING.value}


async def test_a_claim_runs_one_statement_built_once(session):
    """Issue 15: the delivery loop claims after each wake-up and every idle second; building the
    claim's statement (an alias, a correlated EXISTS) took half of an empty claim's CPU. It is
    built once, ``now`` and ``limit`` bound at each claim."""
    from sqlalchemy import event

    repo = OutboxRepo(session)
    seen: list[object] = []

    def executed(state) -> None:
        seen.append(state.statement)

    event.listen(session.sync_session, "do_orm_execute", executed)
    try:
        await repo.claim_due(T0, 10, LEASE)
        await repo.claim_due(T0 + LEASE, 5, LEASE)
    finally:
        event.remove(session.sync_session, "do_orm_execute", executed)
    selects = [s for s in seen if getattr(s, "is_select", False)]
    assert len(selects) == 2 and selects[0] is selects[1]
