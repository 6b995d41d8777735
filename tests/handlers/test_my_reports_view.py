"""/laporan, opening a report, /status and forged buttons, through the dispatcher."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiogram.methods import EditMessageText, SendMessage

from bot.domain.tracking import new_tracking_id
from bot.ui.citizen_callbacks import MyReportsPageCb, OpenMyReportCb
from bot.ui.render import utf16_len
from storage.models import Agency, Citizen, Report, ReportEvent
from tests.handlers.harness import Harness

BASE = datetime(2024, 5, 21, 1, 30, tzinfo=UTC)  # 09:30 WITA


async def _citizen(h: Harness, telegram_id: int, language: str = "id") -> int:
    async with h.app.session_factory() as s:
        row = Citizen(telegram_id=telegram_id, first_name="X", language=language, consent_at=BASE)
        s.add(row)
        await s.commit()
        return row.id


async def _reports(h: Harness, citizen_id: int, n: int, **fields) -> list[Report]:
    rows = []
    async with h.app.session_factory() as s:
        for i in range(n):
            values = dict(
                tracking_id=new_tracking_id(),
                citizen_id=citizen_id,
                classification="complaint",
                title=f"Laporan nomor {i + 1}",
                body="Isi laporan",
                privacy="public",
                status="submitted",
                submitted_at=BASE + timedelta(hours=i),
                verify_due=date(2024, 5, 24),
            )
            values.update(fields)
            rows.append(Report(**values))
        s.add_all(rows)
        await s.commit()
    return rows


def _sent_since(h: Harness, mark: int, chat_id: int) -> list:
    return [
        r
        for r in h.since(mark)
        if isinstance(r, (SendMessage, EditMessageText)) and str(r.chat_id) == str(chat_id)
    ]


async def test_laporan_pages_through_twelve_reports_newest_first(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        cid = await _citizen(h, 1001)
        reports = await _reports(h, cid, 12)
        newest_first = [r.tracking_id for r in reversed(reports)]

        await h.send(alice, "/laporan")
        page1 = h.last(alice)
        assert "(12)" in page1.text and "halaman 1 dari 3" in page1.text
        assert "Menunggu verifikasi" in page1.text
        assert "Diverifikasi paling lambat Jumat, 24 Mei 2024" in page1.text
        shown = [t for t in newest_first if t in page1.text]
        assert shown == newest_first[:5]
        # Listed in order: positions in the text increase.
        assert sorted(shown, key=page1.text.index) == newest_first[:5]
        opens = [d for _, d in page1.buttons if d.startswith("myrep:")]
        assert len(opens) == 5
        nav = [label for label, d in page1.buttons if d.startswith("mine:")]
        assert nav == ["Lebih lama ▶️"]

        cq = await h.press(alice, page1, page1.button("Lebih lama"))
        assert h.answered(cq) is not None
        page2 = h.last(alice)
        assert page2.method == "EditMessageText"
        assert [t for t in newest_first if t in page2.text] == newest_first[5:10]
        assert [label for label, d in page2.buttons if d.startswith("mine:")] == [
            "◀️ Lebih baru",
            "Lebih lama ▶️",
        ]

        await h.press(alice, page2, page2.button("Lebih lama"))
        page3 = h.last(alice)
        assert [t for t in newest_first if t in page3.text] == newest_first[10:]
        assert "halaman 3 dari 3" in page3.text
        assert [label for label, d in page3.buttons if d.startswith("mine:")] == ["◀️ Lebih baru"]

        # A stale "next" past the end lands on the last page instead of an empty one.
        cq = await h.press(alice, page3, MyReportsPageCb(page=9).pack())
        assert h.answered(cq) is not None
        assert [t for t in newest_first if t in h.last_text(alice)] == newest_first[10:]


async def test_laporan_without_reports_points_to_lapor(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await h.send(alice, "/laporan")
        assert "/lapor" in h.last_text(alice) and h.last(alice).buttons == []


async def test_opening_a_report_shows_the_card_and_a_plain_timeline(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        cid = await _citizen(h, 1001)
        async with h.app.session_factory() as s:
            officer = Citizen(telegram_id=5005, first_name="Budi", last_name="Santoso")
            agency = Agency(name="Dinas PUPR & Tata Ruang", kind="opd")
            s.add_all([officer, agency])
            await s.commit()
            officer_id, agency_id = officer.id, agency.id
        (report,) = await _reports(
            h,
            cid,
            1,
            title="Jalan <rusak> & berlubang",
            body="Lubang besar di <Jl. Propinsi>",
            status="answered",
            privacy="anonymous",
            agency_id=agency_id,
            location_text="Km 5",
            incident_date=date(2024, 5, 20),
            reply_due=date(2024, 6, 7),
        )
        async with h.app.session_factory() as s:
            s.add_all(
                [
                    ReportEvent(
                        report_id=report.id,
                        created_at=BASE,
                        actor_role="citizen",
                        actor_citizen_id=cid,
                        kind="submitted",
                        to_status="submitted",
                    ),
                    ReportEvent(
                        report_id=report.id,
                        created_at=BASE + timedelta(days=1),
                        actor_role="admin",
                        actor_citizen_id=None,
                        agency_id=agency_id,
                        kind="assigned",
                        to_status="assigned",
                    ),
                    ReportEvent(
                        report_id=report.id,
                        created_at=BASE + timedelta(days=1, hours=1),
                        actor_role="admin",
                        kind="note",
                        note="INTERNAL: pelapor sering lapor",
                    ),
                    ReportEvent(
                        report_id=report.id,
                        created_at=BASE + timedelta(days=2),
                        actor_role="officer",
                        actor_citizen_id=officer_id,
                        agency_id=agency_id,
                        kind="answered",
                        to_status="answered",
                        note="Sudah ditambal <hari ini>",
                    ),
                ]
            )
            await s.commit()

        await h.send(alice, "/laporan")
        mark = h.mark()
        cq = await h.press(alice, h.last(alice), OpenMyReportCb(report_id=report.id, page=0).pack())
        assert h.answered(cq) is not None and not h.answered(cq).show_alert
        text = "\n".join(r.text for r in _sent_since(h, mark, 1001))
        assert report.tracking_id in text
        assert "Jalan &lt;rusak&gt; &amp; berlubang" in text
        assert "Lubang besar di &lt;Jl. Propinsi&gt;" in text
        assert "Sudah dijawab" in text
        assert "Anda dapat menanggapi sampai Jumat, 7 Juni 2024" in text
        assert "Anonim" in text
        assert "Dinas PUPR &amp; Tata Ruang" in text
        assert "Senin, 20 Mei 2024" in text and "Km 5" in text
        # Timeline: who in plain words, local time, the answer shown; no officer name, no
        # internal note.
        assert "21 Mei 2024 09.30 WITA" in text
        assert "<b>Anda</b>: Laporan dikirim" in text
        assert "<b>Admin LAPOR!</b>: Diteruskan ke Dinas PUPR &amp; Tata Ruang" in text
        assert "<b>Dinas PUPR &amp; Tata Ruang</b>: Menjawab laporan" in text
        assert "Sudah ditambal &lt;hari ini&gt;" in text
        assert "Budi" not in text and "Santoso" not in text
        assert "INTERNAL" not in text
        back = h.last(alice)
        assert back.button("Kembali") == MyReportsPageCb(page=0).pack()


async def test_unassigned_report_says_so_and_long_content_is_split(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        cid = await _citizen(h, 1001)
        body = ("Air PDAM <keruh> & bau. " * 400).strip()  # ~9,600 characters before escaping
        (report,) = await _reports(h, cid, 1, body=body)

        mark = h.mark()
        await h.send(alice, f"/status {report.tracking_id}")
        sent = _sent_since(h, mark, 1001)
        assert len(sent) >= 3
        assert all(utf16_len(m.text) <= 4096 for m in sent)
        assert "<b>Instansi:</b> belum ditentukan" in sent[0].text
        joined = "\n".join(m.text for m in sent)
        # Split at spaces: no word of the body lost or cut.
        assert joined.count("&lt;keruh&gt;") == 400 and joined.count("&amp; bau.") == 400
        # Only the last message carries the back button.
        assert sent[-1].reply_markup is not None
        assert all(m.reply_markup is None for m in sent[:-1])


async def test_status_own_other_missing_and_malformed(tmp_path):
    async with Harness.create(tmp_path) as h:
        alice, bob = h.user(1001, "Alice"), h.user(1002, "Bob")
        alice_id = await _citizen(h, 1001)
        await _citizen(h, 1002)
        (mine,) = await _reports(h, alice_id, 1, title="Punya Alice")

        # Own report: lower case and no dashes are fine.
        compact = mine.tracking_id.replace("-", "").lower()
        await h.send(alice, f"/status {compact}")
        assert mine.tracking_id in h.last_text(alice) and "Punya Alice" in h.last_text(alice)

        # Someone else's and a well-formed but unknown one read the same.
        await h.send(bob, f"/status {mine.tracking_id}")
        other = h.last(bob)
        missing_id = new_tracking_id()
        await h.send(bob, f"/status {missing_id}")
        missing = h.last(bob)
        assert "Punya Alice" not in other.text
        assert other.text.replace(mine.tracking_id, "ID") == missing.text.replace(missing_id, "ID")
        assert other.reply_markup == missing.reply_markup

        # Malformed: told so, differently.
        await h.send(bob, "/status LPR-0000")
        malformed = h.last_text(bob)
        assert "tidak tampak seperti nomor pelacakan" in malformed
        assert malformed != missing.text

        await h.send(bob, "/status")
        assert "/status" in h.last_text(bob) and "/laporan" in h.last_text(bob)


async def test_forged_open_button_for_another_citizens_report_is_refused(tmp_path):
    async with Harness.create(tmp_path) as h:
        bob = h.user(1002, "Bob")
        alice_id = await _citizen(h, 1001)
        await _citizen(h, 1002)
        (alices,) = await _reports(h, alice_id, 1, title="Rahasia Alice")

        mark = h.mark()
        cq = await h.press(bob, 77, OpenMyReportCb(report_id=alices.id, page=0).pack())
        answer = h.answered(cq)
        assert answer is not None and answer.show_alert
        assert answer.text == "Laporan ini tidak tersedia."
        leaked = [
            r
            for r in _sent_since(h, mark, 1002)
            if alices.tracking_id in r.text or "Rahasia Alice" in r.text
        ]
        assert leaked == []
        # A report id that does not exist gets the very same answer.
        cq2 = await h.press(bob, 77, OpenMyReportCb(report_id=99999, page=0).pack())
        assert h.answered(cq2).text == answer.text
