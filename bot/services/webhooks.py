"""Outbound webhooks for integrators: what is queued when a report changes.

``publish`` writes one ``WebhookDelivery`` per subscribed target in the caller's transaction
(the outbox pattern: a POST goes out if and only if the change committed); the sending, signing
and retrying live in ``bot.services.webhook_delivery``. The body is built here, once, from the
report as it is now; it never carries the reporter's identity, never a confidential report's
content, never an anonymous report's place (``bot.domain.publication.integrator_disclosure``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Privacy, ReportStatus
from bot.domain.lifecycle import TERMINAL, VERIFICATION_QUEUE
from bot.domain.publication import integrator_disclosure
from storage.base import utcnow
from storage.models import Agency, Category, Report, WebhookDelivery, WebhookTarget
from storage.repositories.webhooks import WebhookRepo

CREATED = "report.created"
ASSIGNED = "report.assigned"
ANSWERED = "report.answered"
CLOSED = "report.closed"


def event_for(previous: str | None, status: str) -> str | None:
    """The event a status change is, or None for changes integrators are not told of (a
    reporter's reply, a reopening, a comment after closing)."""
    if previous == status:
        return None
    if previous is None and status == ReportStatus.SUBMITTED:
        return CREATED
    if status == ReportStatus.ASSIGNED and previous in VERIFICATION_QUEUE:
        return ASSIGNED
    if status == ReportStatus.ANSWERED:
        return ANSWERED
    if status in TERMINAL:
        return CLOSED
    return None


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def payload(event: str, event_id: str, occurred_at: datetime, report: Report,
            category: Category | None, agency: Agency | None) -> dict[str, Any]:
    show = integrator_disclosure(report.privacy)
    body: dict[str, Any] = {
        "tracking_id": report.tracking_id,
        "status": report.status,
        "classification": report.classification,
        "channel": report.channel,
        "category": {"code": category.code, "name": category.name} if category else None,
        "agency": {"code": agency.code, "name": agency.name} if agency else None,
        "anonymous": report.privacy == Privacy.ANONYMOUS,
        "confidential": report.privacy == Privacy.CONFIDENTIAL,
        "submitted_at": _iso(report.submitted_at),
        "verify_due": _iso(report.verify_due),
        "followup_due": _iso(report.followup_due),
        "completion_due": _iso(report.completion_due),
        "answered_at": _iso(report.answered_at),
        "closed_at": _iso(report.closed_at),
        "lapor_id": report.lapor_id,
    }
    if show.content:
        body |= {"title": report.title, "description": report.body,
                 "incident_date": _iso(report.incident_date)}
    if show.place:
        body["location"] = {"address": report.location_text, "lat": report.latitude,
                            "long": report.longitude}
    return {"event": event, "event_id": event_id, "occurred_at": _iso(occurred_at), "report": body}


async def publish(session: AsyncSession, report: Report, event: str, now: datetime) -> int:
    """Queue ``event`` for every active target that wants it; how many were queued."""
    repo = WebhookRepo(session)
    targets = await repo.active_targets_for(event)
    if not targets:
        return 0
    # Looked up by id: ``report.category`` is not loaded on a report made in this transaction.
    category = await session.get(Category, report.category_id) if report.category_id else None
    agency = await session.get(Agency, report.agency_id) if report.agency_id else None
    event_id = secrets.token_hex(16)
    body = json.dumps(payload(event, event_id, now, report, category, agency),
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    await repo.add_deliveries(
        WebhookDelivery(target=t.name, event=event, event_id=event_id, report_id=report.id, body=body,
                        created_at=now, next_attempt_at=now)
        for t in targets
    )
    return len(targets)


async def status_changed(session: AsyncSession, report: Report, previous: str | None, now: datetime) -> int:
    """Call after a report's status changed (in the same transaction)."""
    event = event_for(previous, report.status)
    return await publish(session, report, event, now) if event else 0


async def sync_targets(session_factory: async_sessionmaker[AsyncSession], targets: Sequence[Any]) -> None:
    """Copy the configured targets (``settings.webhooks.targets``) into the database, so that
    services can queue deliveries without the settings; targets no longer configured stop
    receiving. Run at start-up by every process that writes reports."""
    for attempt in range(2):
        try:
            async with session_factory() as session:
                existing = {t.name: t for t in await WebhookRepo(session).targets()}
                now = utcnow()
                for cfg in targets:
                    row = existing.pop(cfg.name, None) or WebhookTarget(name=cfg.name)
                    row.url, row.events, row.active, row.synced_at = cfg.url, list(cfg.events), True, now
                    session.add(row)
                for gone in existing.values():
                    gone.active = False
                await session.commit()
                return
        except IntegrityError:
            # Another process starting at the same moment inserted the same target first.
            if attempt:
                raise
