"""Casework steps that say what they expect, colleagues told when a report is taken, and
attachments re-sent to officers as albums."""

from __future__ import annotations

import pytest
from aiogram.methods import (
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
)
from aiogram.types import (
    Contact,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    User,
)

from bot.services.intake import DraftAttachment
from bot.ui.case_callbacks import (
    OfficerAction,
    OfficerCb,
    ReporterAction,
    ReporterCb,
    VerifyAction,
    VerifyCb,
)
from tests.handlers.casework_helpers import (
    ADMIN,
    FAST_DELIVERY,
    drain,
    file_report,
    last_button_message,
    outbox_rows,
    report,
    seed,
    tap,
)
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import fsm

REPORTER, O1, O2, OB = 5551, 6661, 6662, 6663
GENERIC = ("I did not understand", "tidak saya pahami")


async def _world(h: Harness) -> dict[str, int]:
    return await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A", OB: "B"})


async def _assigned(h: Harness, ids: dict[str, int], **kw) -> int:
    rid = (await file_report(h, REPORTER, agency_id=ids["A"], **kw)).id
    await drain(h)
    cq = await h.press(h.user(ADMIN, "Admin"), 1, VerifyCb(a=VerifyAction.ASSIGN, r=rid, v=str(ids["A"])).pack())
    assert h.answered(cq) is not None
    await drain(h)
    return rid


async def _officer_wrote(h: Harness, rid: int, action: OfficerAction, text: str) -> None:
    officer = h.user(O1, "Officer6661")
    await h.press(officer, 1, OfficerCb(a=action, r=rid).pack())
    await h.send(officer, text)
    await drain(h)


# -- 1. a message the step cannot use is answered with what it expects ---------------------------
async def _enter(h: Harness, ids: dict[str, int], name: str) -> User:
    officer, reporter, admin = h.user(O1, "Officer6661"), h.user(REPORTER, "Zenobia"), h.user(ADMIN, "Admin")
    if name.startswith("officer:"):
        action = {"ask": OfficerAction.ASK, "answer": OfficerAction.ANSWER, "return": OfficerAction.RETURN}
        rid = await _assigned(h, ids)
        await h.press(officer, 1, OfficerCb(a=action[name.split(":")[1]], r=rid).pack())
        return officer
    if name.startswith("reporter:"):
        rid = await _assigned(h, ids)
        if name == "reporter:answer":
            await _officer_wrote(h, rid, OfficerAction.ASK, "Di titik mana tepatnya?")
            await h.press(reporter, 1, ReporterCb(a=ReporterAction.REPLY, r=rid).pack())
            return reporter
        await _officer_wrote(h, rid, OfficerAction.ANSWER, "Sudah ditambal oleh tim UPT jalan.")
        if name == "reporter:comment":
            await h.press(reporter, 1, ReporterCb(a=ReporterAction.RATE, r=rid, v=4).pack())
        else:
            await h.press(reporter, 1, ReporterCb(a=ReporterAction.NOT_SOLVED, r=rid).pack())
        return reporter
    rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
    await drain(h)
    if name == "admin:search":
        await h.press(admin, 1, VerifyCb(a=VerifyAction.SEARCH, r=rid).pack())
    elif name == "admin:archive_note":
        await h.press(admin, 1, VerifyCb(a=VerifyAction.ARCHIVE_REASON, r=rid, v="solved").pack())
    else:
        reason = "duplicate" if name == "admin:duplicate" else "general"
        await h.press(admin, 1, VerifyCb(a=VerifyAction.REASON, r=rid, v=reason).pack())
    return admin


async def _send_unusable(h: Harness, user: User, kind: str) -> None:
    match kind:
        case "sticker":
            await h.send_sticker(user)
        case "voice":
            await h.send_voice(user)
        case "location":
            await h.send_location(user)
        case "contact":
            await h.send_message(user, contact=Contact(phone_number="+62811", first_name="Budi"))
        case "photo":
            await h.send_photo(user, caption="lihat foto")


# name -> (what the reply must say, in the user's language: officers and the admin read
# Indonesian, the reporter English; whether a photo is refused there too)
EXPECTED = {
    "officer:ask": ("Tuliskan pertanyaan Anda untuk pelapor sebagai teks (paling banyak 1000", True),
    "officer:answer": ("Tuliskan tanggapan instansi sebagai teks (paling banyak 1000", True),
    "officer:return": ("bukan wewenang instansi Anda (paling banyak 1000", True),
    "reporter:answer": ("Please send your answer as text (at most 1000 characters), a photo", False),
    "reporter:comment": ("Please type your comment as text (at most 1000", True),
    "reporter:dispute": ("what is not solved yet (at most 1000", True),
    "admin:reject_note": ("Tuliskan catatan untuk pelapor sebagai teks", True),
    "admin:archive_note": ("Tuliskan catatan untuk pelapor sebagai teks (paling banyak 1000 karakter), atau arsipkan",
                           True),
    "admin:duplicate": ("Ketik nomor pelacakan laporan", True),
    "admin:search": ("Ketik sebagian nama instansi sebagai teks", True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_unusable_message_says_what_the_step_expects(tmp_path, name):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        user = await _enter(h, ids, name)
        snap = await fsm(h, user)
        assert snap[0] is not None, "the state was not entered"
        expected, photo_refused = EXPECTED[name]
        kinds = ["sticker", "voice", "location", "contact"] + (["photo"] if photo_refused else [])
        for kind in kinds:
            mark = h.mark()
            await _send_unusable(h, user, kind)
            replies = [r for r in h.since(mark) if isinstance(r, SendMessage) and r.chat_id == user.id]
            assert len(replies) == 1, (kind, replies)
            assert expected in replies[0].text, (kind, replies[0].text)
            assert not any(g in replies[0].text for g in GENERIC)
            assert await fsm(h, user) == snap, f"{kind} changed the step"
        if name == "officer:ask":
            # A template exists nowhere here, so none is offered; the step still takes text.
            assert "templat" not in h.last_text(user)
            await h.send(user, "Di titik mana tepatnya lubangnya?")
            await drain(h)
            assert (await fsm(h, user))[0] is None
            assert "Di titik mana tepatnya lubangnya?" in h.last_text(REPORTER)
        if name == "admin:reject_note":
            # The reply offers "reject without a note" again.
            assert h.last(user).button("Tolak tanpa catatan")
        if name == "admin:archive_note":
            assert h.last(user).button("Arsipkan tanpa catatan")
        if name == "reporter:comment":
            assert h.last(user).button("Skip")


async def test_officer_step_mentions_templates_when_there_are_some(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        officer = h.user(O1, "Officer6661")
        await h.send(officer, "/templat Sudah ditangani | Laporan Anda sudah kami tangani.")
        rid = await _assigned(h, ids)
        await h.press(officer, 1, OfficerCb(a=OfficerAction.ANSWER, r=rid).pack())
        await h.send_sticker(officer)
        assert "Tuliskan tanggapan instansi" in h.last_text(officer)
        assert "Atau pilih templat di atas." in h.last_text(officer)


async def test_commands_still_pass_through_the_step(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        officer = await _enter(h, ids, "officer:ask")
        await h.send(officer, "/batal")
        assert (await fsm(h, officer))[0] is None
        assert "Dibatalkan" in h.last_text(officer)


# -- 2. the agency's other officers hear who took it ----------------------------------------------
async def test_colleagues_hear_that_an_officer_took_the_report(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        rid = await _assigned(h, ids)
        tracking_id = (await report(h, rid)).tracking_id
        o1, o2 = h.user(O1, "Officer6661"), h.user(O2, "Officer6662")
        before = {chat: len(h.sent_to(chat)) for chat in (O1, O2, OB, REPORTER)}
        await tap(h, o1, "Tindak lanjuti")
        await drain(h)
        assert (await report(h, rid)).status == "in_progress"

        told = [m.text or "" for m in h.sent_to(O2)[before[O2]:]]
        assert len(told) == 1, told
        # In the colleague's language (Indonesian), with the taker's first name and the report.
        assert "<b>Officer6661</b> dari instansi Anda menindaklanjuti" in told[0]
        assert tracking_id in told[0] and "Jalan berlubang besar" in told[0]
        # The taker gets their own confirmation, not the colleague message; other agencies nothing.
        assert not any("dari instansi Anda menindaklanjuti" in (m.text or "") for m in h.sent_to(O1))
        assert len(h.sent_to(OB)) == before[OB]
        # The reporter hears the agency, never the officer's name.
        citizen_news = "\n".join(m.text or "" for m in h.sent_to(REPORTER)[before[REPORTER]:])
        assert "Dinas Alpha" in citizen_news and "Officer6661" not in citizen_news

        # The colleague pressing the same (now stale) button is refused; nobody is told again.
        sent, data = last_button_message(h, O2, "Tindak lanjuti")
        mark = h.mark()
        cq = await h.press(o2, sent, data)
        await drain(h)
        assert h.answered(cq).show_alert
        assert not any(isinstance(r, SendMessage) for r in h.since(mark))
        rows = [r for r in await outbox_rows(h) if "menindaklanjuti" in r.payload.get("text", "")]
        assert [r.chat_id for r in rows] == [O2]


# -- 3. attachments as albums ---------------------------------------------------------------------
def _files(spec: str) -> list[DraftAttachment]:
    kinds = {"p": "photo", "v": "video", "d": "document", "n": "voice"}
    return [DraftAttachment(f"{kinds[c]}-{i}", f"u{i}", kinds[c], file_name="f.pdf" if c == "d" else None)
            for i, c in enumerate(spec)]


async def test_several_attachments_reach_officers_as_albums(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        # Three photos, a video and two documents, interleaved as a citizen might send them.
        # A public report: its files are re-sent by the citizen's file_id (anonymous ones are
        # cleaned first: tests/handlers/test_file_cleaning.py).
        rid = await _assigned(h, ids, attachments=_files("pdvpdp"), privacy="public")
        tracking_id = (await report(h, rid)).tracking_id
        for chat in (O1, O2):
            requests = [m.request for m in h.sent_to(chat)]
            albums = [r for r in requests if isinstance(r, SendMediaGroup)]
            assert not any(isinstance(r, (SendPhoto, SendVideo, SendDocument)) for r in requests)
            assert len(albums) == 2, albums
            visual, docs = albums
            assert [type(m) for m in visual.media] == [InputMediaPhoto, InputMediaVideo, InputMediaPhoto,
                                                       InputMediaPhoto]
            assert [m.media for m in visual.media] == ["photo-0", "video-2", "photo-3", "photo-5"]
            assert [type(m) for m in docs.media] == [InputMediaDocument, InputMediaDocument]
            assert [m.media for m in docs.media] == ["document-1", "document-4"]
            # Our captions, numbered across both albums; nothing of the reporter's.
            captions = [m.caption for m in (*visual.media, *docs.media)]
            assert captions == [f"📎 {tracking_id} · {i}/6" for i in range(1, 7)]
            blob = repr([r.model_dump() for r in albums])
            for secret in ("Zenobia", "Quartermain", "zq_secret_handle", str(REPORTER)):
                assert secret not in blob
        assert h.sent_to(OB) == []


async def test_more_than_ten_photos_are_split_evenly_and_one_file_goes_alone(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        await _assigned(h, ids, attachments=_files("p" * 11 + "d"), privacy="public")
        requests = [m.request for m in h.sent_to(O1)]
        albums = [r for r in requests if isinstance(r, SendMediaGroup)]
        assert [len(a.media) for a in albums] == [5, 6]
        assert all(2 <= len(a.media) <= 10 for a in albums)
        single = [r for r in requests if isinstance(r, SendDocument)]
        assert [r.document for r in single] == ["document-11"]
        assert single[0].caption.endswith("12/12")


async def test_a_voice_note_reaches_officers_as_a_voice_note_after_the_albums(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        # A public report: re-sent by file_id (an anonymous one's voice note is uploaded anew,
        # tests/handlers/test_reporter_channel.py).
        rid = await _assigned(h, ids, attachments=_files("pnp"), privacy="public")
        tracking_id = (await report(h, rid)).tracking_id
        requests = [m.request for m in h.sent_to(O1)]
        files = [r for r in requests if isinstance(r, (SendMediaGroup, SendVoice, SendDocument))]
        assert [type(r) for r in files] == [SendMediaGroup, SendVoice]
        assert files[1].voice == "voice-1" and files[1].caption == f"📎 {tracking_id} · 3/3"
