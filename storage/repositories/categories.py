"""The category tree. Adds, flushes and queries; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Category


class CategoryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_active(self, category_id: int) -> Category | None:
        row = await self.session.get(Category, category_id)
        return row if row is not None and row.active else None

    async def by_code(self, code: str) -> Category | None:
        return await self.session.scalar(select(Category).where(Category.code == code))

    async def children(self, parent_id: int | None) -> Sequence[Category]:
        """Active categories under ``parent_id`` (None: the top level), in the file's order."""
        parent = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
        stmt = select(Category).where(parent, Category.active).order_by(Category.position, Category.id)
        return (await self.session.scalars(stmt)).all()

    async def all_active(self) -> Sequence[Category]:
        stmt = select(Category).where(Category.active).order_by(Category.position, Category.id)
        return (await self.session.scalars(stmt)).all()

    async def all_including_inactive(self) -> Sequence[Category]:
        return (await self.session.scalars(select(Category).order_by(Category.id))).all()

    async def names(self) -> dict[int, tuple[str, str | None]]:
        """``{id: (name, name_en)}`` of every category, inactive ones too (old reports keep theirs)."""
        rows = await self.session.execute(select(Category.id, Category.name, Category.name_en))
        return {cid: (name, name_en) for cid, name, name_en in rows.all()}
