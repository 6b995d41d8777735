"""Shared set-up for the web tests: the real app's wiring, served by aiohttp's test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.app import web_context
from bot.domain.tracking import new_tracking_id
from bot.web import build_web_app
from storage.models import Agency, Citizen, Report, ReportEvent
from tests.handlers.harness import Harness

BASE = "https://lapor.example.go.id"
WEB = {"web": {"public_base_url": BASE, "contact": "diskominfo@example.go.id"}}
REPORTER_NAME = "Zenobia"
SECRET_HANDLE = "zq_secret_handle"


@asynccontextmanager
async def client(h: Harness) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_web_app(web_context(h.app)))) as c:
        yield c


async def world(h: Harness) -> dict[str, int]:
    """An agency, a reporter (whose name must never show), and categories."""
    from tests.handlers.intake_helpers import seed_categories

    async with h.app.session_factory() as s:
        agency = Agency(name="Dinas Pekerjaan Umum", kind="opd", code="PUPR")
        reporter = Citizen(telegram_id=5551, first_name=REPORTER_NAME, last_name="Quartermain",
                           username=SECRET_HANDLE, language="id")
        s.add_all([agency, reporter])
        await s.commit()
        ids = {"agency": agency.id, "reporter": reporter.id}
    return ids | await seed_categories(h, default_agency_id=ids["agency"])


async def add_report(h: Harness, ids: dict[str, int], *, privacy: str = "public", status: str = "assigned",
                     verified: bool = True, days_ago: int = 3, category: str | None = "jalan-rusak",
                     title: str = "Jalan berlubang di depan pasar", lapor_id: str | None = None) -> Report:
    now = datetime.now(UTC)
    submitted = now - timedelta(days=days_ago)
    cal = h.app.calendar
    async with h.app.session_factory() as s:
        report = Report(
            tracking_id=new_tracking_id(), citizen_id=ids["reporter"], classification="complaint", title=title,
            body="Lubang besar, sudah tiga minggu belum diperbaiki.", incident_date=submitted.date(),
            location_text="Jl. Mawar 7, depan rumah saya", latitude=-1.25, longitude=116.83,
            privacy=privacy, status=status, submitted_at=submitted, updated_at=submitted,
            verify_due=cal.add_working_days(cal.local_date(submitted), 3),
            completion_due=cal.add_working_days(cal.local_date(submitted), 14),
            category_id=ids[category] if category else None, lapor_id=lapor_id,
        )
        if verified:
            report.agency_id, report.assigned_at = ids["agency"], submitted + timedelta(hours=5)
        if status in ("closed", "rejected"):
            report.closed_at = submitted + timedelta(days=2)
        s.add(report)
        await s.flush()
        s.add(ReportEvent(report_id=report.id, created_at=submitted, actor_role="citizen",
                          actor_citizen_id=ids["reporter"], kind="submitted", to_status="submitted"))
        if verified:
            s.add(ReportEvent(report_id=report.id, created_at=report.assigned_at, actor_role="admin",
                              agency_id=ids["agency"], kind="assigned", from_status="submitted",
                              to_status="assigned", note="internal note naming Pak Budi"))
        await s.commit()
        return report
