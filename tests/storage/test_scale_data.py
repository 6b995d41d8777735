"""The 1M-report bench's generator (bench/scale_data.py) stores what the bot itself would: the
daily jobs' ceiling scans are only measured honestly on ceilings set as intake sets them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bench.scale_data import generate
from bot.domain.deadlines import completion_due
from bot.domain.timing import completion_met
from bot.domain.workdays import WorkCalendar
from storage.models import Report

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the generator writes PostgreSQL's SQL")
    return engine


async def test_generated_reports_carry_the_ceiling_intake_would_set(pg_engine):
    cal = WorkCalendar()
    await generate(pg_engine, 3000, datetime(2026, 5, 20, 4, tzinfo=UTC), citizens=50)
    async with pg_engine.connect() as conn:
        rows = (await conn.execute(select(
            Report.submitted_at, Report.classification, Report.supervisory, Report.completion_due,
            Report.status, Report.answered_at, Report.closed_at, Report.completion_met))).all()
    assert len(rows) == 3000
    assert {(r.classification, r.supervisory) for r in rows} >= {("complaint", True), ("complaint", False),
                                                                  ("aspiration", False), ("information", False)}
    for r in rows:
        assert r.completion_due == completion_due(r.submitted_at, r.classification, r.supervisory, cal), r
        expected = completion_met(r.answered_at or r.closed_at, r.completion_due, cal) if r.status == "closed" else None
        assert r.completion_met is expected, r
