"""The agency directory, read side: what the intake form browses and searches.

Adds, flushes and queries; never commits (the caller owns the transaction). Only active agencies
are offered to citizens.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models.agency import Agency

# Kinds stored in agency.kind (the values of bot.domain.enums.AgencyKind).
VILLAGE_KINDS = ("kelurahan", "desa")
KECAMATAN = "kecamatan"
_Parent = aliased(Agency)
# Rows fetched before ranking a search: a district directory has a few hundred rows at most,
# so ranking in Python stays cheap and behaves the same on SQLite and PostgreSQL.
_SEARCH_POOL = 200


class AgencyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, agency_id: int) -> Agency | None:
        return await self.session.get(Agency, agency_id)

    async def get_active(self, agency_id: int) -> Agency | None:
        agency = await self.session.get(Agency, agency_id)
        return agency if agency is not None and agency.active else None

    async def list_by_kind(self, kind: str, *, offset: int = 0, limit: int = 8) -> Sequence[Agency]:
        stmt = (
            select(Agency)
            .where(Agency.kind == kind, Agency.active.is_(True))
            .order_by(Agency.name, Agency.id)
            .offset(offset)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def count_by_kind(self, kind: str) -> int:
        stmt = select(func.count()).select_from(Agency).where(Agency.kind == kind, Agency.active.is_(True))
        return int(await self.session.scalar(stmt) or 0)

    async def children(self, parent_id: int, *, offset: int = 0, limit: int = 8) -> Sequence[Agency]:
        """Kelurahan and desa under one kecamatan."""
        stmt = (
            select(Agency)
            .where(Agency.parent_id == parent_id, Agency.kind.in_(VILLAGE_KINDS), Agency.active.is_(True))
            .order_by(Agency.name, Agency.id)
            .offset(offset)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def village_ids_under(self, kecamatan_ids: Collection[int]) -> set[int]:
        """Kelurahan and desa (inactive ones too: their open reports still need watching)
        whose kecamatan is one of ``kecamatan_ids``; other ids among them have no villages."""
        stmt = select(Agency.id).join(_Parent, _Parent.id == Agency.parent_id).where(
            Agency.parent_id.in_(list(kecamatan_ids)), Agency.kind.in_(VILLAGE_KINDS),
            _Parent.kind == KECAMATAN)
        return set(await self.session.scalars(stmt))

    async def kecamatan_of(self, village_ids: Collection[int]) -> dict[int, tuple[int, str]]:
        """For each kelurahan or desa among ``village_ids`` that sits under a kecamatan: the
        kecamatan's id and name."""
        stmt = select(Agency.id, _Parent.id, _Parent.name).join(_Parent, _Parent.id == Agency.parent_id).where(
            Agency.id.in_(list(village_ids)), Agency.kind.in_(VILLAGE_KINDS), _Parent.kind == KECAMATAN)
        return {village: (kec, name) for village, kec, name in (await self.session.execute(stmt)).all()}

    async def count_children(self, parent_id: int) -> int:
        stmt = (
            select(func.count())
            .select_from(Agency)
            .where(Agency.parent_id == parent_id, Agency.kind.in_(VILLAGE_KINDS), Agency.active.is_(True))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def search(self, query: str, *, limit: int = 8) -> list[Agency]:
        """Active agencies whose name or an alias contains ``query`` (case-insensitive).

        Exact matches first, then prefix matches, then the rest, each by name.
        """
        needle = " ".join(query.split()).casefold()
        if not needle:
            return []
        # The JSON text of the aliases is only a coarse prefilter; _rank checks the real values.
        stmt = (
            select(Agency)
            .where(
                Agency.active.is_(True),
                or_(
                    func.lower(Agency.name).contains(needle, autoescape=True),
                    func.lower(cast(Agency.aliases, String)).contains(needle, autoescape=True),
                ),
            )
            .order_by(Agency.name, Agency.id)
            .limit(_SEARCH_POOL)
        )
        rows = (await self.session.scalars(stmt)).all()
        if not needle.isascii():
            # SQLite lowercases ASCII only and the JSON text escapes non-ASCII aliases, so such
            # a query ranks every active row instead (a few hundred at most).
            rows = (
                await self.session.scalars(
                    select(Agency).where(Agency.active.is_(True)).order_by(Agency.name).limit(_SEARCH_POOL * 5)
                )
            ).all()
        ranked = sorted(
            ((rank, a) for a in rows if (rank := _rank(a, needle)) is not None),
            key=lambda pair: (pair[0], pair[1].name.casefold()),
        )
        return [a for _, a in ranked[:limit]]

    # -- write side: the directory import (bot/services/agency_import.py) -------------------
    async def all_including_inactive(self) -> Sequence[Agency]:
        """Every row, inactive ones too: an import must match them rather than duplicate them."""
        return (await self.session.scalars(select(Agency).order_by(Agency.id))).all()

    async def add(self, agency: Agency) -> Agency:
        self.session.add(agency)
        await self.session.flush()
        return agency

    async def list_active(self, *, offset: int = 0, limit: int = 8) -> Sequence[Agency]:
        """Active agencies of every kind, by name: the admin's agency picker."""
        stmt = (
            select(Agency)
            .where(Agency.active.is_(True))
            .order_by(Agency.name, Agency.id)
            .offset(offset)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def count_active(self) -> int:
        stmt = select(func.count()).select_from(Agency).where(Agency.active.is_(True))
        return int(await self.session.scalar(stmt) or 0)

    async def by_code_or_name(self, ref: str) -> Agency | None:
        """One agency by its exact code or name (case-insensitive), for the command line."""
        needle = " ".join(ref.split()).casefold()
        for agency in await self.all_including_inactive():
            if needle in ((agency.code or "").casefold(), " ".join(agency.name.split()).casefold()):
                return agency
        return None


def _rank(agency: Agency, needle: str) -> int | None:
    names = [agency.name, *(agency.aliases or [])]
    best: int | None = None
    for name in names:
        folded = " ".join(str(name).split()).casefold()
        if folded == needle:
            rank = 0
        elif folded.startswith(needle):
            rank = 1
        elif needle in folded:
            rank = 2
        else:
            continue
        best = rank if best is None else min(best, rank)
    return best
