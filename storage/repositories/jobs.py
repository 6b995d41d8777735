"""Job leases, recorded effects and the digest queue. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.job import DigestItem, JobEffect, JobRun


class JobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self):
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def _insert_ignore(self, table: Table, values: dict[str, Any]) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING; True when the row went in.

        Not a savepoint around a failing insert: SQLite's driver mishandles SAVEPOINT as the
        first statement of a transaction. On PostgreSQL a concurrent insert of the same key
        waits for the other transaction and then does nothing.
        """
        result = await self.session.execute(self._insert()(table).values(**values).on_conflict_do_nothing())
        return result.rowcount == 1

    # -- leases --------------------------------------------------------------------------
    async def try_insert_run(self, job_name: str, run_key: str, owner: str, now: datetime) -> bool:
        """Insert the lease row; False when the run already has one. The unique pair decides
        between processes, so the caller should commit promptly."""
        return await self._insert_ignore(
            JobRun.__table__,
            {"job_name": job_name, "run_key": run_key, "owner": owner, "started_at": now, "attempts": 1},
        )

    async def take_over_stale_run(
        self, job_name: str, run_key: str, owner: str, now: datetime, lease: timedelta
    ) -> bool:
        """Take an unfinished run whose lease ran out. A conditional UPDATE, so of two processes
        trying at once only one sees a row changed."""
        result = await self.session.execute(
            update(JobRun)
            .where(
                JobRun.job_name == job_name,
                JobRun.run_key == run_key,
                JobRun.finished_at.is_(None),
                JobRun.started_at <= now - lease,
            )
            .values(owner=owner, started_at=now, attempts=JobRun.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def finish_run(
        self, job_name: str, run_key: str, owner: str, now: datetime, summary: str | None
    ) -> bool:
        result = await self.session.execute(
            update(JobRun)
            .where(
                JobRun.job_name == job_name,
                JobRun.run_key == run_key,
                JobRun.owner == owner,
                JobRun.finished_at.is_(None),
            )
            .values(finished_at=now, summary=summary[:255] if summary else None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def get_run(self, job_name: str, run_key: str) -> JobRun | None:
        return await self.session.scalar(
            select(JobRun)
            .where(JobRun.job_name == job_name, JobRun.run_key == run_key)
            .execution_options(populate_existing=True)
        )

    async def runs(self, job_name: str | None = None) -> Sequence[JobRun]:
        query = select(JobRun).order_by(JobRun.id)
        if job_name is not None:
            query = query.where(JobRun.job_name == job_name)
        return (await self.session.scalars(query)).all()

    # -- effects -------------------------------------------------------------------------
    async def record_effect(self, job_name: str, effect_key: str, now: datetime) -> bool:
        """Record an effect about to be made in this transaction; False if it already was (then
        the caller skips the effect)."""
        return await self._insert_ignore(
            JobEffect.__table__, {"job_name": job_name, "effect_key": effect_key, "created_at": now}
        )

    async def record_effects(self, job_name: str, effect_keys: Sequence[str], now: datetime) -> set[str]:
        """``record_effect`` for many keys in one statement (a round trip per officer was most
        of the reminder job at a hundred agencies, issue 15): the keys recorded now, without
        those recorded before."""
        if not effect_keys:
            return set()
        table = JobEffect.__table__
        rows = [{"job_name": job_name, "effect_key": key, "created_at": now} for key in effect_keys]
        stmt = self._insert()(table).values(rows).on_conflict_do_nothing().returning(table.c.effect_key)
        return set((await self.session.scalars(stmt)).all())

    async def has_effect(self, job_name: str, effect_key: str) -> bool:
        found = await self.session.scalar(
            select(JobEffect.id).where(
                JobEffect.job_name == job_name, JobEffect.effect_key == effect_key
            )
        )
        return found is not None

    async def effect_keys(self, job_name: str) -> list[str]:
        rows = await self.session.scalars(
            select(JobEffect.effect_key).where(JobEffect.job_name == job_name).order_by(JobEffect.id)
        )
        return list(rows)

    # -- digest queue --------------------------------------------------------------------
    async def add_digest_item(
        self,
        *,
        citizen_id: int,
        chat_id: int,
        report_id: int | None,
        text: str,
        now: datetime,
    ) -> DigestItem:
        item = DigestItem(
            citizen_id=citizen_id, chat_id=chat_id, report_id=report_id, text=text, created_at=now
        )
        self.session.add(item)
        await self.session.flush()
        return item

    async def pending_digest_items(self, up_to: datetime) -> Sequence[DigestItem]:
        """Items not yet digested, created no later than ``up_to``, by citizen then age."""
        return (
            await self.session.scalars(
                select(DigestItem)
                .where(DigestItem.digested_at.is_(None), DigestItem.created_at <= up_to)
                .order_by(DigestItem.citizen_id, DigestItem.created_at, DigestItem.id)
            )
        ).all()

    async def mark_digested(self, item_ids: Sequence[int], now: datetime) -> int:
        """Stamp the items; returns how many were still pending (fewer: someone else took some)."""
        if not item_ids:
            return 0
        result = await self.session.execute(
            update(DigestItem)
            .where(DigestItem.id.in_(list(item_ids)), DigestItem.digested_at.is_(None))
            .values(digested_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0
