"""Cards shown for a report. Adds, flushes and queries; never commits."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.case_card import CaseCard


class CaseCardRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, chat_id: int, message_id: int, report_id: int) -> None:
        await self.session.merge(CaseCard(chat_id=chat_id, message_id=message_id, report_id=report_id))
        await self.session.flush()

    async def of_report(self, report_id: int) -> list[tuple[int, int]]:
        rows = await self.session.execute(
            select(CaseCard.chat_id, CaseCard.message_id).where(CaseCard.report_id == report_id)
        )
        return [(chat_id, message_id) for chat_id, message_id in rows.all()]

    async def forget_report(self, report_id: int) -> None:
        await self.session.execute(delete(CaseCard).where(CaseCard.report_id == report_id))
