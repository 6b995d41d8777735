"""The admin's bulk reads on PostgreSQL ask for fewer parallel workers, for their own
transaction only (storage/parallelism.py, issue 15)."""

from __future__ import annotations

import random
import shutil
from datetime import date

import pytest
from sqlalchemy import text

from bot.domain.workdays import WorkCalendar
from bot.i18n import build_i18n
from bot.services.export import ExportFormat, write_year
from bot.services.statistics import year_statistics
from storage.parallelism import ADMIN_PARALLEL_WORKERS
from tests.storage.test_stats_equivalence import seed_random

pytestmark = pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)

CAL = WorkCalendar("Asia/Makassar")
SHOW = text("SHOW max_parallel_workers_per_gather")


async def workers(session) -> int:
    return int(await session.scalar(SHOW))


async def test_statistics_count_with_fewer_parallel_workers_in_their_transaction(session):
    await seed_random(session, CAL, random.Random(15), n=20)
    await session.commit()
    default = await workers(session)
    assert default != ADMIN_PARALLEL_WORKERS  # else the test shows nothing
    await year_statistics(session, 2024, CAL, today=date(2024, 7, 1))
    assert await workers(session) == ADMIN_PARALLEL_WORKERS
    await session.commit()
    assert await workers(session) == default  # SET LOCAL: the pooled connection is as before


async def test_the_export_copy_runs_with_fewer_parallel_workers(session):
    await seed_random(session, CAL, random.Random(15), n=20)
    await session.commit()
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("en"):
        # write_year: export_year commits (its audit record), which would end the SET LOCAL.
        parts, directory = await write_year(session, 2024, ExportFormat.CSV, CAL, date(2024, 7, 1), None)
    shutil.rmtree(directory)
    assert sum(p.rows for p in parts)  # the COPY ran
    assert await workers(session) == ADMIN_PARALLEL_WORKERS
