"""Queries behind a citizen's data rights (bot/services/data_rights.py): everything stored about
one person, and the updates that withdraw their consent or erase their identity."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, and_, case, delete, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attachment,
    Broadcast,
    Citizen,
    DigestItem,
    FsmState,
    Officer,
    OfficerInvite,
    Outbox,
    Report,
    ReportEvent,
    ReportFollower,
    ResponseTemplate,
    WalkIn,
)
from storage.models.outbox import OutboxStatus


class PersonalDataRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def reports_of(self, citizen_id: int) -> Sequence[Report]:
        return (await self.session.scalars(
            select(Report).where(Report.citizen_id == citizen_id).order_by(Report.id))).all()

    async def events_of(self, report_ids: Collection[int]) -> Sequence[ReportEvent]:
        if not report_ids:
            return []
        return (await self.session.scalars(
            select(ReportEvent).where(ReportEvent.report_id.in_(report_ids)).order_by(ReportEvent.id))).all()

    async def attachments_of(self, report_ids: Collection[int]) -> Sequence[Attachment]:
        if not report_ids:
            return []
        return (await self.session.scalars(
            select(Attachment).where(Attachment.report_id.in_(report_ids)).order_by(Attachment.id))).all()

    async def detach(self, citizen_id: int, report_ids: Collection[int], *, anonymous: str,
                     public: str) -> None:
        """The reports stay; the link to the person goes, and a public one becomes anonymous
        (a confidential one stays confidential: its content is the more protected)."""
        if not report_ids:
            return
        await self.session.execute(
            update(Report).where(Report.id.in_(report_ids), Report.privacy == public)
            .values(privacy=anonymous))
        await self.session.execute(
            update(Report).where(Report.id.in_(report_ids)).values(citizen_id=None))
        await self.session.execute(
            update(ReportEvent).where(ReportEvent.report_id.in_(report_ids),
                                      ReportEvent.actor_citizen_id == citizen_id)
            .values(actor_citizen_id=None))

    async def cancel_messages(self, citizen: Citizen, reason: str) -> int:
        result = await self.session.execute(
            update(Outbox)
            .where(or_(Outbox.chat_id == citizen.telegram_id, Outbox.citizen_id == citizen.id),
                   Outbox.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.CANCELLED.value, last_error=reason))
        return result.rowcount or 0

    async def forget_messages(self, citizen: Citizen) -> None:
        """Erasure: what was sent to them (texts, their chat id) goes too, unless a worker is
        sending it this very moment (it then only finishes its bookkeeping)."""
        await self.session.execute(
            delete(Outbox).where(or_(Outbox.chat_id == citizen.telegram_id, Outbox.citizen_id == citizen.id),
                                 Outbox.status != OutboxStatus.SENDING.value))

    async def follows_of(self, citizen_id: int) -> Sequence[tuple[str, datetime, str]]:
        """(tracking id, since, how) of the reports they follow."""
        rows = await self.session.execute(
            select(Report.tracking_id, ReportFollower.created_at, ReportFollower.via)
            .join(ReportFollower, ReportFollower.report_id == Report.id)
            .where(ReportFollower.citizen_id == citizen_id).order_by(ReportFollower.id))
        return [(str(t), c, str(v)) for t, c, v in rows.all()]

    async def drop_follows(self, citizen_id: int) -> None:
        """The reports they follow (report_follower) stop counting them and writing to them; a
        walk-in report they claimed forgets who claimed it (its reporter link goes with ``detach``)."""
        followed = (await self.session.scalars(
            select(ReportFollower.report_id).where(ReportFollower.citizen_id == citizen_id))).all()
        if followed:
            await self.session.execute(
                update(Report).where(Report.id.in_(followed), Report.supporters > 0)
                .values(supporters=Report.supporters - 1))
            await self.session.execute(delete(ReportFollower).where(ReportFollower.citizen_id == citizen_id))
        await self.session.execute(
            update(WalkIn).where(WalkIn.claimed_by_id == citizen_id).values(claimed_by_id=None))

    async def drop_digest_items(self, citizen_id: int) -> None:
        await self.session.execute(delete(DigestItem).where(DigestItem.citizen_id == citizen_id))

    async def drop_conversation_state(self, telegram_id: int) -> None:
        await self.session.execute(delete(FsmState).where(FsmState.user_id == telegram_id))

    async def has_staff_history(self, citizen_id: int) -> bool:
        """A former officer or admin is named in records of their work (bindings, invites,
        templates, announcements), which keep pointing at the row."""
        checks = (
            select(func.count()).select_from(Officer).where(
                or_(Officer.citizen_id == citizen_id, Officer.revoked_by_id == citizen_id)),
            select(func.count()).select_from(OfficerInvite).where(
                or_(OfficerInvite.created_by_id == citizen_id, OfficerInvite.used_by_id == citizen_id)),
            select(func.count()).select_from(ResponseTemplate).where(ResponseTemplate.created_by_id == citizen_id),
            select(func.count()).select_from(Broadcast).where(Broadcast.created_by_id == citizen_id),
            select(func.count()).select_from(WalkIn).where(WalkIn.filed_by_id == citizen_id),
        )
        for query in checks:
            if await self.session.scalar(query):
                return True
        return False

    async def delete_citizen(self, citizen: Citizen) -> None:
        await self.session.delete(citizen)
        await self.session.flush()


class RetentionRepo:
    """The retention job's purges (bot/jobs/retention.py). Each touches only rows not purged
    yet, so running one twice changes nothing the second time; each returns how many it did."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def empty_sent_payloads(self, before: datetime, now: datetime, finished: Collection[str]) -> int:
        result = await self.session.execute(
            update(Outbox)
            .where(Outbox.purged_at.is_(None), Outbox.status.in_(finished), Outbox.created_at < before)
            .values(payload={}, purged_at=now))
        digests = await self.session.execute(
            delete(DigestItem).where(DigestItem.digested_at.is_not(None), DigestItem.digested_at < before))
        return (result.rowcount or 0) + (digests.rowcount or 0)

    async def blank_relayed_texts(self, before: datetime, kinds: Collection[str], closed: Collection[str],
                                  role: str) -> int:
        closed_reports = select(Report.id).where(Report.status.in_(closed))
        result = await self.session.execute(
            update(ReportEvent)
            .where(ReportEvent.kind.in_(kinds), ReportEvent.actor_role == role, ReportEvent.note.is_not(None),
                   ReportEvent.created_at < before, ReportEvent.report_id.in_(closed_reports))
            .values(note=None))
        return result.rowcount or 0

    @staticmethod
    def _finished_unstripped(before: datetime, closed: Collection[str]):
        """Finished before the cut-off (closed_at, else updated_at) and not stripped yet."""
        return (Report.status.in_(closed), Report.personal_data_purged_at.is_(None),
                or_(Report.closed_at < before, and_(Report.closed_at.is_(None), Report.updated_at < before)))

    async def closed_reports_to_strip(self, before: datetime, closed: Collection[str]) -> Sequence[int]:
        # As two ranges over partial indexes of the reports not yet stripped (Report's
        # ix_report_unpurged_*): at a million reports one condition over COALESCE read every
        # finished report's row daily (1.1 s).
        def finished(condition) -> Select:
            return select(Report.id).where(condition, Report.status.in_(closed),
                                           Report.personal_data_purged_at.is_(None))

        # In id order: a batch then writes neighbouring rows (and, as ids follow submission,
        # neighbouring entries of the time-ordered indexes) instead of pages all over the table.
        return sorted((await self.session.scalars(union_all(
            finished(Report.closed_at < before),
            finished(and_(Report.closed_at.is_(None), Report.updated_at < before)),
        ))).all())

    async def strip_closed_reports(self, ids: Collection[int], before: datetime, now: datetime,
                                   closed: Collection[str], *, citizen_role: str, anonymous: str,
                                   public: str) -> int:
        """Strip those of ``ids`` still finished before the cut-off and not stripped (one may have
        been reopened since it was listed); how many. One UPDATE per table: every row written in
        ``report`` is a new version entered in each of its ~19 indexes (citizen_id and the
        partial indexes' predicate change, so never a HOT update), and a second UPDATE of the
        same rows in one transaction doubled that and ran the foreign-key checks of every row
        again (issue 15: 1.2 s per 5,000 rows each)."""
        if not ids:
            return 0
        stripped = (await self.session.scalars(
            update(Report).where(Report.id.in_(ids), *self._finished_unstripped(before, closed))
            .values(citizen_id=None, latitude=None, longitude=None, personal_data_purged_at=now,
                    privacy=case((Report.privacy == public, anonymous), else_=Report.privacy))
            .returning(Report.id).execution_options(synchronize_session=False))).all()
        if stripped:
            # Only rows that still hold something: rewriting a row is the cost, even to NULL.
            await self.session.execute(
                update(ReportEvent).where(ReportEvent.report_id.in_(stripped), ReportEvent.actor_role == citizen_role,
                                          ReportEvent.actor_citizen_id.is_not(None))
                .values(actor_citizen_id=None))
            await self.session.execute(
                update(Attachment).where(Attachment.report_id.in_(stripped), Attachment.file_name.is_not(None))
                .values(file_name=None))
        return len(stripped)

    async def drop_stale_forms(self, before: datetime) -> int:
        result = await self.session.execute(delete(FsmState).where(FsmState.updated_at < before))
        return result.rowcount or 0
