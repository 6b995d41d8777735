"""The admin console through the real dispatcher: broadcast flow, refusals, statistics,
exports, directory and audit."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto
from aiogram.types import MessageEntity
from sqlalchemy import func, select

from storage.models import Agency, AuditLog, Broadcast, Citizen, Outbox, Report
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import fsm

ADMIN_ID = 9000


def data_with(sent, prefix: str) -> str:
    for _label, data in sent.buttons:
        if data and data.startswith(prefix):
            return data
    raise AssertionError(f"no {prefix} button in {sent.buttons}")


async def add_citizens(h: Harness, n: int = 3) -> None:
    async with h.app.session_factory() as s:
        for i in range(n):
            s.add(Citizen(telegram_id=5000 + i, first_name=f"W{i}", consent_at=datetime.now(UTC)))
        await s.commit()


async def test_broadcast_compose_preview_confirm_and_stop(tmp_path):
    async with Harness.create(tmp_path) as h:
        await add_citizens(h)
        admin = h.user(ADMIN_ID, "Admin")
        await h.send(admin, "/umumkan")
        await h.send_message(admin, text="Jalan ditutup besok",
                             entities=[MessageEntity(type="bold", offset=0, length=5)])
        await h.press(admin, h.last(admin), data_with(h.last(admin), "bca:citizens"))
        sent = [r for r in h.requests if isinstance(r, SendMessage) and r.chat_id == ADMIN_ID]
        # The preview is the recipients' message itself, formatting kept.
        assert sent[-2].text == "<b>Jalan</b> ditutup besok"
        assert "3" in sent[-1].text
        mark = h.mark()
        cq = await h.press(admin, h.last(admin), data_with(h.last(admin), "bcc:send"))
        assert h.answered(cq) is not None
        async with h.app.session_factory() as s:
            rows = (await s.scalars(select(Outbox).where(Outbox.group_key == "broadcast:1"))).all()
            assert sorted(r.chat_id for r in rows) == [5000, 5001, 5002]
            assert rows[0].payload["text"] == "<b>Jalan</b> ditutup besok"
        progress = [r for r in h.since(mark) if isinstance(r, SendMessage)][-1]
        stop = next(b.callback_data for row in progress.reply_markup.inline_keyboard for b in row)
        assert stop.startswith("bcs:")

        # A second tap on "send" is refused, not a second broadcast.
        cq2 = await h.press(admin, 77, "bcc:send")
        assert h.answered(cq2).show_alert
        # A citizen forging the stop button is turned away.
        mallory = h.user(6666, "Mallory")
        cq3 = await h.press(mallory, 77, stop)
        assert h.answered(cq3) is not None
        async with h.app.session_factory() as s:
            assert (await s.get(Broadcast, 1)).status == "sending"
            assert await s.scalar(select(func.count()).select_from(Broadcast)) == 1

        cq4 = await h.press(admin, 77, stop)
        assert h.answered(cq4) is not None and not h.answered(cq4).show_alert
        async with h.app.session_factory() as s:
            assert (await s.get(Broadcast, 1)).status == "stopped"
            actions = (await s.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
            assert actions == ["broadcast", "broadcast_stop"]
        assert any(isinstance(r, EditMessageText) and r.reply_markup is None for r in h.since(mark))

        await h.send(admin, "/umumkan_riwayat")
        assert "#1" in h.last_text(admin)


async def test_all_citizens_reaches_citizens_only_and_the_preview_says_how_many(tmp_path):
    """Issue 14: the coordinator and the officers talk to the bot too (they have citizen rows,
    with consent); "Semua warga" reaches neither, and the preview's count is what is sent."""
    from storage.models import Officer

    async with Harness.create(tmp_path) as h:
        now = datetime.now(UTC)
        async with h.app.session_factory() as s:
            agency = Agency(name="Dinas PUPR", kind="opd")
            people = [Citizen(telegram_id=ADMIN_ID, first_name="Admin", consent_at=now),
                      Citizen(telegram_id=5000, first_name="Warga", consent_at=now)]
            officers = [Citizen(telegram_id=6000 + i, first_name=f"P{i}", consent_at=now) for i in range(30)]
            s.add_all([agency, *people, *officers])
            await s.flush()
            s.add_all([Officer(agency_id=agency.id, citizen_id=o.id, bound_at=now) for o in officers])
            await s.commit()
        admin = h.user(ADMIN_ID, "Admin")
        await h.send(admin, "/umumkan")
        await h.send(admin, "Posyandu buka hari Sabtu")
        await h.press(admin, h.last(admin), data_with(h.last(admin), "bca:citizens"))
        assert "1 penerima" in h.last_text(admin), h.last_text(admin)
        await h.press(admin, h.last(admin), data_with(h.last(admin), "bcc:send"))
        async with h.app.session_factory() as s:
            rows = (await s.scalars(select(Outbox).where(Outbox.group_key == "broadcast:1"))).all()
            assert [r.chat_id for r in rows] == [5000]
            assert (await s.get(Broadcast, 1)).total == 1


async def test_citizen_cannot_use_admin_commands(tmp_path):
    async with Harness.create(tmp_path) as h:
        mallory = h.user(6666, "Mallory")
        for command in ("/umumkan", "/statistik", "/ekspor 2024 csv", "/audit", "/instansi"):
            mark = h.mark()
            await h.send(mallory, command)
            assert not any(isinstance(r, (SendPhoto, SendDocument)) for r in h.since(mark))
        async with h.app.session_factory() as s:
            assert await s.scalar(select(func.count()).select_from(AuditLog)) == 0
        cq = await h.press(mallory, 5, "expf:2024:csv")
        assert h.answered(cq) is not None
        assert not any(isinstance(r, SendDocument) for r in h.requests)
        # /statistik's "per agency" button, forged: an alert, no figures.
        mark = h.mark()
        cq = await h.press(mallory, 5, "stag:2024")
        assert h.answered(cq).show_alert and not [r for r in h.since(mark) if isinstance(r, SendMessage)]


# Every command of the admin and officer audiences; a citizen gets the generic pointer instead.
STAFF_COMMANDS = ("/umumkan", "/umumkan_riwayat", "/statistik", "/ekspor 2024", "/audit", "/instansi",
                  "/verifikasi", "/undang", "/petugas", "/kotak")


async def test_staff_commands_from_a_citizen_open_nothing(tmp_path):
    async with Harness.create(tmp_path) as h:
        mallory = h.user(6666, "Mallory")
        async with h.app.session_factory() as s:
            s.add(Citizen(telegram_id=mallory.id, first_name="Mallory", consent_at=datetime.now(UTC)))
            await s.commit()
        for command in STAFF_COMMANDS:
            mark = h.mark()
            await h.send(mallory, command)
            replies = [r.text for r in h.since(mark) if isinstance(r, SendMessage)]
            # No compose prompt, no queue, no form step: the catch-all's pointer, and nothing else.
            assert len(replies) == 1 and "tidak saya pahami" in replies[0], (command, replies)
            assert await fsm(h, mallory) == (None, {}), command


async def test_statistics_export_directory_and_audit(tmp_path):
    async with Harness.create(tmp_path) as h:
        async with h.app.session_factory() as s:
            c = Citizen(telegram_id=5100, first_name="Budi", consent_at=datetime.now(UTC))
            a = Agency(name="Dinas PUPR", kind="opd")
            s.add_all([c, a])
            await s.flush()
            s.add(Report(tracking_id="LPR-X1", citizen_id=c.id, classification="complaint",
                         title="t", body="b", privacy="anonymous", status="in_progress",
                         agency_id=a.id, submitted_at=datetime(2024, 3, 4, 2, tzinfo=UTC),
                         assigned_at=datetime(2024, 3, 5, 2, tzinfo=UTC)))
            await s.commit()
        admin = h.user(ADMIN_ID, "Admin", username="kominfo")

        mark = h.mark()
        await h.send(admin, "/statistik 2024")
        # The figures at once, the agencies on demand behind a button; the chart after them.
        sent = h.since(mark)
        assert [type(r).__name__ for r in sent] == ["SendMessage", "SendPhoto"]
        assert "Statistik 2024" in sent[0].text and "Diterima <b>1</b>" in sent[0].text
        assert "Dinas PUPR" not in sent[0].text and sent[1].caption == "Statistik 2024"
        per_agency = next(b.callback_data for row in sent[0].reply_markup.inline_keyboard for b in row)
        assert per_agency == "stag:2024"
        mark = h.mark()
        cq = await h.press(admin, 1, per_agency)
        assert h.answered(cq) is not None and not h.answered(cq).show_alert
        texts = [r.text for r in h.since(mark) if isinstance(r, SendMessage)]
        assert len(texts) == 1 and "<b>Dinas PUPR</b>\nditerima 1 · selesai 0 (0%) · tunggakan 1" in texts[0]
        # A forged year is refused with an alert, nothing computed or sent.
        mark = h.mark()
        cq = await h.press(admin, 1, "stag:1890")
        assert h.answered(cq).show_alert and not [r for r in h.since(mark) if isinstance(r, SendMessage)]

        await h.send(admin, "/statistik 1890")
        assert "2000" in h.last_text(admin)

        mark = h.mark()
        await h.send(admin, "/ekspor 2024")
        cq = await h.press(admin, h.last(admin), data_with(h.last(admin), "expf:2024:csv"))
        assert h.answered(cq) is not None
        docs = [r for r in h.since(mark) if isinstance(r, SendDocument)]
        assert len(docs) == 1
        content = docs[0].document.data.decode("utf-8-sig")
        assert "LPR-X1" in content and "Budi" not in content  # anonymous

        await h.send(admin, "/instansi")
        listing = h.last(admin)
        assert "Dinas PUPR" in listing.text
        cq = await h.press(admin, listing, data_with(listing, "dira:"))
        assert h.answered(cq) is not None
        detail = h.last(admin)
        assert data_with(detail, "invp:")  # invite from the agency's page

        await h.send(admin, "/audit")
        audit_text = h.last_text(admin)
        assert "@kominfo" in audit_text and "mengekspor laporan yang masuk tahun 2024 (CSV, 1 baris)" in audit_text
        assert "export:" not in audit_text


async def test_photo_announcement_to_one_agency_preview_is_a_photo(tmp_path):
    from storage.models import Officer

    async with Harness.create(tmp_path) as h:
        async with h.app.session_factory() as s:
            o = Citizen(telegram_id=5300, first_name="Petugas")
            a = Agency(name="Dinas Kesehatan", kind="opd")
            s.add_all([o, a])
            await s.flush()
            s.add(Officer(agency_id=a.id, citizen_id=o.id, bound_at=datetime.now(UTC)))
            await s.commit()
        admin = h.user(ADMIN_ID, "Admin")
        await h.send(admin, "/umumkan")
        await h.send_photo(admin, caption="Rapat <penting>")
        await h.press(admin, h.last(admin), data_with(h.last(admin), "bca:agency"))
        await h.press(admin, h.last(admin), data_with(h.last(admin), "bcag:"))
        photos = [r for r in h.requests if isinstance(r, SendPhoto) and r.chat_id == ADMIN_ID]
        assert len(photos) == 1 and photos[0].caption == "Rapat &lt;penting&gt;"
        await h.press(admin, h.last(admin), data_with(h.last(admin), "bcc:send"))
        async with h.app.session_factory() as s:
            rows = (await s.scalars(select(Outbox))).all()
        assert [(r.chat_id, r.method) for r in rows] == [(5300, "sendPhoto")]
