"""/privasi and /datawarga (issue 10, UU 27/2022): see what is stored, withdraw consent, erase the
identity; an admin acting on a request made outside the bot. Through the real dispatcher."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiogram.methods import SendDocument
from sqlalchemy import select

from bot.services import recipients
from bot.ui.privacy import DataRequestCb, PrivacyAction, PrivacyCb
from storage.models import AuditLog, Citizen, Outbox, Report, ReportEvent
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, file_report, seed
from tests.handlers.harness import Harness

SITI = 1001
OFFICER = 2001


async def _world(h: Harness) -> tuple[Report, Report]:
    """Siti (English) with an open public report and a closed one, and an officer of A."""
    ids = await seed(h, reporter_id=SITI, officers={OFFICER: "A"})
    open_report = await file_report(h, SITI, agency_id=ids["A"], privacy="public", with_files=False)
    closed = await file_report(h, SITI, agency_id=ids["A"], privacy="public", title="Lampu jalan mati")
    async with h.app.session_factory() as s:
        row = await s.get(Report, closed.id)
        row.status, row.closed_at = "closed", datetime.now(UTC)
        await s.commit()
    return open_report, closed


async def _rows(h: Harness, model, *where):
    async with h.app.session_factory() as s:
        return list((await s.scalars(select(model).where(*where))).all())


def _press(h, user, data):
    return h.press(user, h.last(user), data)


async def test_privasi_shows_what_is_stored_and_sends_a_copy(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        open_report, closed = await _world(h)
        siti = h.user(SITI, "Zenobia", last_name="Quartermain", username="zq_secret_handle")
        await h.send(siti, "/privasi")
        shown = h.last(siti)
        for needle in ("Your data", "Diskominfo", f"<code>{SITI}</code>", "@zq_secret_handle",
                       "Reports: 2 (1 still open)"):
            assert needle in shown.text, needle
        cq = await _press(h, siti, PrivacyCb(action=PrivacyAction.EXPORT).pack())
        assert h.answered(cq) is not None
        (doc,) = [r for r in h.requests if isinstance(r, SendDocument)]
        assert doc.chat_id == SITI and doc.document.filename.endswith(".json")
        data = json.loads(doc.document.data)
        assert data["profile"]["telegram_id"] == SITI and data["profile"]["username"] == "zq_secret_handle"
        assert [r["tracking_id"] for r in data["reports"]] == [open_report.tracking_id, closed.tracking_id]
        assert data["reports"][0]["timeline"][0]["what"] == "submitted"
        assert data["reports"][1]["files"][1]["file_name"] == "bukti.pdf"
        (entry,) = await _rows(h, AuditLog, AuditLog.action == "data_export")
        assert entry.detail["by"] == "citizen"


async def test_withdrawing_consent_stops_processing_and_anonymises_open_reports(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        open_report, closed = await _world(h)
        siti = h.user(SITI, "Zenobia", last_name="Quartermain", username="zq_secret_handle")
        async with h.app.session_factory() as s:  # an update held back by quiet hours
            s.add(Outbox(chat_id=SITI, method="sendMessage", payload={"text": "Laporan diproses"}))
            await s.commit()
        queued = [o.id for o in await _rows(h, Outbox, Outbox.chat_id == SITI, Outbox.status == "pending")]
        assert queued
        await h.send(siti, "/privasi")
        await _press(h, siti, PrivacyCb(action=PrivacyAction.WITHDRAW).pack())
        assert "Withdraw your consent?" in h.last_text(siti) and "1 open report" in h.last_text(siti)
        await _press(h, siti, PrivacyCb(action=PrivacyAction.CANCEL).pack())  # changed her mind
        assert (await _rows(h, Citizen, Citizen.telegram_id == SITI))[0].consent_at is not None
        await _press(h, siti, PrivacyCb(action=PrivacyAction.WITHDRAW).pack())
        await _press(h, siti, PrivacyCb(action=PrivacyAction.WITHDRAW_YES).pack())
        assert "consent is withdrawn" in h.last_text(siti)

        (row,) = await _rows(h, Citizen, Citizen.telegram_id == SITI)
        assert row.consent_at is None and row.consent_withdrawn_at is not None
        assert (row.first_name, row.last_name, row.username) == (None, None, None)
        (o,) = await _rows(h, Report, Report.id == open_report.id)
        (c,) = await _rows(h, Report, Report.id == closed.id)
        assert o.citizen_id is None and o.privacy == "anonymous"  # continues, anonymous
        assert c.citizen_id == row.id  # a closed record stays hers (she may still erase it)
        assert {x.status for x in await _rows(h, Outbox, Outbox.id.in_(queued))} == {"cancelled"}
        # Nothing more reaches her: every notice and job asks reporter_of, which now says no one.
        async with h.app.session_factory() as s:
            assert await recipients.reporter_of(s, c) is None
        (entry,) = await _rows(h, AuditLog, AuditLog.action == "consent_withdraw")
        assert entry.detail == {"reports_anonymised": 1, "messages_cancelled": len(queued), "by": "citizen"}


async def test_erasing_the_identity_unlinks_every_report_and_forgets_the_person(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        open_report, closed = await _world(h)
        siti = h.user(SITI, "Zenobia", last_name="Quartermain", username="zq_secret_handle")
        citizen_id = (await _rows(h, Citizen, Citizen.telegram_id == SITI))[0].id
        await h.send(siti, "/privasi")
        await _press(h, siti, PrivacyCb(action=PrivacyAction.ERASE).pack())
        assert "Erase your identity?" in h.last_text(siti) and "cannot be undone" in h.last_text(siti)
        await _press(h, siti, PrivacyCb(action=PrivacyAction.ERASE_YES).pack())
        assert "identity is erased: 2 report" in h.last_text(siti)

        assert await _rows(h, Citizen, Citizen.telegram_id == SITI) == []
        reports = await _rows(h, Report, Report.id.in_([open_report.id, closed.id]))
        assert [(r.citizen_id, r.privacy) for r in reports] == [(None, "anonymous")] * 2
        assert await _rows(h, ReportEvent, ReportEvent.actor_citizen_id == citizen_id) == []
        assert await _rows(h, Outbox, Outbox.chat_id == SITI) == []
        (entry,) = await _rows(h, AuditLog, AuditLog.action == "identity_erase")
        assert entry.actor_telegram_id is None and entry.detail["by"] == "citizen"
        assert str(SITI) not in json.dumps(entry.detail)


async def test_an_admin_acts_on_a_request_made_outside_the_bot(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        open_report, _closed = await _world(h)
        admin, stranger = h.user(ADMIN, "Admin"), h.user(3003, "Mallory")
        citizen_id = (await _rows(h, Citizen, Citizen.telegram_id == SITI))[0].id

        # Not an admin: neither the command nor a forged button does anything.
        await h.send(stranger, f"/datawarga {SITI}")
        assert "zq_secret_handle" not in h.last_text(stranger)
        forged = DataRequestCb(action=PrivacyAction.ERASE_YES, citizen_id=citizen_id).pack()
        await h.press(stranger, h.last(stranger), forged)
        assert await _rows(h, Citizen, Citizen.telegram_id == SITI)

        await h.send(admin, f"/datawarga {open_report.tracking_id}")
        assert "@zq_secret_handle" in h.last_text(admin)
        await _press(h, admin, DataRequestCb(action=PrivacyAction.EXPORT, citizen_id=citizen_id).pack())
        (doc,) = [r for r in h.requests if isinstance(r, SendDocument)]
        assert doc.chat_id == ADMIN
        await h.send(admin, f"/datawarga {SITI}")
        await _press(h, admin, DataRequestCb(action=PrivacyAction.ERASE, citizen_id=citizen_id).pack())
        await _press(h, admin, DataRequestCb(action=PrivacyAction.ERASE_YES, citizen_id=citizen_id).pack())
        assert await _rows(h, Citizen, Citizen.telegram_id == SITI) == []
        entries = await _rows(h, AuditLog, AuditLog.action.in_(["data_export", "identity_erase"]))
        assert [(e.action, e.actor_telegram_id, e.detail["by"]) for e in entries] == [
            ("data_export", ADMIN, "admin"), ("identity_erase", ADMIN, "admin")]
        await h.send(admin, f"/datawarga {SITI}")
        assert "Tidak ada warga" in h.last_text(admin)


async def test_an_officer_keeps_the_role_before_withdrawing(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await _world(h)
        officer = h.user(OFFICER, "Officer")
        await h.send(officer, "/privasi")
        cq = await _press(h, officer, PrivacyCb(action=PrivacyAction.ERASE_YES).pack())
        answer = h.answered(cq)
        assert answer.show_alert and "mencabut peran" in answer.text
        assert await _rows(h, Citizen, Citizen.telegram_id == OFFICER)
