"""Outbound webhooks: queued in the transaction of the change, signed with HMAC-SHA256, retried
with backoff, logged; a receiving server checks every signature. Never the reporter's identity,
never a confidential report's content, never an anonymous report's place."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.config import WebhookSettings
from bot.domain.enums import ReportStatus
from bot.domain.workdays import WorkCalendar
from bot.services.casework import verification
from bot.services.casework.core import Casework
from bot.services.intake import Draft, submit_report
from bot.services.webhook_delivery import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookWorker,
    verify,
)
from bot.services.webhooks import ANSWERED, ASSIGNED, CLOSED, CREATED, event_for, sync_targets
from storage.models import Agency, Citizen, WebhookDelivery
from tests.actors import as_admin, make_casework

CAL = WorkCalendar("Asia/Makassar")
SECRET = "s3cret-for-the-dashboard-0123"
DESA_SECRET = "another-s3cret-for-the-desa-456"
NOW = datetime(2024, 5, 6, 2, tzinfo=UTC)


class Receiver:
    """A receiving server as an integrator would write it: checks the signature first."""

    def __init__(self) -> None:
        self.got: list[dict] = []
        self.rejected = 0
        self.answers: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        secret = SECRET if request.path == "/dash" else DESA_SECRET
        if not verify(secret, request.headers[TIMESTAMP_HEADER], body, request.headers[SIGNATURE_HEADER]):
            self.rejected += 1
            return web.Response(status=401)
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.got.append({"path": request.path, "event": request.headers[EVENT_HEADER],
                             "event_id": request.headers[EVENT_ID_HEADER], "body": json.loads(body)})
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", r.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield r, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def settings(base: str, *, dash_secret: str = SECRET, **kw) -> WebhookSettings:
    return WebhookSettings(targets=[
        {"name": "dash", "url": f"{base}/dash", "secret": dash_secret},
        {"name": "desa", "url": f"{base}/desa", "secret": DESA_SECRET, "events": ["report.closed"]},
    ], backoff_base_seconds=60, **kw)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def _world(session_factory, targets) -> tuple[int, Casework, Citizen]:
    await sync_targets(session_factory, targets)
    async with session_factory() as s:
        agency = Agency(name="Dinas PUPR", kind="opd", code="PUPR")
        admin = Citizen(telegram_id=9000, first_name="Admin")
        s.add_all([Citizen(telegram_id=7001, first_name="Budi", last_name="Rahasia", username="budi_r"), agency, admin])
        await s.commit()
        return agency.id, make_casework(CAL), admin


async def _file(session_factory, privacy: str) -> int:
    draft = Draft(classification="complaint", agency_chosen=True, title="Jalan berlubang di pasar",
                  body="Lubang besar di depan pasar, sudah sebulan.", incident_date="2024-05-02",
                  location_text="Jl. Mawar 7 (rumah saya)", latitude=-1.25, longitude=116.83,
                  attachments_done=True, privacy=privacy)
    async with session_factory() as s:
        citizen = await s.scalar(select(Citizen).where(Citizen.telegram_id == 7001))
        return (await submit_report(s, citizen, draft, CAL, NOW)).id


async def _deliveries(session_factory) -> list[WebhookDelivery]:
    async with session_factory() as s:
        return list((await s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all())


def test_which_changes_are_events():
    S = ReportStatus
    assert event_for(None, S.SUBMITTED) == CREATED
    assert event_for(S.SUBMITTED, S.ASSIGNED) == event_for(S.RETURNED, S.ASSIGNED) == ASSIGNED
    assert event_for(S.IN_PROGRESS, S.ANSWERED) == ANSWERED
    assert event_for(S.ANSWERED, S.CLOSED) == event_for(S.SUBMITTED, S.REJECTED) == CLOSED
    # A reporter's reply, a reopening, a comment after closing: not for integrators.
    assert event_for(S.AWAITING_REPORTER, S.IN_PROGRESS) is None
    assert event_for(S.CLOSED, S.IN_PROGRESS) is None
    assert event_for(S.CLOSED, S.CLOSED) is None


async def test_signed_deliveries_retried_with_backoff_until_the_receiver_takes_them(session_factory, receiver):
    r, base = receiver
    cfg = settings(base)
    agency_id, cw, admin = await _world(session_factory, cfg.targets)
    rid = await _file(session_factory, "public")
    async with session_factory() as s:
        await verification.assign_report(s, cw, as_admin(admin), rid, agency_id, NOW)
    rows = await _deliveries(session_factory)
    # Queued with the changes: created and assigned for the dashboard; the desa wants closed only.
    assert [(d.target, d.event) for d in rows] == [("dash", CREATED), ("dash", ASSIGNED)]

    clock = Clock()
    worker = WebhookWorker(session_factory, cfg, clock=clock, rng=random.Random(1))
    r.answers = [500]
    async with aiohttp.ClientSession() as http:
        assert await worker.run_once(http) == 2
        first = await _deliveries(session_factory)
        failed = next(d for d in first if d.status == "pending")
        assert failed.attempts == 1 and failed.last_status_code == 500
        # Backoff: jittered into [base/2, base] for the first retry.
        assert timedelta(seconds=30) <= failed.next_attempt_at - NOW <= timedelta(seconds=60)
        assert await worker.run_once(http) == 0  # not due yet
        clock.now = NOW + timedelta(seconds=61)
        assert await worker.run_once(http) == 1
    rows = await _deliveries(session_factory)
    assert all(d.status == "delivered" and d.delivered_at for d in rows)
    assert r.rejected == 0 and sorted(g["event"] for g in r.got) == [ASSIGNED, CREATED]
    assigned = next(g for g in r.got if g["event"] == ASSIGNED)["body"]
    assert assigned["report"]["agency"] == {"code": "PUPR", "name": "Dinas PUPR"}
    assert assigned["report"]["status"] == "assigned" and assigned["event_id"]


async def test_a_wrong_signature_is_refused_and_retries_end_in_failure(session_factory, receiver):
    r, base = receiver
    cfg = settings(base, dash_secret="not-the-secret-the-receiver-has", max_attempts=2)
    await _world(session_factory, cfg.targets)
    await _file(session_factory, "public")
    clock = Clock()
    worker = WebhookWorker(session_factory, cfg, clock=clock, rng=random.Random(2))
    async with aiohttp.ClientSession() as http:
        await worker.run_once(http)
        clock.now += timedelta(hours=1)
        await worker.run_once(http)
    (row,) = await _deliveries(session_factory)
    assert r.rejected == 2 and r.got == []
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 2, 401)


async def test_gone_stops_at_once(session_factory, receiver):
    r, base = receiver
    cfg = settings(base)
    await _world(session_factory, cfg.targets)
    await _file(session_factory, "public")
    r.answers = [410]
    async with aiohttp.ClientSession() as http:
        await WebhookWorker(session_factory, cfg, clock=Clock()).run_once(http)
    (row,) = await _deliveries(session_factory)
    assert (row.status, row.attempts) == ("failed", 1)


async def test_identity_and_what_privacy_withholds_never_go_out(session_factory, receiver):
    r, base = receiver
    cfg = settings(base)
    await _world(session_factory, cfg.targets)
    for privacy in ("public", "anonymous", "confidential"):
        await _file(session_factory, privacy)
    async with aiohttp.ClientSession() as http:
        await WebhookWorker(session_factory, cfg, clock=Clock()).run_once(http)
    bodies = {(g["body"]["report"]["anonymous"], g["body"]["report"]["confidential"]): g["body"]["report"]
              for g in r.got}
    for raw in (json.dumps(g["body"]) for g in r.got):
        for secret in ("Budi", "Rahasia", "budi_r", "7001"):
            assert secret not in raw
    public, anonymous, confidential = bodies[(False, False)], bodies[(True, False)], bodies[(False, True)]
    assert public["title"] and public["location"]["address"] == "Jl. Mawar 7 (rumah saya)"
    assert anonymous["title"] and "location" not in anonymous
    assert "title" not in confidential and "description" not in confidential and "location" not in confidential


async def test_a_target_removed_from_the_configuration_gets_nothing_more(session_factory, receiver):
    _r, base = receiver
    cfg = settings(base)
    await _world(session_factory, cfg.targets)
    await sync_targets(session_factory, cfg.targets[1:])  # "dash" is gone
    await _file(session_factory, "public")
    assert await _deliveries(session_factory) == []  # "desa" wants report.closed only
