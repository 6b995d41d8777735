"""Verification: the admin archives a report that needs no follow-up (LAPOR!'s Arsipkan), with a
reason the reporter reads, and marks a complaint as supervisory (berkadar pengawasan), which moves
its completion deadline to 60 working days. Only admins, only while the report waits."""

from __future__ import annotations

from aiogram.methods import EditMessageReplyMarkup
from sqlalchemy import select

from bot.domain import deadlines
from bot.domain.enums import EventKind
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from storage.models import AuditLog, ReportEvent
from tests.handlers.casework_helpers import (
    ADMIN,
    FAST_DELIVERY,
    drain,
    file_report,
    last_button_message,
    report,
    seed,
    tap,
)
from tests.handlers.harness import Harness

REPORTER, O1 = 5551, 6661


def _prefixes(markup) -> set[str]:
    if markup is None:
        return set()
    return {(b.callback_data or "").split(":", 1)[0] for row in markup.inline_keyboard for b in row}


async def _card(h: Harness, admin, report_id: int) -> int:
    await h.press(admin, 1, VerifyCb(a=VerifyAction.OPEN, r=report_id).pack())
    card, _ = last_button_message(h, admin.id, "Arsipkan")
    return card.message_id


async def test_archive_with_a_reason_and_a_note_tells_the_reporter_and_settles_the_card(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        card = await _card(h, admin, filed.id)
        await tap(h, admin, "Arsipkan")
        await tap(h, admin, "Sudah selesai")
        assert h.last(admin).button("Arsipkan tanpa catatan")
        mark = h.mark()
        await h.send(admin, "Jalan sudah <diperbaiki> kemarin")
        assert "diarsipkan" in h.last_text(admin)
        r = await report(h, filed.id)
        assert r.status == "archived" and r.closed_at is not None
        # The card loses its verification buttons, once.
        edits = [e for e in h.since(mark) if isinstance(e, EditMessageReplyMarkup)]
        assert [(int(e.chat_id), e.message_id) for e in edits] == [(ADMIN, card)]
        assert "vq" not in _prefixes(h.telegram.shown(ADMIN, card)[1])
        async with h.app.session_factory() as s:
            event = await s.scalar(select(ReportEvent).where(ReportEvent.report_id == filed.id,
                                                             ReportEvent.kind == EventKind.ARCHIVED))
            assert event is not None and event.note == "Already solved. Jalan sudah <diperbaiki> kemarin"
            audit = await s.scalar(select(AuditLog).where(AuditLog.action == "archive"))
            assert audit is not None and audit.target == filed.tracking_id
        await drain(h)
        told = h.last_text(REPORTER)  # the reporter reads English, the reason in their language
        assert "was archived" in told and "Already solved. Jalan sudah &lt;diperbaiki&gt; kemarin" in told
        # A stale tap on the old card afterwards: refused, says where the report is.
        cq = await h.press(admin, card, VerifyCb(a=VerifyAction.ARCHIVE, r=filed.id).pack())
        answers = h.answers(cq)
        assert len(answers) == 1 and answers[0].show_alert


async def test_archive_without_a_note(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await _card(h, admin, filed.id)
        await tap(h, admin, "Arsipkan")
        await tap(h, admin, "Ucapan")
        await tap(h, admin, "Arsipkan tanpa catatan")
        assert (await report(h, filed.id)).status == "archived"
        await drain(h)
        assert "A greeting or thanks, not a report" in h.last_text(REPORTER)


async def test_cancel_leaves_the_report_waiting(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        admin = h.user(ADMIN, "Admin")
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ARCHIVE_REASON, r=filed.id, v="solved").pack())
        await h.send(admin, "/batal")
        assert "tidak diarsipkan" in h.last_text(admin)
        assert (await report(h, filed.id)).status == "submitted"


async def test_only_admins_archive_or_mark_supervisory_and_only_while_it_waits(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        await drain(h)
        forged = [VerifyCb(a=VerifyAction.ARCHIVE, r=filed.id).pack(),
                  VerifyCb(a=VerifyAction.ARCHIVE_REASON, r=filed.id, v="solved").pack(),
                  VerifyCb(a=VerifyAction.SUPERVISORY, r=filed.id, v="1").pack()]
        for who in (h.user(REPORTER, "Zenobia"), h.user(O1, "Officer")):
            for data in forged:
                cq = await h.press(who, 1, data)
                answers = h.answers(cq)
                assert len(answers) == 1 and answers[0].show_alert, data
            # Not even through a typed note: no archive dialog was opened for them.
            await h.send(who, "tolong arsipkan")
        r = await report(h, filed.id)
        assert r.status == "submitted" and not r.supervisory

        admin = h.user(ADMIN, "Admin")
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ARCHIVE_REASON, r=filed.id, v="solved").pack())
        # The report moves on while the admin types the note: the archive is refused.
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ASSIGN, r=filed.id, v=str(ids["A"])).pack())
        await h.send(admin, "tidak perlu ditindaklanjuti")
        assert (await report(h, filed.id)).status == "assigned"
        for data in forged:  # stale buttons of an assigned report
            cq = await h.press(admin, 1, data)
            answers = h.answers(cq)
            assert len(answers) == 1 and answers[0].show_alert, data
        assert not (await report(h, filed.id)).supervisory


async def test_supervisory_flag_moves_the_completion_deadline_and_the_card_shows_it(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        cal = h.app.calendar
        assert filed.completion_due == deadlines.completion_due(filed.submitted_at, "complaint", False, cal)
        admin = h.user(ADMIN, "Admin")
        await _card(h, admin, filed.id)
        assert "Batas penyelesaian" in h.last_text(admin)
        await tap(h, admin, "Tandai berkadar pengawasan")
        r = await report(h, filed.id)
        assert r.supervisory
        assert r.completion_due == deadlines.completion_due(filed.submitted_at, "complaint", True, cal)
        assert "60 hari kerja" in h.last_text(admin)  # the new card
        async with h.app.session_factory() as s:
            assert await s.scalar(select(AuditLog).where(AuditLog.action == "supervisory")) is not None
        await tap(h, admin, "batalkan")
        r = await report(h, filed.id)
        assert not r.supervisory and r.completion_due == filed.completion_due
        assert "60 hari kerja" not in h.last_text(admin)


async def test_only_a_complaint_can_be_supervisory(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        async with h.app.session_factory() as s:
            row = await s.get(type(filed), filed.id)
            row.classification = "aspiration"
            await s.commit()
        admin = h.user(ADMIN, "Admin")
        await _card(h, admin, filed.id)
        assert not any("pengawasan" in text.lower() for text, _ in h.last(admin).buttons)
        cq = await h.press(admin, 1, VerifyCb(a=VerifyAction.SUPERVISORY, r=filed.id, v="1").pack())
        assert h.answers(cq)[0].show_alert
        assert not (await report(h, filed.id)).supervisory
