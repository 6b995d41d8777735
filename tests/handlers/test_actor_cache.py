"""Who is an officer comes from a process cache (issue 15), and a revoked officer is still refused
at their very next tap, whoever revoked them: an admin through this process, or another process
(a second webhook process, the command line) writing to the same database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from bot.ui.case_callbacks import OfficerAction, OfficerCb
from storage.db import create_engine, create_session_factory
from storage.models import Officer
from tests.handlers.casework_helpers import seed
from tests.handlers.harness import Harness

OFFICER = 5001
PAGE = OfficerCb(a=OfficerAction.LIST, p=0).pack()


def _inbox_shown(h: Harness, mark: int) -> bool:
    return any(getattr(r, "chat_id", None) == OFFICER and r.__api_method__ == "sendMessage" for r in h.since(mark))


async def test_revoked_by_another_process_is_refused_at_the_next_tap(tmp_path):
    async with Harness.create(tmp_path) as h:
        await seed(h, reporter_id=4001, officers={OFFICER: "A"})
        officer = h.user(OFFICER, "Officer")
        # Twice: the second answer comes from the cache (nothing changed in between).
        for _ in range(2):
            mark = h.mark()
            cq = await h.press(officer, 1, PAGE)
            assert _inbox_shown(h, mark) and not h.answered(cq).show_alert

        # Another process: an engine of its own on the same database file.
        other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'harness.db'}")
        try:
            async with create_session_factory(other)() as s:
                await s.execute(update(Officer).values(revoked_at=datetime.now(UTC)))
                await s.commit()
        finally:
            await other.dispose()

        mark = h.mark()
        cq = await h.press(officer, 1, PAGE)
        assert not _inbox_shown(h, mark)
        assert h.answered(cq).show_alert  # the alert for a button nobody takes


async def test_revoked_in_this_process_is_refused_at_the_next_tap(tmp_path):
    async with Harness.create(tmp_path) as h:
        await seed(h, reporter_id=4001, officers={OFFICER: "A"})
        officer = h.user(OFFICER, "Officer")
        await h.press(officer, 1, PAGE)  # cached
        async with h.app.session_factory() as s:
            await s.execute(update(Officer).values(revoked_at=datetime.now(UTC)))
            await s.commit()

        mark = h.mark()
        cq = await h.press(officer, 1, PAGE)
        assert not _inbox_shown(h, mark)
        assert h.answered(cq).show_alert
