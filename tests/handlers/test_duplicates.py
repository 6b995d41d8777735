"""The admin marks a report as a duplicate of another: its reporter follows the original, is told
so, and finds the original in /status and /laporan; only admins, only from the queue."""

from __future__ import annotations

from sqlalchemy import select

from bot.ui.case_callbacks import VerifyAction, VerifyCb
from storage.models import Citizen, ReportFollower
from storage.repositories.followers import FollowerRepo
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed, tap
from tests.handlers.harness import Harness

REPORTER, O1, SECOND = 5551, 6661, 7002


async def _world(h: Harness) -> dict[str, int]:
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
    async with h.app.session_factory() as s:
        s.add(Citizen(telegram_id=SECOND, first_name="Kedua", language="id",
                      consent_at=await s.scalar(select(Citizen.consent_at).limit(1))))
        await s.commit()
    return ids


async def test_the_duplicates_reporter_follows_the_original_and_sees_it(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        original = await file_report(h, REPORTER, agency_id=ids["A"], privacy="anonymous")
        duplicate = await file_report(h, SECOND, agency_id=ids["A"], privacy="public", title="Jalan rusak lagi")
        async with h.app.session_factory() as s:  # someone followed the duplicate already
            follower = Citizen(telegram_id=7009, first_name="Pengikut", language="id")
            s.add(follower)
            await s.flush()
            await FollowerRepo(s).add(duplicate.id, follower.id, "nearby", duplicate.submitted_at)
            await s.commit()
            follower_id = follower.id
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await h.press(admin, 1, VerifyCb(a=VerifyAction.OPEN, r=duplicate.id).pack())
        await tap(h, admin, "Laporan ganda")
        await h.send(admin, original.tracking_id.lower())
        assert "digabung" in h.last_text(admin)
        await drain(h)
        dup = await report(h, duplicate.id)
        assert dup.status == "rejected" and dup.duplicate_of_id == original.id
        assert (await report(h, original.id)).supporters == 2
        async with h.app.session_factory() as s:
            assert await FollowerRepo(s).is_following(original.id, follower_id)
        told = h.last_text(SECOND)
        assert original.tracking_id in told and "mengikuti" in told
        assert "Zenobia" not in told and "Quartermain" not in told

        second = h.user(SECOND, "Kedua")
        await h.send(second, f"/status {duplicate.tracking_id}")
        assert f"/status {original.tracking_id}" in h.last_text(second)
        await h.send(second, f"/status {original.tracking_id}")  # once refused as someone else's
        card = h.last_text(second)
        assert original.tracking_id in card and "Anda mengikuti laporan ini" in card
        for hidden in ("Zenobia", "Quartermain", "zq_secret_handle", "Propinsi"):
            assert hidden not in card
        await h.send(second, "/laporan")
        listing = h.last_text(second)
        assert original.tracking_id in listing and duplicate.tracking_id in listing

        # The original's updates reach the duplicate's reporter.
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ASSIGN, r=original.id, v=str(ids["A"])).pack())
        await drain(h)
        assert "Kabar laporan yang Anda ikuti" in h.last_text(SECOND)


async def test_only_an_admin_marks_duplicates_and_only_from_the_queue(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        original = await file_report(h, REPORTER, agency_id=ids["A"])
        duplicate = await file_report(h, SECOND, agency_id=ids["A"])
        await drain(h)
        # A citizen (the duplicate's reporter) and an officer forging the admin's button.
        for who in (h.user(SECOND, "Kedua"), h.user(O1, "Officer")):
            cq = await h.press(who, 1, VerifyCb(a=VerifyAction.REASON, r=duplicate.id, v="duplicate").pack())
            assert h.answered(cq).show_alert
        # Not itself, and not a report already with an agency.
        admin = h.user(ADMIN, "Admin")
        await h.press(admin, 1, VerifyCb(a=VerifyAction.REASON, r=duplicate.id, v="duplicate").pack())
        await h.send(admin, duplicate.tracking_id)
        assert (await report(h, duplicate.id)).status == "submitted"
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ASSIGN, r=duplicate.id, v=str(ids["A"])).pack())
        cq = await h.press(admin, 1, VerifyCb(a=VerifyAction.REASON, r=duplicate.id, v="duplicate").pack())
        assert h.answered(cq).show_alert
        async with h.app.session_factory() as s:
            assert (await s.scalars(select(ReportFollower))).all() == []
        assert (await report(h, original.id)).supporters == 0


async def test_a_duplicate_of_a_duplicate_joins_the_first_report(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        first = await file_report(h, REPORTER, agency_id=ids["A"])
        middle = await file_report(h, SECOND, agency_id=ids["A"])
        third_party = 7003
        async with h.app.session_factory() as s:
            s.add(Citizen(telegram_id=third_party, first_name="Ketiga", language="id"))
            await s.commit()
        last = await file_report(h, third_party, agency_id=ids["A"])
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        for dup, orig in ((middle, first), (last, middle)):
            await h.press(admin, 1, VerifyCb(a=VerifyAction.REASON, r=dup.id, v="duplicate").pack())
            await h.send(admin, orig.tracking_id)
        assert (await report(h, last.id)).duplicate_of_id == first.id
        assert (await report(h, first.id)).supporters == 2
