"""What officers learn about the reporter. Anonymous: nothing at all. Otherwise the display name
only, never the @username or the Telegram id, with which an agency could reach or trace the
reporter outside the system (Perpres 76/2013: the complainant's identity is kept confidential)."""

from __future__ import annotations

import json

import pytest

from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, outbox_rows, seed, tap
from tests.handlers.harness import Harness

REPORTER, O1, O2 = 770_013_579, 6661, 6662
NAME = ("Zenobia", "Quartermain")
CONTACT = ("zq_secret_handle", str(REPORTER), "tg://user")


async def _officer_view(h: Harness, privacy: str) -> str:
    """Every request to the officers' chats and every outbox row for them, over a whole round
    (card, question, the reporter's answer with a photo, the answer, a dispute, /kotak)."""
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A"})
    await file_report(h, REPORTER, agency_id=ids["A"], privacy=privacy)
    await drain(h)
    admin = h.user(ADMIN, "Admin")
    await tap(h, admin, "Buka")
    # Admins do see who filed it, and how to reach them.
    admin_view = "\n".join(m.text or "" for m in h.sent_to(ADMIN))
    assert "Zenobia" in admin_view and "@zq_secret_handle" in admin_view and str(REPORTER) in admin_view
    await tap(h, admin, "Dinas Alpha")
    await drain(h)
    o1, citizen = h.user(O1, "Officer6661"), h.user(REPORTER, "Zenobia", last_name="Quartermain",
                                                       username="zq_secret_handle")
    await tap(h, o1, "Minta info")
    await h.send(o1, "Boleh kirim foto lokasinya?")
    await drain(h)
    await h.send_photo(citizen, caption="Ini fotonya")
    await drain(h)
    await tap(h, o1, "Tanggapi")
    await h.send(o1, "Sudah diperbaiki.")
    await drain(h)
    await tap(h, citizen, "Not solved")
    await h.send(citizen, "Masih berlubang di sisi kiri.")
    await drain(h)
    # Open it from /kotak too: the card and the timeline.
    await h.send(o1, "/kotak")
    await tap(h, o1, "LPR")
    await drain(h)

    officer_chats = {O1, O2}
    sent = [repr(r.model_dump()) for r in h.requests if getattr(r, "chat_id", None) in officer_chats]
    rows = [json.dumps(r.payload, ensure_ascii=False) for r in await outbox_rows(h) if r.chat_id in officer_chats]
    assert len(sent) > 10 and len(rows) > 10
    assert not any(type(r).__name__ in ("ForwardMessage", "CopyMessage") for r in h.requests)
    blob = "\n".join(sent + rows)
    assert "Masih berlubang" in blob and "Ini fotonya" in blob
    return blob


async def test_officers_never_see_an_anonymous_reporter(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        blob = await _officer_view(h, "anonymous")
    for secret in NAME + CONTACT:
        assert secret not in blob, secret


@pytest.mark.parametrize("privacy", ["public", "confidential"])
async def test_officers_see_a_named_reporters_name_but_no_way_to_reach_them(tmp_path, privacy):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        blob = await _officer_view(h, privacy)
    assert "Zenobia Quartermain" in blob
    for secret in CONTACT:
        assert secret not in blob, secret
