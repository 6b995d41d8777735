"""Agency group chats and the forum topics of reports. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.agency import Agency
from storage.models.group_chat import AgencyGroup, ReportTopic

_ACTIVE = "active"


class GroupChatRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- links ---------------------------------------------------------------------------
    async def add(self, link: AgencyGroup) -> AgencyGroup:
        self.session.add(link)
        await self.session.flush()
        return link

    async def get(self, link_id: int) -> AgencyGroup | None:
        return await self.session.get(AgencyGroup, link_id, populate_existing=True)

    async def in_chat(self, chat_id: int, status: str) -> Sequence[AgencyGroup]:
        rows = await self.session.scalars(
            select(AgencyGroup).where(AgencyGroup.chat_id == chat_id, AgencyGroup.status == status)
            .order_by(AgencyGroup.id)
        )
        return list(rows)

    async def active_for_agency(self, agency_id: int) -> AgencyGroup | None:
        return await self.session.scalar(
            select(AgencyGroup).where(AgencyGroup.agency_id == agency_id, AgencyGroup.status == _ACTIVE)
            .order_by(AgencyGroup.id.desc()).limit(1)
        )

    async def active_by_agency(self, agency_ids: set[int] | None = None) -> dict[int, AgencyGroup]:
        query = select(AgencyGroup).where(AgencyGroup.status == _ACTIVE)
        if agency_ids is not None:
            query = query.where(AgencyGroup.agency_id.in_(agency_ids))
        return {link.agency_id: link for link in await self.session.scalars(query.order_by(AgencyGroup.id))}

    async def active_with_agency(self) -> Sequence[tuple[AgencyGroup, Agency]]:
        rows = await self.session.execute(
            select(AgencyGroup, Agency).join(Agency, Agency.id == AgencyGroup.agency_id)
            .where(AgencyGroup.status == _ACTIVE).order_by(Agency.name, AgencyGroup.id)
        )
        return [tuple(row) for row in rows.all()]

    async def change(self, link_id: int, expected_status: str, values: dict[str, Any]) -> bool:
        """Set ``values`` if the link is still in ``expected_status``: of two admins deciding at
        once, one wins."""
        result = await self.session.execute(
            update(AgencyGroup).where(AgencyGroup.id == link_id, AgencyGroup.status == expected_status)
            .values(**values)
        )
        return result.rowcount == 1

    # -- forum topics --------------------------------------------------------------------
    async def topic(self, report_id: int, chat_id: int) -> ReportTopic | None:
        return await self.session.scalar(
            select(ReportTopic).where(ReportTopic.report_id == report_id, ReportTopic.chat_id == chat_id)
        )

    async def topics_of(self, report_id: int) -> Sequence[ReportTopic]:
        """The report's topics in every group, but those a group refused (their messages went
        to General)."""
        return (await self.session.scalars(
            select(ReportTopic).where(ReportTopic.report_id == report_id, ReportTopic.failed_at.is_(None))
            .order_by(ReportTopic.id)
        )).all()

    async def topic_closed(self, topic_id: int, closed_at: datetime | None) -> None:
        await self.session.execute(
            update(ReportTopic).where(ReportTopic.id == topic_id).values(closed_at=closed_at)
        )

    async def topic_by_id(self, topic_id: int) -> ReportTopic | None:
        return await self.session.get(ReportTopic, topic_id, populate_existing=True)

    async def add_topic(self, topic: ReportTopic) -> ReportTopic:
        self.session.add(topic)
        await self.session.flush()
        return topic

    async def topic_opened(self, topic_id: int, thread_id: int) -> None:
        await self.session.execute(
            update(ReportTopic).where(ReportTopic.id == topic_id).values(message_thread_id=thread_id)
        )

    async def topic_failed(self, topic_id: int, now: datetime) -> None:
        await self.session.execute(update(ReportTopic).where(ReportTopic.id == topic_id).values(failed_at=now))
