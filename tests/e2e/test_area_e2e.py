"""Issue 13 end to end (the kecamatan above its villages, citizen settings, template drafts): the
real ``lapor-bot run`` process over the local Bot API server, one start.

A citizen files an anonymous complaint to Kelurahan Nipah-Nipah (Kecamatan Penajam); the admin
assigns it. Its follow-up deadline is then moved into the past in the database (waiting working
days is not an option): the officer of Kecamatan Penajam finds it in /kotak under "Terlambat di
kelurahan/desa", opens a read-only card (no casework buttons, no reporter) and reminds the
village, whose officer is told; the officer of Kecamatan Waru sees nothing of it. A second citizen
with a report in Penajam switches announcements off in /pengaturan; an area announcement to
Kecamatan Penajam then reaches the reporter only (not the one who switched off, not a third
citizen whose report is in Waru). Last, the village officer answers with a template, taps "Ubah",
sends their own words and confirms: the reporter reads those words, not the template's.

The two bystanders' reports are written straight into the database (filing through /lapor is
covered by test_casework_e2e and test_intake_e2e, and costs seconds each).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.domain.workdays import DEFAULT_TZ, WorkCalendar
from storage.models import Agency, Broadcast, Citizen, Outbox, Report, ReportEvent
from tests.e2e.actors import (
    ADMIN_ID,
    NO_QUIET_HOURS,
    admin_assigns,
    db,
    file_anonymous_report,
    import_agencies,
    load_report,
    make_officer,
    onboard,
    person,
    requests_to,
    texts_to,
    wait_text,
)
from tests.e2e.chat import Chatter

pytestmark = pytest.mark.e2e

REPORTER_ID, OFF_ID, ELSEWHERE_ID = 870_455_401, 870_455_402, 870_455_403
VILLAGE_ID, PENAJAM_ID, WARU_ID = 6401, 6402, 6403
FIRST, LAST, USERNAME = "Zubaidah", "Kertanegoro", "zk_rahasia_77"
NIPAH = "Kelurahan Nipah-Nipah"
FAST = {**NO_QUIET_HOURS, "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0.2"}
ANNOUNCEMENT = "Pemadaman air di Kecamatan Penajam hari Sabtu 08.00-12.00"
TEMPLATE_WORDS = "Keluhan Anda sudah kami tindak lanjuti."
MINE = "Pipa di RT 07 sudah diganti <hari ini> & air kembali jernih."


@pytest.fixture
async def bot(api_server, bot_process):
    bot_process.extra_env.update(FAST)
    await bot_process.start()
    import_agencies(bot_process)
    return bot_process


def _seed_bystander_reports(tmp_path) -> None:
    """An in-time assigned report of the second citizen in Kelurahan Petung (Penajam), one of the
    third in Kelurahan Waru (another kecamatan)."""
    now = datetime.now(UTC)
    today = WorkCalendar(DEFAULT_TZ).today()
    with db(tmp_path) as s:
        for n, (citizen_tid, agency_name) in enumerate(
                ((OFF_ID, "Kelurahan Petung"), (ELSEWHERE_ID, "Kelurahan Waru")), start=1):
            citizen_id = s.scalar(select(Citizen.id).where(Citizen.telegram_id == citizen_tid))
            agency_id = s.scalar(select(Agency.id).where(Agency.name == agency_name))
            assert citizen_id and agency_id, (citizen_tid, agency_name)
            s.add(Report(tracking_id=f"LPR-SEED-000{n}", citizen_id=citizen_id, classification="complaint",
                         title="Jalan berlubang", body="Lubang besar di depan sekolah.", privacy="public",
                         status="assigned", agency_id=agency_id, submitted_at=now, assigned_at=now,
                         followup_due=today + timedelta(days=5)))
        s.commit()


def _callbacks(chat: Chatter, message_id: int) -> list[str]:
    msg = next(m for m in chat.messages() if m.message_id == message_id)
    return [b.get("callback_data", "") for row in msg.inline_keyboard for b in row]


async def test_kecamatan_oversight_area_announcement_and_an_edited_template(api_server, bot, tmp_path):
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    village = person(api_server, VILLAGE_ID, "Vina")
    penajam = person(api_server, PENAJAM_ID, "Camat Penajam")
    waru = person(api_server, WARU_ID, "Camat Waru")
    reporter = person(api_server, REPORTER_ID, FIRST, last_name=LAST, username=USERNAME)
    switched_off = person(api_server, OFF_ID, "Sari")
    elsewhere = person(api_server, ELSEWHERE_ID, "Wawan")
    await make_officer(admin, village, "Nipah", "Nipah-Nipah")
    await make_officer(admin, penajam, "Kecamatan Penajam", "Kecamatan Penajam")
    await make_officer(admin, waru, "Kecamatan Waru", "Kecamatan Waru")
    for citizen in (reporter, switched_off, elsewhere):
        await onboard(citizen)

    tid = await file_anonymous_report(
        reporter, title="Air keruh di RT 07", body="Sudah seminggu air keruh dan berbau di RT 07 Nipah-Nipah.",
        agency_query="Nipah", agency_button="Nipah-Nipah")
    await wait_text(api_server, ADMIN_ID, tid)
    await admin_assigns(admin, tid, "Nipah-Nipah")
    await wait_text(api_server, VILLAGE_ID, "Air keruh di RT 07")
    assert load_report(tmp_path, tid).status == "assigned"
    _seed_bystander_reports(tmp_path)
    with db(tmp_path) as s:
        s.execute(update(Report).where(Report.tracking_id == tid)
                  .values(followup_due=WorkCalendar(DEFAULT_TZ).today() - timedelta(days=3)))
        s.commit()

    # -- 1. the kecamatan sees its village's overdue report, read-only, and reminds the village --
    await penajam.say("/kotak")
    await penajam.tap("Terlambat di kelurahan/desa: 1")
    listing = penajam.last_text()
    assert "Terlambat di kelurahan/desa kecamatan Anda" in listing, listing
    labels = " ".join(b["text"] for b in penajam.messages()[-1].inline_keyboard[0])
    assert tid in labels and NIPAH in labels, labels
    await penajam.tap(tid)
    card = penajam.messages()[-1]
    assert "Hanya lihat" in penajam.texts() and tid in penajam.texts()
    # Look and remind only: every button is the kecamatan's own (kc:), none of the casework's.
    buttons = _callbacks(penajam, card.message_id)
    assert buttons and all(data.startswith("kc:") for data in buttons), buttons
    answer = await penajam.tap("Ingatkan")
    assert tid in (answer.get("text") or "") and "sudah diingatkan" in answer["text"], answer
    reminder = await wait_text(api_server, VILLAGE_ID, "Kecamatan Penajam mengingatkan")
    assert tid in reminder
    # The other kecamatan has no village overdue: no such button, nothing of the report.
    await waru.say("/kotak")
    assert "Terlambat di kelurahan/desa" not in json.dumps(
        [m.inline_keyboard for m in waru.messages()], ensure_ascii=False)
    assert all(tid not in t for t in texts_to(api_server, WARU_ID))
    # An anonymous reporter stays anonymous to the kecamatan.
    dump = json.dumps([r.params for r in requests_to(api_server, PENAJAM_ID)], ensure_ascii=False).lower()
    for secret in (FIRST, LAST, USERNAME, str(REPORTER_ID)):
        assert secret.lower() not in dump, f"{secret!r} reached the kecamatan"

    # -- 2. one citizen switches announcements off; an area announcement skips them -------------
    await switched_off.say("/pengaturan")
    assert "Pengumuman dari koordinator: aktif" in switched_off.last_text()
    await switched_off.tap("Matikan pengumuman")
    assert "Pengumuman dari koordinator: nonaktif" in switched_off.last_text()
    with db(tmp_path) as s:
        assert s.scalar(select(Citizen.announcements_off_at).where(Citizen.telegram_id == OFF_ID)) is not None

    await admin.say("/umumkan")
    await admin.say(ANNOUNCEMENT)
    await admin.tap("Warga satu kecamatan atau desa")
    await admin.tap("Kecamatan Penajam")
    await admin.tap("Seluruh Kecamatan Penajam")
    preview = await api_server.wait_until(
        lambda: next((t for t in texts_to(api_server, ADMIN_ID) if "penerima" in t and "Penajam" in t), None),
        timeout=20)
    assert "1 penerima" in preview, preview
    await admin.tap("Kirim ke 1")
    await wait_text(api_server, REPORTER_ID, ANNOUNCEMENT)
    with db(tmp_path) as s:
        broadcast_id = s.scalar(select(Broadcast.id).order_by(Broadcast.id.desc()))
        queued = sorted(s.scalars(select(Outbox.chat_id).where(Outbox.group_key == f"broadcast:{broadcast_id}")))
    assert queued == [REPORTER_ID], queued
    for other in (OFF_ID, ELSEWHERE_ID, VILLAGE_ID, PENAJAM_ID):
        assert all(ANNOUNCEMENT not in t for t in texts_to(api_server, other)), other

    # -- 3. a template opens as a draft; the officer's edited words are what the reporter reads --
    saved = await village.say(f"/templat Sudah ditindaklanjuti | {TEMPLATE_WORDS}")
    assert "disimpan" in saved, saved
    await village.tap("Tanggapi")
    await village.tap("Sudah ditindaklanjuti")
    assert TEMPLATE_WORDS in village.last_text()
    await village.tap("Ubah")
    await village.say(MINE)
    assert "Versi Anda" in village.last_text() and MINE in village.last_text()
    assert load_report(tmp_path, tid).status == "assigned"  # nothing sent before confirming
    await village.tap("Kirim")
    answer_text = await wait_text(api_server, REPORTER_ID, "menanggapi laporan Anda")
    assert MINE in answer_text and TEMPLATE_WORDS not in answer_text, answer_text
    assert all(TEMPLATE_WORDS not in t for t in texts_to(api_server, REPORTER_ID))
    assert load_report(tmp_path, tid).status == "answered"
    with db(tmp_path) as s:
        notes = list(s.scalars(select(ReportEvent.note).join(Report, Report.id == ReportEvent.report_id)
                               .where(Report.tracking_id == tid, ReportEvent.kind == "answered")))
    assert notes == [MINE], notes

    assert api_server.violations == [], api_server.violations
