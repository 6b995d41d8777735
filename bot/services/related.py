"""Reports related to a citizen's problem: open reports near the one being filed ("this is my
problem too"), following one, and who follows a report.

A follower hears of the report's status changes (``FollowedUpdate``) like its reporter, but
never sees an identity: not the reporter's, not the other followers'. What they are shown of the
report is what its public page shows (``bot.domain.publication``), and a confidential report is
never offered, never followed (``bot.domain.access``, Action.FOLLOW).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor, Reason, Refused
from bot.domain.enums import Privacy
from bot.domain.geo import bounding_box, haversine_m
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.publication import disclosure
from bot.services.notices import FollowedUpdate
from bot.services.ports import Notifier
from bot.services.recipients import citizen as citizen_recipient
from storage.models import Report
from storage.repositories.followers import FollowerRepo
from storage.repositories.reports import ReportRepo

RADIUS_M = 150
WITHIN = timedelta(days=60)
SHOWN = 3


@dataclass(frozen=True)
class NearbyReport:
    """What a citizen filing a report is shown of another one: never who filed it."""

    report_id: int
    tracking_id: str
    title: str | None  # None until the report is verified (its public page shows no content yet)
    status: str
    # Rounded to 10 m; None when matched by agency and category, or when the report's place is not
    # public (an anonymous one): a precise distance from points of one's choosing would locate it.
    distance_m: int | None
    supporters: int

    def to_data(self) -> list:
        return [self.report_id, self.tracking_id, self.title, self.status, self.distance_m, self.supporters]

    @classmethod
    def from_data(cls, data: list) -> NearbyReport:
        return cls(*data)


def _card(report: Report, distance: float | None) -> NearbyReport:
    shown = disclosure(report.privacy, report.assigned_at)
    meters = round(distance, -1) if distance is not None and shown.place else None
    return NearbyReport(report.id, report.tracking_id, report.title if shown.content else None, report.status,
                        int(meters) if meters is not None else None, report.supporters)


async def nearby(
    session: AsyncSession, *, citizen_id: int | None, latitude: float | None, longitude: float | None,
    category_id: int | None, classification: str, agency_id: int | None, now: datetime,
) -> list[NearbyReport]:
    """Up to three open, non-confidential reports of the same category (else classification)
    from the last 60 days: within 150 m of the point, nearest first; without a point, those for
    the same agency and category. Never the citizen's own, nor ones they follow already."""
    repo = FollowerRepo(session)
    common = dict(since=now - WITHIN, statuses=[s.value for s in OPEN_STATUSES],
                  hidden_privacy=Privacy.CONFIDENTIAL.value, classification=classification,
                  besides_citizen=citizen_id)
    if latitude is not None and longitude is not None:
        candidates = await repo.open_in_box(box=bounding_box(latitude, longitude, RADIUS_M),
                                            category_id=category_id, **common)
        near = [(haversine_m(latitude, longitude, r.latitude, r.longitude), r) for r in candidates
                if r.latitude is not None and r.longitude is not None]
        near = sorted((d, r.id, r) for d, r in near if d <= RADIUS_M)
        return [_card(r, d) for d, _id, r in near[:SHOWN]]
    if agency_id is not None and category_id is not None:
        found = await repo.open_for_agency(agency_id=agency_id, category_id=category_id, limit=SHOWN, **common)
        return [_card(r, None) for r in found]
    return []


async def follow(
    session: AsyncSession, actor: Actor, report_id: int, *, via: str, now: datetime,
    offered: Collection[int] | None = None,
) -> Report:
    """``actor`` follows the report. ``offered``: the reports their form suggested; any other id
    (a forged button) is refused like a missing report. Commits."""
    if offered is not None and report_id not in offered:
        raise Refused(Reason.FORBIDDEN)
    report = await ReportRepo(session).get(report_id)
    access.ensure(actor, Action.FOLLOW, report)
    assert report is not None and actor.citizen_id is not None
    await FollowerRepo(session).add(report.id, actor.citizen_id, via, now)
    await session.commit()
    await session.refresh(report)
    return report


async def tell_followers(session: AsyncSession, notifier: Notifier, report: Report, kind: str, *,
                         agency_name: str | None, now: datetime) -> None:
    """The report's followers hear what changed (never a note: a question, an answer or a
    reason is written for the reporter and may name them)."""
    for person in await FollowerRepo(session).citizens_of(report.id):
        if person.id == report.citizen_id:
            continue
        await notifier.send(session, citizen_recipient(person, report),
                            FollowedUpdate(report, kind, agency_name), now=now)
