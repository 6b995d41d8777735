"""At intake, open reports near the new one are offered: "🤝 Ini masalah saya juga" follows one
instead of filing; the follower hears of its updates without anyone's identity, and a
confidential report or one never offered cannot be followed by a forged button."""

from __future__ import annotations

import json

from aiogram.methods import SendDocument
from sqlalchemy import func, select

from bot.services.intake import Step
from bot.ui import intake_callbacks as cb
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from bot.ui.citizen_callbacks import OpenMyReportCb
from bot.ui.intake_callbacks import IntakeCb
from storage.models import Citizen, Report, ReportFollower
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import drive, fsm, tap

REPORTER, O1, NEIGHBOUR = 5551, 6661, 7001
# file_report puts its reports at (-1.25, 116.83); 0.0005° of latitude is about 55 m.
NEAR = (-1.2505, 116.83)


async def _world(h: Harness) -> dict[str, int]:
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A"})
    async with h.app.session_factory() as s:
        s.add(Citizen(telegram_id=NEIGHBOUR, first_name="Tetangga", language="id",
                      consent_at=(await s.scalar(select(Citizen.consent_at).limit(1)))))
        await s.commit()
    return ids


def _last_words(h: Harness, chat_id: int) -> str:
    """The newest message with text (leaving the location step, the buttons come by an edit)."""
    return next(m.text for m in reversed(h.sent_to(chat_id)) if m.text)


async def _assign(h: Harness, rid: int, agency_id: int) -> None:
    cq = await h.press(h.user(ADMIN, "Admin"), 1, VerifyCb(a=VerifyAction.ASSIGN, r=rid, v=str(agency_id)).pack())
    assert h.answered(cq) is not None
    await drain(h)


async def test_a_neighbour_follows_the_nearby_report_and_hears_of_it_without_identities(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        original = await file_report(h, REPORTER, agency_id=ids["A"], privacy="anonymous")
        secret = await file_report(h, REPORTER, agency_id=ids["A"], privacy="confidential", title="Rahasia sekali")
        await _assign(h, original.id, ids["A"])
        neighbour = h.user(NEIGHBOUR, "Tetangga")
        await drive(h, neighbour, "lo")
        await h.send_location(neighbour, *NEAR)
        offer = _last_words(h, NEIGHBOUR)
        assert original.tracking_id in offer, offer
        # Its title, now that it is verified; no distance that would locate an anonymous report.
        assert "Jalan berlubang besar" in offer and "kurang dari 150 m" in offer, offer
        assert secret.tracking_id not in offer and "Rahasia" not in offer
        for hidden in ("Zenobia", "Quartermain", "zq_secret_handle"):
            assert hidden not in offer
        await tap(h, neighbour, "Ini masalah saya juga")
        assert "Anda sekarang mengikuti" in h.last_text(neighbour)
        assert (await fsm(h, neighbour))[0] is None
        async with h.app.session_factory() as s:
            assert await s.scalar(select(func.count()).select_from(Report)) == 2  # no new report
        assert (await report(h, original.id)).supporters == 1

        # The report's updates reach the follower: the status, never the reporter's notes.
        await drain(h)
        mark = h.mark()
        from bot.ui.case_callbacks import OfficerAction, OfficerCb

        officer = h.user(O1, "Officer6661")
        await h.press(officer, 1, OfficerCb(a=OfficerAction.ASK, r=original.id).pack())
        await h.send(officer, "Di depan rumah nomor berapa, Bu Zenobia?")
        await drain(h)
        to_follower = [m.text for m in h.sent_to(NEIGHBOUR)[-1:]]
        assert "Anda ikuti" in to_follower[0] and "meminta informasi tambahan kepada pelapor" in to_follower[0]
        assert "Zenobia" not in to_follower[0] and "nomor berapa" not in to_follower[0]
        assert h.since(mark)

        # /laporan lists it, and opening it shows what the public page shows: no place of an
        # anonymous report, no question, no name.
        await h.send(neighbour, "/laporan")
        assert original.tracking_id in h.last_text(neighbour) and "diikuti" in h.last_text(neighbour)
        await h.press(neighbour, 1, OpenMyReportCb(report_id=original.id).pack())
        card = h.last_text(neighbour)
        assert "Jalan berlubang besar" in card and "1 warga lain" in card
        for hidden in ("Zenobia", "nomor berapa", "Propinsi", "-1,25", "Anonim"):
            assert hidden not in card, hidden
        assert not any("Tarik" in text for text, _ in h.last(neighbour).buttons)
        # The card of the officers counts the supporter.
        assert (await report(h, original.id)).supporters == 1


async def test_forged_follow_buttons_are_refused(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        original = await file_report(h, REPORTER, agency_id=ids["A"], privacy="public")
        secret = await file_report(h, REPORTER, agency_id=ids["A"], privacy="confidential")
        # Open and public, but never offered to this form (another classification).
        async with h.app.session_factory() as s:
            elsewhere = (await s.scalars(select(Report).where(Report.id == original.id))).one()
            other = Report(tracking_id="LPR-ZZZZ-ZZZZ", citizen_id=elsewhere.citizen_id, classification="aspiration",
                           title="Taman", body="Mohon taman bermain.", privacy="public", status="submitted",
                           submitted_at=elsewhere.submitted_at, latitude=NEAR[0], longitude=NEAR[1])
            s.add(other)
            await s.commit()
            not_offered = other.id
        neighbour = h.user(NEIGHBOUR, "Tetangga")
        await drive(h, neighbour, "lo")
        await h.send_location(neighbour, *NEAR)
        _state, data = await fsm(h, neighbour)
        form = data["form_id"]
        assert [n[0] for n in data["nearby"]] == [original.id]
        for target in (secret.id, not_offered, 999_999, "abc"):
            cq = await h.press(neighbour, 1, IntakeCb(form=form, step=Step.ATTACHMENTS.value, action=cb.FOLLOW,
                                                      value=str(target)).pack())
            assert h.answered(cq).show_alert, target
        async with h.app.session_factory() as s:
            assert await s.scalar(select(func.count()).select_from(ReportFollower)) == 0
        # The form goes on untouched.
        state, _data = await fsm(h, neighbour)
        assert state is not None and state.endswith("attachments")


async def test_the_reporter_is_never_offered_their_own_report(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        await file_report(h, REPORTER, agency_id=ids["A"], privacy="public")
        async with h.app.session_factory() as s:
            (await s.scalar(select(Citizen).where(Citizen.telegram_id == REPORTER))).language = "id"
            await s.commit()
        reporter = h.user(REPORTER, "Zenobia")
        await drive(h, reporter, "lo")
        await h.send_location(reporter, *NEAR)
        assert "Ini masalah saya juga" not in repr([m.buttons for m in h.sent_to(reporter)])
        assert (await fsm(h, reporter))[1]["nearby"] == []


async def test_a_follower_who_erases_their_identity_stops_following_and_counting(tmp_path):
    from bot.ui.privacy import PrivacyAction, PrivacyCb
    from storage.repositories.followers import FollowerRepo

    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        original = await file_report(h, REPORTER, agency_id=ids["A"], privacy="public")
        async with h.app.session_factory() as s:
            neighbour_id = await s.scalar(select(Citizen.id).where(Citizen.telegram_id == NEIGHBOUR))
            await FollowerRepo(s).add(original.id, neighbour_id, "nearby", original.submitted_at)
            await s.commit()
        assert (await report(h, original.id)).supporters == 1
        neighbour = h.user(NEIGHBOUR, "Tetangga")
        await h.send(neighbour, "/privasi")
        # Their copy of their data says what they follow (nothing of the report's reporter).
        await h.press(neighbour, h.last(neighbour), PrivacyCb(action=PrivacyAction.EXPORT).pack())
        (doc,) = [r for r in h.requests if isinstance(r, SendDocument)]
        copy = json.loads(doc.document.data)
        assert [(f["tracking_id"], f["how"]) for f in copy["following"]] == [(original.tracking_id, "nearby")]
        assert "Zenobia" not in doc.document.data.decode()
        await h.press(neighbour, h.last(neighbour), PrivacyCb(action=PrivacyAction.ERASE).pack())
        await h.press(neighbour, h.last(neighbour), PrivacyCb(action=PrivacyAction.ERASE_YES).pack())
        async with h.app.session_factory() as s:
            assert await s.scalar(select(Citizen.id).where(Citizen.telegram_id == NEIGHBOUR)) is None
            assert await s.scalar(select(func.count()).select_from(ReportFollower)) == 0
        assert (await report(h, original.id)).supporters == 0
