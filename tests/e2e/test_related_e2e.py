"""Issue 13 end to end (duplicates, walk-ins, the reporter during follow-up): the real ``lapor-bot
run`` process over the local Bot API server.

A citizen files a complaint with a pin and a voice note; the admin assigns it and the officer
gets the voice note as a voice note. A neighbour starting a report 30 m away is offered it,
follows it ("Ini masalah saya juga") instead of filing, and hears of its updates without anyone's
identity. The reporter withdraws it from /laporan with a reason: the officer, the admin and the
follower are told. Then an admin files a counter complaint with /lapor_untuk and a citizen claims
it with the code. Telegram would have rejected nothing.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.actors import (
    ADMIN_ID,
    NO_QUIET_HOURS,
    TRACKING,
    admin_assigns,
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

REPORTER_ID, NEIGHBOUR_ID, WALK_IN_ID = 870_455_301, 870_455_302, 870_455_303
FIRST, LAST, USERNAME = "Zubaidah", "Kertanegoro", "zk_rahasia_77"
PIN = (-1.2569, 116.7711)
NEAR_PIN = (-1.25663, 116.7711)  # 30 m north
FAST = {**NO_QUIET_HOURS, "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0.2"}


@pytest.fixture
async def bot(api_server, bot_process):
    """The shared ``bot_process`` (conftest), without quiet hours, with the example directory."""
    bot_process.extra_env.update(FAST)
    await bot_process.start()
    import_agencies(bot_process)
    return bot_process


async def _start_complaint(chat: Chatter, title: str, pin: tuple[float, float]) -> None:
    await chat.say("/lapor")
    await chat.tap("Pengaduan")
    await chat.say("PDAM")
    await chat.tap("Danum Taka")
    await chat.say(title)
    await chat.say("Sudah seminggu air PDAM keruh dan berbau di RT 07 Nipah-Nipah, anak-anak gatal.")
    await chat.say("21 Mei 2024")
    # Privacy before the place and the files (issue 10: an anonymous reporter is told first what
    # a map point or a file may reveal).
    await chat.tap("Biasa")
    await chat.act(chat.server.user_sends_location(chat.user, *pin))


async def test_follow_a_nearby_report_withdraw_it_and_claim_a_walk_in(api_server, bot, tmp_path):
    admin = Chatter(api_server, api_server.state.users[ADMIN_ID])
    officer = person(api_server, 6101, "Oki", username="oki_pdam")
    reporter = person(api_server, REPORTER_ID, FIRST, last_name=LAST, username=USERNAME)
    neighbour = person(api_server, NEIGHBOUR_ID, "Tetangga")
    await make_officer(admin, officer, "PDAM", "Danum Taka")
    await onboard(reporter)
    await onboard(neighbour)

    # -- filed with a voice note, assigned: the officer hears the voice note ---------------------
    await _start_complaint(reporter, "Air PDAM keruh di RT 07", PIN)
    await reporter.act(api_server.user_sends_voice(reporter.user, 4))
    await reporter.tap("Selesai")
    await reporter.tap("Kirim")
    tid = TRACKING.search(reporter.last_text()).group(0)
    await wait_text(api_server, ADMIN_ID, tid)
    await admin_assigns(admin, tid, "Danum Taka")
    # Counted from here: on main the assignment's card is settled twice (a "message is not
    # modified" edit that test_casework_e2e shows too), which is not this path's doing.
    settled = len(api_server.violations)
    await wait_text(api_server, officer.user.id, "Air PDAM keruh di RT 07")
    await api_server.wait_until(
        lambda: any(r.method.lower() == "sendvoice" for r in requests_to(api_server, officer.user.id)) or None,
        timeout=20)

    # -- the neighbour is offered the report nearby and follows it --------------------------------
    await _start_complaint(neighbour, "Air keruh juga di rumah saya", NEAR_PIN)
    offer = neighbour.last_text()
    assert tid in offer and "30 m" in offer, offer
    await neighbour.tap("Ini masalah saya juga")
    assert "Anda sekarang mengikuti" in neighbour.last_text()
    assert load_report(tmp_path, tid).supporters == 1
    await neighbour.say("/laporan")
    assert tid in neighbour.last_text()

    # -- the reporter withdraws it: officer, admin and follower are told --------------------------
    await reporter.say("/laporan")
    await reporter.tap(tid)
    await reporter.tap("Tarik laporan ini")
    await reporter.say("Sudah diperbaiki sendiri oleh warga")
    await reporter.tap("Ya, tarik laporan")
    assert "sudah ditarik" in reporter.last_text()
    assert load_report(tmp_path, tid).status == "withdrawn"
    to_officer = await wait_text(api_server, officer.user.id, "Sudah diperbaiki sendiri oleh warga")
    await wait_text(api_server, ADMIN_ID, "Sudah diperbaiki sendiri oleh warga")
    to_follower = await wait_text(api_server, NEIGHBOUR_ID, "Pelapor menarik laporan ini")
    for secret in (FIRST, LAST, USERNAME, str(REPORTER_ID)):
        assert secret not in to_officer and secret not in to_follower
        assert all(secret not in t for t in texts_to(api_server, NEIGHBOUR_ID))

    # -- a walk-in complaint filed at the counter, claimed with its code --------------------------
    await admin.say("/lapor_untuk")
    await admin.tap("Loket")
    await admin.say("Bu Siti Aminah")
    await admin.say("0812 5555 0101")
    await admin.tap("Pengaduan")
    await admin.tap("Tidak tahu")
    await admin.say("Lampu jalan mati di RT 05")
    await admin.say("Lampu jalan di depan rumah nomor 12 mati sejak seminggu, gelap sekali.")
    await admin.tap("Kemarin")
    await admin.tap("Biasa")
    await admin.say("Jl. Propinsi km 3, Penajam")
    await admin.tap("Lewati")
    await admin.tap("Kirim")
    # The receipt (the admins' "new report" notice may come after it).
    receipt = await wait_text(api_server, ADMIN_ID, "/klaim ")
    code = re.search(r"/klaim ([A-Z0-9]{10})", receipt).group(1)
    walk_in_tid = TRACKING.search(receipt).group(0)
    assert load_report(tmp_path, walk_in_tid).channel == "counter"
    walker = person(api_server, WALK_IN_ID, "Siti")
    reply = await walker.say(f"/start claim_{code}")
    assert walk_in_tid in reply and "atas nama Anda" in reply, reply
    assert "tidak berlaku" in await neighbour.say(f"/klaim {code}")

    assert api_server.violations[settled:] == [], api_server.violations
