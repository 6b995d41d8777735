"""Forged callback data from every role is refused on the callback and changes nothing."""

from __future__ import annotations

from bot.ui.case_callbacks import OfficerAction, OfficerCb, ReporterAction, ReporterCb, VerifyAction, VerifyCb
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed, tap
from tests.handlers.harness import Harness

REPORTER, OA, OB, STRANGER = 5551, 6661, 6663, 7771


async def test_forged_presses_are_refused(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A", OB: "B"})
        rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
        await drain(h)
        citizen, officer_b, stranger = h.user(REPORTER, "Z"), h.user(OB, "B"), h.user(STRANGER, "S")

        # A non-admin (the reporter, an officer) presses admin buttons.
        for who in (citizen, officer_b):
            for data in (VerifyCb(a=VerifyAction.ASSIGN, r=rid, v=str(ids["B"])),
                         VerifyCb(a=VerifyAction.POSTPONE, r=rid), VerifyCb(a=VerifyAction.OPEN, r=rid)):
                cq = await h.press(who, 50, data.pack())
                assert h.answered(cq).show_alert
        assert (await report(h, rid)).status == "submitted"

        await tap(h, h.user(ADMIN, "Admin"), "Buka")
        await tap(h, h.user(ADMIN, "Admin"), "Dinas Alpha")
        await drain(h)

        # The citizen presses officer buttons; agency B's officer acts on agency A's report.
        for who in (citizen, officer_b):
            for action in (OfficerAction.TAKE, OfficerAction.ANSWER, OfficerAction.RETURN, OfficerAction.OPEN):
                cq = await h.press(who, 51, OfficerCb(a=action, r=rid).pack())
                assert h.answered(cq).show_alert
        assert (await report(h, rid)).status == "assigned"

        # Someone else presses the reporter's buttons.
        for data in (ReporterCb(a=ReporterAction.RATE, r=rid, v=5), ReporterCb(a=ReporterAction.REPLY, r=rid),
                     ReporterCb(a=ReporterAction.NOT_SOLVED, r=rid)):
            cq = await h.press(stranger, 52, data.pack())
            assert h.answered(cq).show_alert
        r = await report(h, rid)
        assert r.status == "assigned" and r.rating is None and r.agency_id == ids["A"]


async def test_a_stranger_cannot_rate_or_dispute_an_answered_report(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={OA: "A"})
        rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
        await drain(h)
        admin, officer = h.user(ADMIN, "Admin"), h.user(OA, "A")
        await tap(h, admin, "Buka")
        await tap(h, admin, "Dinas Alpha")
        await drain(h)
        await tap(h, officer, "Tanggapi")
        await h.send(officer, "Sudah diperbaiki.")
        await drain(h)
        assert (await report(h, rid)).status == "answered"

        stranger = h.user(STRANGER, "S")
        for data in (ReporterCb(a=ReporterAction.RATE, r=rid, v=1), ReporterCb(a=ReporterAction.SATISFIED, r=rid),
                     ReporterCb(a=ReporterAction.NOT_SOLVED, r=rid)):
            cq = await h.press(stranger, 53, data.pack())
            assert h.answered(cq).show_alert
        r = await report(h, rid)
        assert r.status == "answered" and r.rating is None
        assert h.sent_to(STRANGER) == []
