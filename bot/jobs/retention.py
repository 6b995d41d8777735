"""Retention (UU 27/2022: data kept no longer than its purpose needs). Once a day, at
``[privacy] retention_time``: the text of messages sent long ago, reporters' messages to
officers on long-closed reports, the personal fields of long-closed reports, and forms left
unfinished are removed, each after its period in ``[privacy]``. Every purge touches only what
is not purged yet, so a run taken over after a crash, or run twice, changes nothing more; a
run that removed anything is in /audit."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.enums import ActorRole, EventKind, Privacy
from bot.domain.lifecycle import TERMINAL
from bot.jobs.base import JobContext, run_daily
from bot.services.audit import AuditAction, record
from storage.models import OutboxStatus
from storage.repositories.personal_data import RetentionRepo
from storage.repositories.walk_ins import WalkInRepo

JOB_NAME = "retention"
_FINISHED = tuple(s.value for s in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNREACHABLE,
                                    OutboxStatus.CANCELLED))
_CLOSED = tuple(s.value for s in TERMINAL)
# What a reporter wrote to officers through the bot: answers to their questions, a dispute,
# a comment on the rating, a reason for withdrawing.
_RELAYED = tuple(k.value for k in (EventKind.REPORTER_REPLIED, EventKind.DISPUTED, EventKind.NOTE,
                                   EventKind.WITHDRAWN))


async def purge_expired(ctx: JobContext) -> int | None:
    """Rows purged today; None before retention_time or when another process has today's run."""
    return await run_daily(JOB_NAME, ctx.settings.privacy.retention_time, purge, ctx, working_days_only=False)


# Reports stripped per transaction: a backlog (the first run on years of reports: 97,624 at a
# million) goes in committed batches, each holding its rows' locks well under a second,
# instead of one transaction of minutes; every await lets the bot's other work run in between.
# Within asyncpg's 32,767 parameters per statement.
STRIP_BATCH = 1000


async def purge(ctx: JobContext, today: date) -> int:
    p, now = ctx.settings.privacy, ctx.now
    report_cutoff = now - timedelta(days=p.closed_report_days)
    async with ctx.session_factory() as session:
        repo = RetentionRepo(session)
        counts = {
            "sent_messages": await repo.empty_sent_payloads(now - timedelta(days=p.sent_message_days), now, _FINISHED),
            "relayed_texts": await repo.blank_relayed_texts(now - timedelta(days=p.relayed_text_days), _RELAYED,
                                                            _CLOSED, ActorRole.CITIZEN.value),
            # A walk-in's name and phone are among a long-closed report's personal fields; first:
            # stripping a report stamps its updated_at, which tells how long it has been finished.
            "closed_reports": await WalkInRepo(session).erase_personal_data(
                finished_statuses=_CLOSED, finished_before=report_cutoff, now=now),
            "stale_forms": await repo.drop_stale_forms(now - timedelta(days=p.form_state_days)),
        }
        to_strip = await repo.closed_reports_to_strip(report_cutoff, _CLOSED)
        await session.commit()
    for start in range(0, len(to_strip), STRIP_BATCH):
        async with ctx.session_factory() as session:
            counts["closed_reports"] += await RetentionRepo(session).strip_closed_reports(
                to_strip[start:start + STRIP_BATCH], report_cutoff, now, _CLOSED,
                citizen_role=ActorRole.CITIZEN.value, anonymous=Privacy.ANONYMOUS.value, public=Privacy.PUBLIC.value)
            await session.commit()
    total = sum(counts.values())
    if total:
        # A run that dies mid-backlog leaves its committed batches out of /audit (each stripped
        # report carries personal_data_purged_at); the run taken over records the rest.
        async with ctx.session_factory() as session:
            await record(session, None, AuditAction.RETENTION, f"retention:{today.isoformat()}", counts)
            await session.commit()
    return total
