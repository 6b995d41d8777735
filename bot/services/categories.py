"""The category tree in use: what the form offers, and the admin setting a report's category.

Two levels at most (the import enforces it): the form shows the top level; a topic with
children opens them, so any category is two taps away, and "Lainnya / Tidak tahu" is always
there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.categories import display_name
from bot.services import audit
from bot.services.casework import core
from storage import generation
from storage.models import Category
from storage.repositories.categories import CategoryRepo


@dataclass(frozen=True)
class CategoryChoice:
    id: int
    label: str
    has_children: bool


async def choices(session: AsyncSession, locale: str, parent_id: int | None = None) -> list[CategoryChoice]:
    """Active categories under ``parent_id`` (None: the top level), labelled for ``locale``."""
    rows = await _active_rows(session)
    parents = {c.parent_id for c in rows}
    return [
        CategoryChoice(c.id, display_name(c.name, c.name_en, locale), c.id in parents)
        for c in rows
        if c.parent_id == parent_id
    ]


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    name_en: str | None
    parent_id: int | None


async def _active_rows(session: AsyncSession) -> tuple[_Row, ...]:
    # Every /lapor offers the tree: kept per process until a category changes (storage.generation).
    cache = generation.cache(session, "categories")
    if cache is not None and (rows := cache.get("active")) is not None:
        return rows
    rows = tuple(_Row(c.id, c.name, c.name_en, c.parent_id) for c in await CategoryRepo(session).all_active())
    if cache is not None:
        cache["active"] = rows
    return rows


@dataclass(frozen=True)
class Topic:
    """A top-level category opened to show its subtopics."""

    id: int
    label: str
    children: list[CategoryChoice]


async def topic(session: AsyncSession, category_id: int | None, locale: str) -> Topic | None:
    """An active top-level category with its active children, or None: no such category, not a
    topic, or nothing under it (a forged or stale button)."""
    category = await CategoryRepo(session).get_active(category_id) if category_id is not None else None
    if category is None or category.parent_id is not None:
        return None
    children = await choices(session, locale, category.id)
    return Topic(category.id, label(category, locale) or "", children) if children else None


async def choosable(session: AsyncSession, category_id: int) -> Category | None:
    """An active category a report may be filed under."""
    return await CategoryRepo(session).get_active(category_id)


def label(category: Category | None, locale: str) -> str | None:
    return display_name(category.name, category.name_en, locale) if category is not None else None


async def report_category(
    session: AsyncSession, actor: Actor, report_id: int, locale: str
) -> tuple[str, str | None]:
    """A report's tracking id and its category's name, for whoever may set it."""
    report = await core.report_for(session, actor, Action.CATEGORIZE, report_id)
    return report.tracking_id, label(report.category, locale)


async def report_topic(session: AsyncSession, actor: Actor, report_id: int, category_id: int, locale: str) -> Topic:
    """``topic``, for whoever may set the report's category; ``Refused`` (INVALID) for what is
    not a topic with children."""
    await core.report_for(session, actor, Action.CATEGORIZE, report_id)
    if (found := await topic(session, category_id, locale)) is None:
        raise Refused(Reason.INVALID)
    return found


async def set_report_category(
    session: AsyncSession, actor: Actor, report_id: int, category_id: int | None, now: datetime,
) -> tuple[str, Category | None]:
    """The admin sets or corrects a report's category (None: "Lainnya / Tidak tahu"), in any
    status: statistics count the corrected one. Audited; commits."""
    report = await core.report_for(session, actor, Action.CATEGORIZE, report_id)
    category = None
    if category_id is not None:
        category = await CategoryRepo(session).get_active(category_id)
        if category is None:
            raise Refused(Reason.INVALID)
    previous = report.category.code if report.category else None
    report.category = category
    report.updated_at = now
    await audit.record(session, actor, audit.AuditAction.CATEGORIZE, report.tracking_id,
                       {"report_id": report.id, "from": previous, "to": category.code if category else None})
    tracking_id = report.tracking_id
    await session.commit()
    return tracking_id, category
