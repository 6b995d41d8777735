"""Outbox rows: adding, claiming due rows under a lease, recording what Telegram answered.

Adds, flushes and queries; never commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, String, and_, bindparam, cast, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models.citizen import Citizen
from storage.models.outbox import Outbox, OutboxStatus

_OPEN = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
_DEFER_FLUSH = "outbox_defer_flush"


def defer_outbox_flush(session: AsyncSession) -> None:
    """Rows added to the outbox in this session are inserted at the next flush (a query or the
    commit), many rows in one statement, rather than one round trip each: a job writing a
    message to each of a hundred officers (issue 15). Their ids come with that flush."""
    session.info[_DEFER_FLUSH] = True


def _claim_due() -> Select[tuple[Outbox]]:
    # Built once, ``now`` and ``limit`` bound at each claim: the delivery loop claims after every
    # wake-up and once a second when idle, and building this statement anew (an alias, a
    # correlated EXISTS) took about half of an empty claim's 3 ms of CPU (issue 15).
    now = bindparam("now", type_=Outbox.next_attempt_at.type)
    earlier = aliased(Outbox)
    open_earlier = exists().where(
        earlier.chat_id == Outbox.chat_id,
        earlier.id < Outbox.id,
        earlier.status.in_(_OPEN),
        or_(earlier.not_before.is_(None), earlier.not_before <= now),
    )
    due = or_(
        Outbox.status == OutboxStatus.PENDING.value,
        and_(Outbox.status == OutboxStatus.SENDING.value, Outbox.claimed_until <= now),
    )
    return (
        select(Outbox)
        .where(
            due,
            Outbox.next_attempt_at <= now,
            or_(Outbox.not_before.is_(None), Outbox.not_before <= now),
            ~open_earlier,
        )
        .order_by(Outbox.id)
        .limit(bindparam("limit", type_=Integer))
        # PostgreSQL: concurrent claimers skip each other's rows instead of waiting.
        # SQLite ignores this; a single delivery process is assumed there.
        .with_for_update(skip_locked=True, of=Outbox)
        .execution_options(populate_existing=True)
    )


_CLAIM_DUE = _claim_due()


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        citizen_id: int | None = None,
        group_key: str | None = None,
        not_before: datetime | None = None,
        now: datetime | None = None,
        report_topic_id: int | None = None,
    ) -> Outbox:
        row = Outbox(
            chat_id=chat_id,
            report_topic_id=report_topic_id,
            method=method,
            payload=payload,
            citizen_id=citizen_id,
            group_key=group_key,
            not_before=not_before,
            status=OutboxStatus.PENDING.value,
            attempts=0,
        )
        if now is not None:
            row.created_at = now
            row.next_attempt_at = now
        self.session.add(row)
        if not self.session.info.get(_DEFER_FLUSH):
            await self.session.flush()
        return row

    async def get(self, row_id: int) -> Outbox | None:
        return await self.session.get(Outbox, row_id, populate_existing=True)

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Outbox]:
        """Lease up to ``limit`` due rows, oldest first, and mark them ``sending``.

        At most one row per chat is handed out, and only when no earlier row of that chat is
        still open (pending in backoff, or being sent elsewhere): messages of one chat then
        arrive in id order even across workers. Earlier rows held back by ``not_before`` do
        not block later ones, or a digest scheduled for tomorrow would hold up today's news.
        """
        rows = list((await self.session.scalars(_CLAIM_DUE, {"now": now, "limit": limit})).all())
        until = now + lease
        for row in rows:
            row.status = OutboxStatus.SENDING.value
            row.claimed_until = until
        await self.session.flush()
        return rows

    async def release(self, row_ids: Iterable[int]) -> None:
        """Hand claimed-but-unsent rows back without counting an attempt."""
        ids = list(row_ids)
        if not ids:
            return
        await self.session.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids), Outbox.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.PENDING.value, claimed_until=None)
        )

    async def mark_sent(self, row_id: int, now: datetime, message_id: int | None) -> None:
        await self.session.execute(
            update(Outbox)
            .where(Outbox.id == row_id)
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=now,
                telegram_message_id=message_id,
                claimed_until=None,
                attempts=Outbox.attempts + 1,
                last_error=None,
            )
        )

    async def mark_retry(
        self,
        row_id: int,
        next_at: datetime,
        error: str,
        *,
        count_attempt: bool = True,
        chat_id: int | None = None,
    ) -> None:
        """Back to pending until ``next_at``. A flood wait does not count as an attempt; a
        migrated group moves the row to its new ``chat_id``."""
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING.value,
            "next_attempt_at": next_at,
            "claimed_until": None,
            "last_error": error,
        }
        if count_attempt:
            values["attempts"] = Outbox.attempts + 1
        if chat_id is not None:
            values["chat_id"] = chat_id
        await self.session.execute(update(Outbox).where(Outbox.id == row_id).values(**values))

    async def mark_failed(self, row_id: int, error: str, *, count_attempt: bool = True) -> None:
        values: dict[str, Any] = {
            "status": OutboxStatus.FAILED.value,
            "claimed_until": None,
            "last_error": error,
        }
        if count_attempt:
            values["attempts"] = Outbox.attempts + 1
        await self.session.execute(update(Outbox).where(Outbox.id == row_id).values(**values))

    async def mark_unreachable(
        self,
        row_id: int,
        now: datetime,
        error: str,
        *,
        chat_id: int,
        citizen_id: int | None = None,
    ) -> int:
        """The chat answered 403: mark this row, cancel the chat's other pending rows and flag
        the citizen. Returns how many other rows were cancelled."""
        await self.session.execute(
            update(Outbox)
            .where(Outbox.id == row_id)
            .values(
                status=OutboxStatus.UNREACHABLE.value,
                claimed_until=None,
                attempts=Outbox.attempts + 1,
                last_error=error,
            )
        )
        cancelled = await self.cancel_chat(chat_id, reason="recipient unreachable")
        # A private chat's id is the user's id, so the citizen is found even when the row did
        # not name one (officer notifications, for instance).
        who = [Citizen.id == citizen_id] if citizen_id is not None else []
        if chat_id > 0:
            who.append(Citizen.telegram_id == chat_id)
        if who:
            await self.session.execute(
                update(Citizen)
                .where(or_(*who), Citizen.unreachable_at.is_(None))
                .values(unreachable_at=now)
            )
        return cancelled

    async def cancel_chat(self, chat_id: int, *, reason: str | None = None) -> int:
        result = await self.session.execute(
            update(Outbox)
            .where(Outbox.chat_id == chat_id, Outbox.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
        )
        return result.rowcount or 0

    async def cancel_staff_rows_about(
        self, chat_id: int, report_ids: Select[Any], key_prefixes: Sequence[str], *, reason: str | None = None
    ) -> int:
        """Stop what is not yet sent to ``chat_id`` as staff (not as a citizen: ``citizen_id``
        is empty) about the reports ``report_ids`` selects (group key ``report:<id>``), or
        grouped under one of ``key_prefixes``."""
        keys = select(literal("report:").op("||")(cast(report_ids.subquery().c[0], String)))
        about = [Outbox.group_key.in_(keys), *(Outbox.group_key.startswith(p) for p in key_prefixes)]
        result = await self.session.execute(
            update(Outbox)
            .where(Outbox.chat_id == chat_id, Outbox.citizen_id.is_(None),
                   Outbox.status == OutboxStatus.PENDING.value, or_(*about))
            .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    async def cancel_group(self, group_key: str, *, reason: str | None = None) -> int:
        """Stop what is not yet sent of a group (e.g. a broadcast the admin cancelled)."""
        result = await self.session.execute(
            update(Outbox)
            .where(Outbox.group_key == group_key, Outbox.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
        )
        return result.rowcount or 0

    async def counts_by_status(self, group_key: str) -> dict[str, int]:
        """Progress of one group: ``{status: count}``, statuses without rows left out."""
        rows = await self.session.execute(
            select(Outbox.status, func.count())
            .where(Outbox.group_key == group_key)
            .group_by(Outbox.status)
        )
        return {status: count for status, count in rows.all()}

    async def list_failed(self, limit: int = 50) -> Sequence[Outbox]:
        """Newest failed deliveries first, for the admin to look at."""
        return (
            await self.session.scalars(
                select(Outbox)
                .where(Outbox.status == OutboxStatus.FAILED.value)
                .order_by(Outbox.id.desc())
                .limit(limit)
            )
        ).all()
