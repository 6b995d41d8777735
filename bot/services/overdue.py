"""The overdue list behind the daily escalation's button, a page at a time (admins only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.lifecycle import VERIFICATION_QUEUE, WITH_AGENCY
from bot.domain.paging import clamp_page
from storage.repositories.overdue import OverdueLine, OverdueRepo, Scope

PER_PAGE = 10


@dataclass(frozen=True)
class OverduePage:
    lines: list[OverdueLine]
    page: int
    pages: int
    total: int
    today: date


def overdue_scope(today: date) -> Scope:
    """Past due on ``today`` (the deadline day itself is still in time): with an agency past
    the follow-up deadline, or in the verification queue past the verification deadline."""
    return Scope(WITH_AGENCY, today, VERIFICATION_QUEUE, today)


async def overdue_page(session: AsyncSession, actor: Actor, today: date, page: int) -> OverduePage:
    """The longest overdue first; a page past the end (the list shrank) shows the last one."""
    access.ensure(actor, Action.ADMINISTER)
    scope = overdue_scope(today)
    repo = OverdueRepo(session)
    total = await repo.count(scope)
    page, pages = clamp_page(page, total, PER_PAGE)
    lines = await repo.oldest(scope, limit=PER_PAGE, offset=page * PER_PAGE)
    return OverduePage(lines, page, pages, total, today)
