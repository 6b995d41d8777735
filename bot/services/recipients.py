"""Who hears of a change: the reporter, an agency (its linked group chat and its reachable
officers, per the agency's setting), the admins."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import GroupDelivery
from bot.services.notification_policy import RecipientKind
from bot.services.ports import Recipient
from storage.models import AgencyGroup, Citizen, Report
from storage.repositories.citizens import CitizenRepo
from storage.repositories.group_chats import GroupChatRepo
from storage.repositories.officers import OfficerRepo


def citizen(person: Citizen, report: Report | None = None) -> Recipient:
    """A citizen reads in the language they chose, else in the one they filed the report in."""
    language = person.language or (report.language if report is not None else None)
    return Recipient(person.telegram_id, language, RecipientKind.CITIZEN, person.id,
                     update_mode=person.update_mode)


async def reporter_of(session: AsyncSession, report: Report) -> Recipient | None:
    """None when nobody may be told: no citizen (Open311, an erased identity), or one without
    consent (withdrawn in /privasi: UU PDP stops all processing but the confirmation)."""
    person = await CitizenRepo(session).get(report.citizen_id)
    if person is None or person.consent_at is None:
        return None
    return citizen(person, report)


async def officers_of(session: AsyncSession, agency_id: int, *, besides: int | None = None) -> list[Recipient]:
    """The agency's active officers (but the citizen ``besides``). One who blocked the bot (403)
    gets nothing more until they write to it again, which clears ``unreachable_at``."""
    rows = await OfficerRepo(session).active_with_people(agency_id)
    return [
        Recipient(person.telegram_id, person.language, RecipientKind.OFFICER)
        for _officer, person, _agency in rows
        if person.unreachable_at is None and person.id != besides
    ]


def group(link: AgencyGroup) -> Recipient:
    """An agency's group chat: work messages at once, in the deployment's default language."""
    return Recipient(link.chat_id, None, RecipientKind.OFFICER, forum=link.is_forum)


async def agency(session: AsyncSession, agency_id: int, *, besides: int | None = None) -> list[Recipient]:
    """Whoever hears of the agency's reports: its linked group, if any, and its officers'
    private chats unless the agency chose the group instead of them."""
    link = await GroupChatRepo(session).active_for_agency(agency_id)
    if link is None:
        return await officers_of(session, agency_id, besides=besides)
    people = [] if link.delivery == GroupDelivery.ONLY else await officers_of(session, agency_id, besides=besides)
    return [group(link), *people]


async def admins(session: AsyncSession, admin_ids: Iterable[int]) -> list[Recipient]:
    repo = CitizenRepo(session)
    out = []
    for admin_id in admin_ids:
        row = await repo.by_telegram_id(admin_id)
        out.append(Recipient(admin_id, row.language if row else None, RecipientKind.ADMIN))
    return out
