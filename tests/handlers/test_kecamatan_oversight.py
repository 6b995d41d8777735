"""A kecamatan's officers and the kelurahan/desa under it (issue 13): in /kotak they see the
villages' overdue reports, read-only, and may remind the village's officers; they cannot act on
a village's report, never see an anonymous reporter, and another kecamatan sees nothing of it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot.jobs.base import JobContext
from bot.jobs.escalation import send_escalations
from bot.ui.case_callbacks import KecamatanAction, KecamatanCb, OfficerAction, OfficerCb
from storage.models import Agency, Citizen, Officer, Report
from tests.handlers.casework_helpers import FAST_DELIVERY, drain
from tests.handlers.harness import Harness

KEC1, DESA1, KEC2, REPORTER, ADMIN = 7101, 7102, 7103, 7104, 9000
TITLE = "Lampu jalan <mati> di RT 3"


async def seed(h: Harness) -> dict[str, int]:
    """Kecamatan Waru over Desa Sesulu, Kecamatan Sepaku over Desa Bumi Harapan; an officer of
    each but Bumi Harapan; overdue anonymous reports in both desa and one still in time."""
    today = h.app.calendar.today()
    now = datetime.now(UTC)
    async with h.app.session_factory() as s:
        k1 = Agency(name="Kecamatan Waru", kind="kecamatan")
        k2 = Agency(name="Kecamatan Sepaku", kind="kecamatan")
        s.add_all([k1, k2])
        await s.flush()
        d1 = Agency(name="Desa Sesulu", kind="desa", parent_id=k1.id)
        d2 = Agency(name="Desa Bumi Harapan", kind="desa", parent_id=k2.id)
        reporter = Citizen(telegram_id=REPORTER, first_name="Zenobia", last_name="Quartermain",
                           username="zq_secret_handle", consent_at=now)
        s.add_all([d1, d2, reporter])
        await s.flush()
        for tid, agency in ((KEC1, k1), (DESA1, d1), (KEC2, k2)):
            person = Citizen(telegram_id=tid, first_name=f"Petugas{tid}", language="id", consent_at=now)
            s.add(person)
            await s.flush()
            s.add(Officer(agency_id=agency.id, citizen_id=person.id, bound_at=now))

        def report(tracking_id: str, agency: Agency, due_days: int) -> Report:
            return Report(tracking_id=tracking_id, citizen_id=reporter.id, classification="complaint",
                          title=TITLE, body="b", privacy="anonymous", status="in_progress",
                          agency_id=agency.id, submitted_at=now - timedelta(minutes=5), assigned_at=now,
                          followup_due=today + timedelta(days=due_days))

        late1, late2, in_time = report("LPR-DESA1", d1, -4), report("LPR-DESA2", d2, -6), report("LPR-ONTIME", d1, 3)
        s.add_all([late1, late2, in_time])
        await s.commit()
        return {"late1": late1.id, "late2": late2.id, "in_time": in_time.id, "k1": k1.id}


async def test_kecamatan_officer_sees_the_villages_overdue_reports_read_only(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h)
        kec = h.user(KEC1, "Camat")
        await h.send(kec, "/kotak")
        inbox = h.last(kec)
        listing_data = KecamatanCb(a=KecamatanAction.LIST).pack()
        assert (next(label for label, data in inbox.buttons if data == listing_data)).endswith(": 1")

        cq = await h.press(kec, inbox, listing_data)
        assert h.answered(cq) is not None
        listing = h.last(kec)
        labels = " ".join(label for label, _d in listing.buttons)
        assert "LPR-DESA1" in labels and "Desa Sesulu" in labels
        assert "LPR-DESA2" not in labels and "LPR-ONTIME" not in labels

        await h.press(kec, listing, KecamatanCb(a=KecamatanAction.OPEN, r=ids["late1"]).pack())
        card = h.last(kec)
        assert "LPR-DESA1" in card.text and "&lt;mati&gt;" in card.text
        shown = " ".join(s.text or "" for s in h.sent_to(kec))
        # An anonymous reporter stays anonymous to the kecamatan too.
        assert "Zenobia" not in shown and "Quartermain" not in shown and "zq_secret" not in shown
        # Look and remind only: no casework button on the card.
        assert all(data.startswith("kc:") for _l, data in card.buttons)


async def test_kecamatan_officer_cannot_act_on_a_village_report(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h)
        kec = h.user(KEC1, "Camat")
        for action in (OfficerAction.TAKE, OfficerAction.ASK, OfficerAction.ANSWER, OfficerAction.RETURN,
                       OfficerAction.MUTE, OfficerAction.OPEN):
            mark = h.mark()
            cq = await h.press(kec, 40, OfficerCb(a=action, r=ids["late1"]).pack())
            assert h.answered(cq).show_alert, action
            assert not [r for r in h.since(mark) if getattr(r, "chat_id", None) == KEC1
                        and "LPR-DESA1" in (getattr(r, "text", None) or "")], action
        await h.send(kec, "Sudah kami tangani.")  # no text step was opened for the answer
        async with h.app.session_factory() as s:
            r = await s.get(Report, ids["late1"])
            assert r.status == "in_progress" and r.answered_at is None and r.relays_muted_at is None


async def test_remind_reaches_the_village_once_a_day(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h)
        kec = h.user(KEC1, "Camat")
        remind = KecamatanCb(a=KecamatanAction.REMIND, r=ids["late1"]).pack()
        first, second = await h.double_tap(kec, 41, remind)
        assert h.answered(first).show_alert and h.answered(second).show_alert
        await drain(h)
        reminders = [s for s in h.sent_to(DESA1) if "Kecamatan Waru" in (s.text or "")]
        assert len(reminders) == 1 and "LPR-DESA1" in reminders[0].text
        assert "&lt;mati&gt;" in reminders[0].text
        assert reminders[0].button("LPR-DESA1") == OfficerCb(a=OfficerAction.OPEN, r=ids["late1"]).pack()
        assert not [s for s in h.sent_to(KEC2) if "LPR-DESA1" in (s.text or "")]


async def test_another_kecamatan_sees_nothing_of_the_village(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h)
        other = h.user(KEC2, "Camat lain")
        await h.press(other, 42, KecamatanCb(a=KecamatanAction.LIST).pack())
        labels = " ".join(label for label, _d in h.last(other).buttons)
        assert "LPR-DESA2" in labels and "LPR-DESA1" not in labels
        for action in (KecamatanAction.OPEN, KecamatanAction.REMIND):
            mark = h.mark()
            cq = await h.press(other, 43, KecamatanCb(a=action, r=ids["late1"]).pack())
            assert h.answered(cq).show_alert
            assert not [r for r in h.since(mark) if "LPR-DESA1" in (getattr(r, "text", None) or "")]
        await drain(h)
        assert not [s for s in h.sent_to(DESA1) if "Kecamatan" in (s.text or "")]


async def test_a_village_officer_has_no_villages_to_oversee(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await seed(h)
        desa = h.user(DESA1, "Kades")
        await h.send(desa, "/kotak")
        assert not [d for _l, d in h.last(desa).buttons if d.startswith("kc:")]
        cq = await h.press(desa, 44, KecamatanCb(a=KecamatanAction.LIST).pack())
        assert h.answered(cq).show_alert
        async with h.app.session_factory() as s:
            assert await s.scalar(select(Report.status).where(Report.tracking_id == "LPR-DESA1")) == "in_progress"


async def test_the_escalation_reaches_each_kecamatan_with_its_own_villages_only(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h)
        today = h.app.calendar.today()
        ctx = JobContext(h.app.session_factory, h.app.settings, h.app.calendar, h.app.dp["notifier"],
                         datetime.combine(today, time(9), tzinfo=h.app.calendar.tz))
        assert await send_escalations(ctx, today) >= 3  # the admin and both kecamatan
        assert await send_escalations(ctx, today) == 0  # a second run sends nothing again
        await drain(h)

        def escalations(chat: int) -> str:
            return " ".join(s.text or "" for s in h.sent_to(chat) if "tunggakan" in (s.text or ""))

        waru, sepaku = escalations(KEC1), escalations(KEC2)
        assert "Kecamatan Waru" in waru and "LPR-DESA1" in waru and "Desa Sesulu" in waru
        assert "LPR-DESA2" not in waru and "Bumi Harapan" not in waru
        assert "Kecamatan Sepaku" in sepaku and "LPR-DESA2" in sepaku
        assert "LPR-DESA1" not in sepaku and "Sesulu" not in sepaku
        assert "Zenobia" not in waru + sepaku and "zq_secret" not in waru + sepaku
        assert "LPR-DESA1" in escalations(ADMIN) and "LPR-DESA2" in escalations(ADMIN)

        # Its button opens the read-only view, not the village's casework.
        kec = h.user(KEC1, "Camat")
        message = next(s for s in reversed(h.sent_to(KEC1)) if "tunggakan" in (s.text or ""))
        data = message.button("LPR-DESA1")
        assert data == KecamatanCb(a=KecamatanAction.OPEN, r=ids["late1"]).pack()
        await h.press(kec, message, data)
        assert all(d.startswith("kc:") for _l, d in h.last(kec).buttons)


async def test_statistik_rolls_the_villages_up_under_their_kecamatan(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h)
        now = datetime.now(UTC)
        async with h.app.session_factory() as s:
            # A second desa of Waru, and a report the kecamatan holds itself.
            sotek = Agency(name="Desa Sotek", kind="desa", parent_id=ids["k1"])
            s.add(sotek)
            await s.flush()
            reporter = await s.scalar(select(Citizen).where(Citizen.telegram_id == REPORTER))
            for tid, agency_id in (("LPR-SOTEK", sotek.id), ("LPR-KEC", ids["k1"])):
                s.add(Report(tracking_id=tid, citizen_id=reporter.id, classification="complaint", title="t",
                             body="b", privacy="public", status="assigned", agency_id=agency_id,
                             submitted_at=now - timedelta(minutes=5), assigned_at=now,
                             followup_due=h.app.calendar.today() + timedelta(days=5)))
            await s.commit()
        admin = h.user(ADMIN, "Admin")
        await h.send(admin, "/statistik")
        per_agency = next(d for s in reversed(h.sent_to(ADMIN)) for _l, d in s.buttons if d)
        await h.press(admin, h.sent_to(ADMIN)[-1], per_agency)
        text = "\n".join(s.text or "" for s in h.sent_to(ADMIN))
        assert "Per kecamatan" in text
        # Waru: Sesulu's two, Sotek's one and its own one; Sepaku: Bumi Harapan's one.
        assert "<b>Kecamatan Waru</b>\nditerima 4 · selesai 0 (0%) · tunggakan 4, lewat tenggat 1" in text
        assert "<b>Kecamatan Sepaku</b>\nditerima 1 · selesai 0 (0%) · tunggakan 1, lewat tenggat 1" in text
