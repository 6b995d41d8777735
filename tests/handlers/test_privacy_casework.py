"""Nothing sent to officers about an anonymous report carries the reporter's identity."""

from __future__ import annotations

import json

from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, outbox_rows, seed, tap
from tests.handlers.harness import Harness

REPORTER, O1, O2 = 770_013_579, 6661, 6662
SECRETS = ("Zenobia", "Quartermain", "zq_secret_handle", str(REPORTER))


async def test_officers_never_see_an_anonymous_reporter(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A"})
        await file_report(h, REPORTER, agency_id=ids["A"], privacy="anonymous")
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await tap(h, admin, "Buka")
        # Admins do see who filed it.
        assert "Zenobia" in "\n".join(m.text or "" for m in h.sent_to(ADMIN))
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
        blob = "\n".join(sent + rows)
        assert "Masih berlubang" in blob and "Ini fotonya" in blob
        for secret in SECRETS:
            assert secret not in blob, secret
        assert not any(type(r).__name__ in ("ForwardMessage", "CopyMessage") for r in h.requests)
