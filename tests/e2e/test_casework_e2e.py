"""Issue #3 end to end: the real ``lapor-bot run`` process, over the local Bot API server.

Citizen files (anonymous, with a photo) → admin assigns from /verifikasi → the officer bound by
a real invite link asks, the citizen answers, the officer answers, the citizen rates; then
re-routing ("Bukan wewenang") and a reopen ("Belum selesai"). Every officer-bound request of the
anonymous report is searched for the reporter's identity. At verification (issue 13): the admin
archives a report with a reason the citizen reads, and marks a complaint as supervisory.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.domain import deadlines
from bot.domain.workdays import DEFAULT_TZ, WorkCalendar
from storage.models import Agency
from tests.e2e.actors import (
    ADMIN_ID,
    NO_QUIET_HOURS,
    PDAM,
    PUPR,
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
    timeline,
    wait_text,
)
from tests.e2e.botprocess import BotProcess
from tests.e2e.chat import Chatter

pytestmark = pytest.mark.e2e

# Distinctive identity of the anonymous reporter: none of it may reach an officer.
REPORTER_ID = 870_455_123
FIRST, LAST, USERNAME = "Zubaidah", "Kertanegoro", "zk_rahasia_77"
FAST = {**NO_QUIET_HOURS, "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0.2"}


@pytest.fixture
async def bot(api_server, tmp_path):
    person(api_server, ADMIN_ID, "Admin")  # has talked to the bot before
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", tmp_path, extra_env=FAST)
    try:
        await proc.start()
        import_agencies(proc)
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.stop()


async def _filed_and_assigned(api_server, tmp_path) -> tuple[Chatter, Chatter, Chatter, str]:
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    officer = person(api_server, 6101, "Oki", username="oki_pdam")
    citizen = person(api_server, REPORTER_ID, FIRST, last_name=LAST, username=USERNAME)
    await make_officer(admin, officer, "PDAM", "Danum Taka")
    await onboard(citizen)
    tid = await file_anonymous_report(
        citizen, title="Air PDAM keruh di RT 07", body="Sudah seminggu air PDAM keruh dan berbau di RT 07 Nipah-Nipah.",
    )
    await wait_text(api_server, ADMIN_ID, tid)  # the admin's "new report" notice
    await admin_assigns(admin, tid, "Danum Taka")  # the citizen's choice, offered first
    assert load_report(tmp_path, tid).status == "assigned"
    return admin, officer, citizen, tid


async def test_full_path_file_assign_ask_answer_rate(api_server, bot, tmp_path):
    admin, officer, citizen, tid = await _filed_and_assigned(api_server, tmp_path)

    # The officer's notification: the card with its buttons, and the photo: downloaded from the
    # Bot API server, cleaned and uploaded anew under a neutral name (an anonymous report).
    card = await wait_text(api_server, officer.user.id, "Air PDAM keruh di RT 07")
    assert tid in card and "ANONIM" in card
    citizen_photo = next(m for m in api_server.chat(REPORTER_ID) if not m.from_bot and m.kind == "photo")
    sent_photo = await api_server.wait_until(lambda: next(
        (r for r in requests_to(api_server, officer.user.id) if r.method == "sendPhoto" and r.ok), None))
    assert sent_photo.params["photo"] != citizen_photo.media["photo"][-1]["file_id"]
    uploads = [v for v in sent_photo.params.values() if isinstance(v, dict) and "upload" in v]
    assert [u["upload"] for u in uploads] == [f"{tid}-1.jpg"]
    assert any(r.method == "getFile" and r.ok for r in api_server.requests("getFile"))
    assert tid in (sent_photo.params.get("caption") or "")
    update = await wait_text(api_server, REPORTER_ID, "diteruskan ke")
    assert PDAM in update and tid in update and "paling lambat" in update  # what, who, by when

    # Minta info → the citizen answers in the chat → the officer reads the answer.
    await officer.tap("Minta info")
    await officer.say("Di rumah nomor berapa tepatnya?")
    question = await wait_text(api_server, REPORTER_ID, "membutuhkan informasi tambahan")
    assert PDAM in question and "Di rumah nomor berapa tepatnya?" in question
    assert load_report(tmp_path, tid).status == "awaiting_reporter"
    await citizen.say("Rumah nomor 12, dekat musala")
    relayed = await wait_text(api_server, officer.user.id, "Rumah nomor 12, dekat musala")
    assert tid in relayed
    assert load_report(tmp_path, tid).status == "in_progress"

    # Tanggapi → the citizen gets the answer → Puas, 5 stars.
    await officer.tap("Tanggapi")
    await officer.say("Pipa bocor di RT 07 sudah diganti, air kembali jernih.")
    answer = await wait_text(api_server, REPORTER_ID, "menanggapi laporan Anda")
    assert PDAM in answer and "Pipa bocor di RT 07 sudah diganti" in answer
    assert load_report(tmp_path, tid).status == "answered"
    await citizen.tap("Puas")
    await citizen.tap("⭐⭐⭐⭐⭐")
    thanks = await wait_text(api_server, REPORTER_ID, "Terima kasih atas penilaian Anda")
    assert tid in thanks and "selesai" in thanks
    await citizen.tap("Lewati")  # no comment
    await wait_text(api_server, officer.user.id, "5/5")

    report = load_report(tmp_path, tid)
    assert (report.status, report.rating, report.privacy) == ("closed", 5, "anonymous")
    kinds = [e.kind for e in timeline(tmp_path, tid)]
    assert kinds == ["submitted", "assigned", "info_requested", "reporter_replied", "answered", "accepted"], kinds

    # -- privacy: nothing the server received for the officer's chat names the reporter -------
    to_officer = requests_to(api_server, officer.user.id)
    assert to_officer, "the officer got nothing"
    dump = json.dumps([r.params for r in to_officer], ensure_ascii=False, default=str).lower()
    for secret in (FIRST, LAST, USERNAME, str(REPORTER_ID)):
        assert secret.lower() not in dump, f"{secret!r} leaked to the officer"
    methods = {r.method for r in to_officer}
    assert not methods & {"forwardMessage", "forwardMessages", "copyMessage", "copyMessages"}, methods
    # ...while the admin, who may know, was shown who filed it (so the check above can fail).
    admin_dump = json.dumps([r.params for r in requests_to(api_server, ADMIN_ID)], ensure_ascii=False)
    assert str(REPORTER_ID) in admin_dump and FIRST in admin_dump
    assert api_server.violations == [], api_server.violations


async def test_not_our_authority_goes_back_and_is_rerouted(api_server, bot, tmp_path):
    admin, officer, citizen, tid = await _filed_and_assigned(api_server, tmp_path)
    pupr = person(api_server, 6201, "Pupi")
    await make_officer(admin, pupr, "PUPR", "Pekerjaan Umum")
    await wait_text(api_server, officer.user.id, "Air PDAM keruh di RT 07")

    await officer.tap("Bukan wewenang")
    await officer.say("Pipa distribusi di RT 07 milik proyek jalan PUPR, bukan jaringan kami.")
    notice = await wait_text(api_server, ADMIN_ID, "bukan jaringan kami")
    assert tid in notice
    assert load_report(tmp_path, tid).status == "returned"
    told = await wait_text(api_server, REPORTER_ID, "bukan wewenangnya")
    assert PDAM in told

    # The queue shows it again, with the officer's reason on the card.
    await admin.say("/verifikasi")
    await admin.tap(tid)
    assert "bukan jaringan kami" in "\n".join(texts_to(api_server, ADMIN_ID)[-3:])
    await admin.tap("Pilih instansi")
    await admin.tap("dinas/badan")
    await admin.tap("Pekerjaan Umum")

    await wait_text(api_server, pupr.user.id, "Air PDAM keruh di RT 07")
    moved = await wait_text(api_server, REPORTER_ID, "dilimpahkan ke instansi lain")
    assert PUPR in moved
    report = load_report(tmp_path, tid)
    with db(tmp_path) as s:
        pupr_agency_id = s.scalar(select(Agency.id).where(Agency.name == PUPR))
    assert (report.status, report.agency_id) == ("assigned", pupr_agency_id)
    events = timeline(tmp_path, tid)
    assert [e.kind for e in events] == ["submitted", "assigned", "returned", "rerouted"]
    assert "bukan jaringan kami" in (events[2].note or "")
    assert api_server.violations == [], api_server.violations


async def test_not_solved_reopens_to_the_agency(api_server, bot, tmp_path):
    admin, officer, citizen, tid = await _filed_and_assigned(api_server, tmp_path)
    await wait_text(api_server, officer.user.id, "Air PDAM keruh di RT 07")
    await officer.tap("Tanggapi")
    await officer.say("Sudah kami bersihkan tandon air di RT 07.")
    await wait_text(api_server, REPORTER_ID, "menanggapi laporan Anda")

    await citizen.tap("Belum selesai")
    await citizen.say("Air masih keruh setiap pagi.")
    back = await wait_text(api_server, officer.user.id, "Air masih keruh setiap pagi.")
    assert tid in back
    told = await wait_text(api_server, REPORTER_ID, "dibuka kembali")
    assert PDAM in told
    report = load_report(tmp_path, tid)
    assert (report.status, report.reopened_count, report.reply_due) == ("in_progress", 1, None)
    assert [e.kind for e in timeline(tmp_path, tid)][-2:] == ["answered", "disputed"]
    assert api_server.violations == [], api_server.violations


async def test_a_supervisory_complaint_shows_its_60_days_and_an_archive_tells_the_citizen_why(
        api_server, bot, tmp_path):
    """One report, to stay short: marked supervisory at verification, then archived."""
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    citizen = person(api_server, REPORTER_ID, FIRST, last_name=LAST, username=USERNAME)
    await onboard(citizen)
    tid = await file_anonymous_report(
        citizen, title="Pungutan liar di kantor desa", body="Petugas meminta uang tambahan untuk surat pengantar KTP.")
    await wait_text(api_server, ADMIN_ID, tid)

    # Berkadar pengawasan: the card then shows the 60-working-day ceiling and its date.
    await admin.say("/verifikasi")
    await admin.tap(tid)
    assert "Batas penyelesaian:" in admin.last_text() and "60 hari kerja" not in admin.last_text()
    answer = await admin.tap("Tandai berkadar pengawasan")
    assert "Ditandai berkadar pengawasan" in (answer.get("text") or ""), answer
    assert "Berkadar pengawasan: diselesaikan dalam 60 hari kerja" in admin.last_text()
    report = load_report(tmp_path, tid)
    assert report.supervisory and report.status == "submitted"
    calendar = WorkCalendar(DEFAULT_TZ)
    assert report.completion_due == deadlines.completion_due(report.submitted_at, "complaint", True, calendar)
    assert report.completion_due > deadlines.completion_due(report.submitted_at, "complaint", False, calendar)

    # Arsipkan: a reason, then the admin's own note; the citizen reads both, as typed.
    await admin.tap("Arsipkan")
    await admin.tap("Sudah selesai")
    done = await admin.say("Sudah ditangani Inspektorat <kasus 12/2024>.")
    assert tid in done and "diarsipkan" in done
    told = await wait_text(api_server, REPORTER_ID, "Laporan Anda diarsipkan")
    assert tid in told and "Sudah selesai. Sudah ditangani Inspektorat <kasus 12/2024>." in told
    assert load_report(tmp_path, tid).status == "archived"
    assert [e.kind for e in timeline(tmp_path, tid)] == ["submitted", "archived"]
    assert api_server.violations == [], api_server.violations
