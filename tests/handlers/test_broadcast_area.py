"""Announcements to the citizens of one area (issue 13): a kecamatan with its kelurahan and desa,
or one desa. The preview states how many; the send reaches exactly them (not another kecamatan's
citizens, not those without a report there, not the staff)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.ui.admin_callbacks import BcAreaCb, BcAreaPickCb
from storage.models import Agency, Broadcast, Citizen, Officer, Outbox, Report
from tests.handlers.harness import Harness

ADMIN_ID = 9000
# Reporters: at Desa Sesulu, addressed to Kelurahan Waru (not yet assigned), at Kecamatan Waru
# itself, at Desa Bumi Harapan (another kecamatan); one without a report; an officer of Sesulu
# with a report there (staff: never a citizens' audience); one at Sesulu who switched
# announcements off (/pengaturan).
SESULU, KELURAHAN, KECAMATAN, OTHER, NONE, OFFICER, OFF = 5301, 5302, 5303, 5304, 5305, 5306, 5307


async def seed(h: Harness) -> dict[str, int]:
    now = datetime.now(UTC)
    async with h.app.session_factory() as s:
        waru = Agency(name="Kecamatan Waru", kind="kecamatan")
        sepaku = Agency(name="Kecamatan Sepaku", kind="kecamatan")
        opd = Agency(name="Dinas PUPR", kind="opd")
        s.add_all([waru, sepaku, opd])
        await s.flush()
        sesulu = Agency(name="Desa Sesulu", kind="desa", parent_id=waru.id)
        kelurahan = Agency(name="Kelurahan Waru", kind="kelurahan", parent_id=waru.id)
        bumi = Agency(name="Desa Bumi Harapan", kind="desa", parent_id=sepaku.id)
        people = {tid: Citizen(telegram_id=tid, first_name=f"W{tid}", consent_at=now)
                  for tid in (SESULU, KELURAHAN, KECAMATAN, OTHER, NONE, OFFICER, OFF, ADMIN_ID)}
        people[OFF].announcements_off_at = now
        s.add_all([sesulu, kelurahan, bumi, *people.values()])
        await s.flush()
        s.add(Officer(agency_id=sesulu.id, citizen_id=people[OFFICER].id, bound_at=now))

        def filed(tid: int, n: int, **where) -> Report:
            return Report(tracking_id=f"LPR-AREA{n}", citizen_id=people[tid].id, classification="complaint",
                          title="t", body="b", privacy="anonymous", submitted_at=now, **where)

        s.add_all([
            filed(SESULU, 1, status="assigned", agency_id=sesulu.id),
            filed(KELURAHAN, 2, status="submitted", requested_agency_id=kelurahan.id),
            filed(KECAMATAN, 3, status="closed", agency_id=waru.id),
            filed(OTHER, 4, status="assigned", agency_id=bumi.id),
            filed(OFFICER, 5, status="assigned", agency_id=sesulu.id),
            filed(ADMIN_ID, 6, status="assigned", agency_id=sesulu.id),
            filed(OFF, 7, status="assigned", agency_id=sesulu.id),
        ])
        await s.commit()
        return {"waru": waru.id, "sesulu": sesulu.id, "opd": opd.id}


async def compose(h: Harness, admin) -> None:
    await h.send(admin, "/umumkan")
    await h.send(admin, "Pemadaman listrik di wilayah Waru hari Sabtu")
    await h.press(admin, h.last(admin), "bca:area")


async def sent_to(h: Harness) -> list[int]:
    async with h.app.session_factory() as s:
        broadcast = await s.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
        rows = (await s.scalars(select(Outbox).where(Outbox.group_key == f"broadcast:{broadcast.id}"))).all()
        return sorted(r.chat_id for r in rows)


async def test_a_kecamatan_reaches_the_citizens_of_it_and_its_villages(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await seed(h)
        admin = h.user(ADMIN_ID, "Admin")
        await compose(h, admin)
        picker = h.last(admin)
        assert [label for label, _d in picker.buttons][:2] == ["Kecamatan Sepaku", "Kecamatan Waru"]
        await h.press(admin, picker, BcAreaCb(kecamatan_id=ids["waru"]).pack())
        villages = h.last(admin)
        labels = [label for label, _d in villages.buttons]
        assert "Desa Sesulu" in labels and "Kelurahan Waru" in labels and "Desa Bumi Harapan" not in labels
        await h.press(admin, villages, BcAreaPickCb(agency_id=ids["waru"]).pack())
        preview = h.last_text(admin)
        assert "Kecamatan Waru" in preview and "3 penerima" in preview, preview
        await h.press(admin, h.last(admin), "bcc:send")
        assert await sent_to(h) == [SESULU, KELURAHAN, KECAMATAN]


async def test_one_desa_reaches_its_own_citizens_only(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await seed(h)
        admin = h.user(ADMIN_ID, "Admin")
        await compose(h, admin)
        await h.press(admin, h.last(admin), BcAreaCb(kecamatan_id=ids["waru"]).pack())
        await h.press(admin, h.last(admin), BcAreaPickCb(agency_id=ids["sesulu"]).pack())
        preview = h.last_text(admin)
        assert "Desa Sesulu" in preview and "1 penerima" in preview, preview
        await h.press(admin, h.last(admin), "bcc:send")
        assert await sent_to(h) == [SESULU]


async def test_an_agency_that_is_no_area_is_refused(tmp_path):
    async with Harness.create(tmp_path) as h:
        ids = await seed(h)
        admin = h.user(ADMIN_ID, "Admin")
        await compose(h, admin)
        mark = h.mark()
        cq = await h.press(admin, h.last(admin), BcAreaPickCb(agency_id=ids["opd"]).pack())
        assert h.answered(cq).show_alert
        assert not [r for r in h.since(mark) if "penerima" in (getattr(r, "text", None) or "")]
        # A citizen forging the button gets nothing either.
        cq = await h.press(h.user(NONE, "W"), 50, BcAreaPickCb(agency_id=ids["waru"]).pack())
        assert h.answered(cq).show_alert
        async with h.app.session_factory() as s:
            assert await s.scalar(select(Broadcast.id)) is None
