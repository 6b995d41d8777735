"""The escalation's "Show all" button: the overdue list page by page, oldest first, for the
coordinating admins only (an officer or citizen pressing a forged one gets nothing)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram.methods import EditMessageText, SendMessage

from bot.domain.access import Actor, Refused
from bot.services.overdue import overdue_page
from storage.models import Agency, Citizen, Officer, Report
from tests.handlers.harness import Harness

ADMIN_ID = 9000
OFFICER_ID = 5200
CITIZEN_ID = 5100


async def seed(h: Harness) -> list[str]:
    """23 overdue reports (15 with an agency, 8 awaiting verification) and one in time; the
    overdue tracking ids, longest overdue first."""
    today = h.app.calendar.today()
    now = datetime.now(UTC)
    async with h.app.session_factory() as s:
        c = Citizen(telegram_id=CITIZEN_ID, first_name="Budi", consent_at=now)
        o = Citizen(telegram_id=OFFICER_ID, first_name="Petugas", consent_at=now)
        a = Agency(name="Dinas PUPR", kind="opd")
        s.add_all([c, o, a])
        await s.flush()
        s.add(Officer(agency_id=a.id, citizen_id=o.id, bound_at=now))
        ids = []
        for i in range(23):
            due = today - timedelta(days=40 - i)
            tid = f"LPR-OV{i:02d}"
            ids.append(tid)
            with_agency = i % 3 != 2
            s.add(Report(tracking_id=tid, citizen_id=c.id, classification="complaint", title=f"judul {i}",
                         body="b", privacy="public", status="assigned" if with_agency else "submitted",
                         agency_id=a.id if with_agency else None, submitted_at=now - timedelta(days=60),
                         verify_due=due if not with_agency else date(2000, 1, 1),
                         followup_due=due if with_agency else None))
        s.add(Report(tracking_id="LPR-ONTIME", citizen_id=c.id, classification="complaint", title="t",
                     body="b", privacy="public", status="assigned", agency_id=a.id, submitted_at=now,
                     followup_due=today))
        await s.commit()
    return ids


async def test_admin_pages_through_every_overdue_report_oldest_first(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await seed(h)
        admin = h.user(ADMIN_ID, "Admin")
        mark = h.mark()
        cq = await h.press(admin, 1, "ovd:0:1")
        assert h.answered(cq) is not None and not h.answered(cq).show_alert
        (first,) = [r for r in h.since(mark) if isinstance(r, SendMessage)]
        assert "23" in first.text and "(halaman 1 dari 3)" in first.text
        assert [t for t in ids if t in first.text] == ids[:10]
        assert first.text.index(ids[0]) < first.text.index(ids[9])
        assert "verifikasi, tenggat" in first.text and "Dinas PUPR, tenggat" in first.text
        listing = h.last(admin)
        assert [d for _l, d in listing.buttons] == ["ovd:1:0"]

        seen = []
        for page in (1, 2):
            mark = h.mark()
            await h.press(admin, listing, f"ovd:{page}:0")
            (edit,) = [r for r in h.since(mark) if isinstance(r, EditMessageText)]
            seen += [t for t in ids if t in edit.text]
            listing = h.last(admin)
        assert seen == ids[10:]
        assert [d for _l, d in listing.buttons] == ["ovd:1:0"]  # the last page: back only
        assert "LPR-ONTIME" not in edit.text


@pytest.mark.parametrize("who", [OFFICER_ID, CITIZEN_ID])
async def test_nobody_but_an_admin_gets_the_list(tmp_path, who):
    async with Harness.create(tmp_path) as h:
        await seed(h)
        user = h.user(who, "Bukan admin")
        mark = h.mark()
        cq = await h.press(user, 1, "ovd:0:1")
        assert h.answered(cq).show_alert
        sent = [r for r in h.since(mark) if isinstance(r, SendMessage | EditMessageText)]
        assert not any("LPR-OV" in (r.text or "") for r in sent)


async def test_the_service_refuses_anyone_but_an_admin(tmp_path):
    async with Harness.create(tmp_path) as h:
        await seed(h)
        async with h.app.session_factory() as s:
            with pytest.raises(Refused):
                await overdue_page(s, Actor(citizen_id=1), h.app.calendar.today(), 0)
