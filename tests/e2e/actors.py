"""People of the casework end-to-end tests, acting through the local Bot API server only.

A citizen onboards and files a report with /lapor; the admin (9000) imports nothing by hand:
the directory comes from ``lapor-bot agencies import``, officers are bound by the admin's
/undang link opened as ``/start inv_...``, exactly as in production.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from sandbox.botapi import BotApiServer, SimUser
from storage.models import Report, ReportEvent
from tests.e2e.botprocess import ROOT, BotProcess
from tests.e2e.chat import Chatter
from tests.e2e.zygote_client import run_cli

ADMIN_ID = 9000
TRACKING = re.compile(r"LPR-[0-9A-Z]{4}-[0-9A-Z]{4}")
INVITE = re.compile(r"start=(inv_[A-Za-z0-9_-]+)")
PDAM = "Perumda Air Minum Danum Taka"
PUPR = "Dinas Pekerjaan Umum dan Penataan Ruang"

# Quiet hours of zero length: citizen updates are never held back, whatever the clock says.
NO_QUIET_HOURS = {
    "LAPOR_NOTIFICATIONS__QUIET_START": "00:00:00",
    "LAPOR_NOTIFICATIONS__QUIET_END": "00:00:00",
}

T = TypeVar("T")


def import_agencies(bot: BotProcess) -> None:
    run_cli(["agencies", "import", str(ROOT / "examples" / "agencies-ppu.toml")],
            env=bot.env(), cwd=bot.workdir, check=True)


def db(workdir: Path) -> Session:
    return Session(create_engine(f"sqlite:///{workdir / 'e2e.db'}"))


def timeline(workdir: Path, tracking_id: str) -> list[ReportEvent]:
    with db(workdir) as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking_id))
        assert report is not None
        events = list(s.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id)
                                .order_by(ReportEvent.id)))
        s.expunge_all()
        return events


def load_report(workdir: Path, tracking_id: str) -> Report:
    with db(workdir) as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking_id))
        assert report is not None
        s.expunge(report)
        return report


async def eventually(server: BotApiServer, probe: Callable[[], T | None], timeout: float = 20,
                     what: str = "condition") -> T:
    """Poll ``probe`` (it may read the database, which the server does not see change)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.1)


def person(server: BotApiServer, user_id: int, first_name: str, **kw: str) -> Chatter:
    return Chatter(server, server.add_user(SimUser(id=user_id, first_name=first_name, **kw)))


def texts_to(server: BotApiServer, chat_id: int) -> list[str]:
    """Every text and caption the bot got through to ``chat_id``, in order."""
    return [m.text or m.caption or "" for m in server.bot_messages(chat_id)]


def requests_to(server: BotApiServer, chat_id: int, since: int = 0) -> list:
    """Every Bot API request for ``chat_id`` (from index ``since`` of the log), failed ones too."""
    return [r for r in server.sent_requests[since:] if str(r.params.get("chat_id")) == str(chat_id)]


async def onboard(chat: Chatter) -> None:
    await chat.say("/start")
    await chat.tap("Bahasa Indonesia")
    await chat.tap("Setuju")
    assert "/lapor" in chat.texts()


async def make_officer(admin: Chatter, officer: Chatter, query: str, agency: str) -> None:
    """/undang through the chat, then the officer opens the deep link."""
    await admin.say(f"/undang {query}")
    await admin.tap(agency)
    code = INVITE.search(admin.last_text())
    assert code, admin.last_text()
    reply = await officer.say(f"/start {code.group(1)}")
    assert agency in reply, reply


async def file_anonymous_report(chat: Chatter, *, title: str, body: str, agency_query: str = "PDAM",
                                agency_button: str = "Danum Taka") -> str:
    """A complaint with one photo, the agency chosen, privacy Anonim; returns the tracking ID."""
    await chat.say("/lapor")
    await chat.tap("Pengaduan")
    await chat.say(agency_query)
    await chat.tap(agency_button)
    await chat.say(title)
    await chat.say(body)
    await chat.say("21 Mei 2024")
    await chat.tap("Anonim")
    await chat.say("Jl. Nipah-Nipah RT 07")  # a typed address, no pin
    await chat.act(chat.server.user_sends_photo(chat.user))
    await chat.tap("Selesai")
    await chat.tap("Kirim")
    found = TRACKING.search(chat.last_text())
    assert found, chat.last_text()
    return found.group(0)


async def admin_assigns(admin: Chatter, tracking_id: str, agency_button: str) -> None:
    """Open the report from /verifikasi and press an agency button (suggested or picked)."""
    await admin.say("/verifikasi")
    await admin.tap(tracking_id)
    await admin.tap(agency_button)


async def wait_text(server: BotApiServer, chat_id: int, needle: str, timeout: float = 20) -> str:
    """The first message to ``chat_id`` containing ``needle`` (delivered by the outbox worker)."""
    def probe() -> str | None:
        return next((t for t in texts_to(server, chat_id) if needle in t), None)

    return await server.wait_until(probe, timeout=timeout)
