"""Open311 API keys. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiKey, ApiSubmission


class ApiKeyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, name: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.name == name))

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))

    async def all(self) -> Sequence[ApiKey]:
        return (await self.session.scalars(select(ApiKey).order_by(ApiKey.name))).all()

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def add_submission(self, submission: ApiSubmission) -> None:
        self.session.add(submission)
        await self.session.flush()

    async def submission_of(self, report_id: int) -> tuple[ApiSubmission, ApiKey] | None:
        row = (await self.session.execute(
            select(ApiSubmission, ApiKey).join(ApiKey, ApiKey.id == ApiSubmission.api_key_id)
            .where(ApiSubmission.report_id == report_id)
        )).first()
        return (row[0], row[1]) if row else None
