"""Issue #2 end to end: the real ``lapor-bot run`` process, driven over the local Bot API server.

A citizen files a complaint with every field and attachment; a second citizen is half-way
through a form when the bot is stopped (SIGTERM) and when it crashes (SIGKILL), and finishes
it after each restart; the stored rows are checked; Telegram would have rejected nothing.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload

from sandbox.botapi import SimUser
from storage.models import Agency, Report
from tests.e2e.actors import import_agencies
from tests.e2e.chat import Chatter

pytestmark = pytest.mark.e2e
TRACKING = re.compile(r"LPR-[0-9A-Z]{4}-[0-9A-Z]{4}")


async def _onboard(chat: Chatter) -> None:
    await chat.say("/start")
    await chat.tap("Bahasa Indonesia")
    await chat.tap("Setuju")
    assert "/lapor" in chat.texts()


def _db(tmp_path) -> Session:
    return Session(create_engine(f"sqlite:///{tmp_path / 'e2e.db'}"))


async def test_citizen_files_a_complaint_and_a_form_survives_restarts(api_server, bot_process, tmp_path):
    await bot_process.start()
    import_agencies(bot_process)

    # -- a complaint with every field and attachment --------------------------------------------
    siti = Chatter(api_server, api_server.add_user(SimUser(id=5001, first_name="Siti", username="siti_ppu")))
    await _onboard(siti)
    await siti.say("/lapor")
    await siti.tap("Pengaduan")
    await siti.say("PDAM")  # search the directory by alias
    await siti.tap("Danum Taka")
    await siti.say("Air <PDAM> mati & keruh 😡")
    await siti.say("Sudah tiga hari air PDAM di RT 05 Kelurahan Nenang mati, kalau menyala keruh.")
    await siti.say("21 Mei 2024")
    await siti.tap("Biasa")
    await siti.act(api_server.user_sends_location(siti.user, -1.2569, 116.7711))
    await siti.act(api_server.user_sends_album(siti.user, 2))
    await siti.act(api_server.user_sends_document(siti.user, "bukti.pdf", "application/pdf", 40_000))
    await siti.tap("Selesai")
    assert "Air &lt;PDAM&gt;" not in siti.last_text()  # the server stores parsed text, not HTML
    assert "Air <PDAM> mati & keruh" in siti.texts()
    await siti.tap("Kirim")
    receipt = siti.last_text()
    first_id = TRACKING.search(receipt).group(0)

    # -- a second form, interrupted by a clean stop and by a crash --------------------------------
    budi = Chatter(api_server, api_server.add_user(SimUser(id=5002, first_name="Budi")))
    await _onboard(budi)
    await budi.say("/lapor")
    await budi.tap("Aspirasi")
    await budi.tap("Tidak tahu")
    await budi.say("Taman bermain anak di Sepaku")
    assert await bot_process.stop() == 0
    await bot_process.start()
    await budi.say("Mohon dibangun taman bermain anak di dekat kantor kecamatan Sepaku.")
    await bot_process.kill()
    await bot_process.start()
    await budi.tap("Lewati")  # incident date is optional for an aspiration
    await budi.tap("Rahasia")
    await budi.reply_button("Lewati")  # so is the location
    await budi.tap("Lewati")  # no attachments
    summary = budi.last_text()
    assert "Taman bermain anak di Sepaku" in summary and "kantor kecamatan Sepaku" in summary
    await budi.tap("Kirim")
    second_id = TRACKING.search(budi.last_text()).group(0)
    assert await bot_process.stop() == 0

    # -- what was stored -------------------------------------------------------------------------
    with _db(tmp_path) as db:
        reports = {r.tracking_id: r for r in db.scalars(select(Report).options(
            selectinload(Report.attachments), selectinload(Report.events)))}
        assert set(reports) == {first_id, second_id}
        a = reports[first_id]
        pdam = db.scalar(select(Agency).where(Agency.name.like("%Danum Taka%")))
        assert a.title == "Air <PDAM> mati & keruh 😡"
        assert (a.classification, a.privacy, a.status) == ("complaint", "public", "submitted")
        assert a.requested_agency_id == pdam.id and a.agency_id is None
        assert str(a.incident_date) == "2024-05-21"
        assert a.latitude == pytest.approx(-1.2569) and a.longitude == pytest.approx(116.7711)
        assert sorted(x.kind for x in a.attachments) == ["document", "photo", "photo"]
        assert all(x.file_id and x.file_unique_id for x in a.attachments)
        assert a.verify_due is not None and [e.kind for e in a.events] == ["submitted"]
        b = reports[second_id]
        assert (b.classification, b.privacy, b.requested_agency_id) == ("aspiration", "confidential", None)
        assert b.body.startswith("Mohon dibangun") and b.attachments == []

    assert api_server.violations == [], api_server.violations
