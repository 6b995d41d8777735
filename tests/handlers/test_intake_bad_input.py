"""Hostile and mistaken input in every step: a clear reply, the step and the data kept."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import func, select

from bot.ui.intake_callbacks import IntakeCb
from storage.models import Report
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import (
    consenting_citizen,
    drive,
    fsm,
    last_with_buttons,
    limit_violations,
    tap,
    texts_since,
)

# step -> (what to send, a phrase the reply must contain)
STICKER = ("sticker", None)
CASES = {
    "cl": [STICKER, ("text", "pilih salah satu tombol"), ("voice", None), ("photo", None)],
    "ag": [STICKER, ("voice", None), ("photo", None), ("text:" + "a" * 5000, "paling banyak 100")],
    "ti": [STICKER, ("voice", None), ("photo", "Kirim judul sebagai pesan teks (5–150"),
           ("text:" + "x" * 5000, "paling banyak 150 karakter, Anda mengirim 5000"),
           ("text:      ", None), ("text:😀", "paling sedikit 5"), ("text:abc", "paling sedikit 5")],
    "bo": [STICKER, ("photo", "isi laporan sebagai pesan teks"),
           ("text:" + "y" * 5000, "paling banyak 3000 karakter"), ("text:  \n  ", None),
           ("text:pendek", "paling sedikit 20")],
    "dt": [STICKER, ("voice", None), ("text:entah kapan", "tidak terbaca"), ("text:besok lusa", "belum terjadi"),
           ("text:31/2/2024", "tidak ada"),
           ("text:1/1/2999", "belum terjadi"), ("text:1/1/1990", "terlalu lama"), ("text:<b>&", "tidak terbaca")],
    "lo": [STICKER, ("voice", None), ("photo", "Kirim lokasi saya"), ("text:" + "z" * 5000, "paling banyak 300")],
    "at": [STICKER, ("text:ini teks", "foto, dokumen, video, dan pesan suara")],
    "pr": [STICKER, ("text:rahasia", "pilih salah satu tombol"), ("photo", None)],
    "cf": [STICKER, ("text:kirim", "gunakan tombol"), ("voice", None)],
}
EMPTY = "spasi saja tidak dihitung"


async def _send(h: Harness, u, what: str) -> None:
    if what == "sticker":
        await h.send_sticker(u)
    elif what == "voice":
        await h.send_voice(u)
    elif what == "photo":
        await h.send_photo(u)
    elif what == "text":
        await h.send(u, "halo")
    else:
        await h.send(u, what.removeprefix("text:"))


@pytest.mark.parametrize("step", list(CASES))
async def test_wrong_input_is_explained_and_nothing_moves(tmp_path, step):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        if step == "cl":
            await h.send(u, "/lapor")
        else:
            await drive(h, u, step)
        before = await fsm(h, u)
        for what, phrase in CASES[step]:
            mark = h.mark()
            await _send(h, u, what)
            replies = [r for r in h.since(mark) if isinstance(r, SendMessage)]
            # one message: the refusal and the question again (at the summary: the summary)
            assert len(replies) == 1, (what, [r.text for r in replies])
            text = replies[0].text
            assert text.startswith("⚠️"), (what, text)
            if phrase:
                assert phrase in text, (what, text)
            if what.strip() == "text:":
                assert EMPTY in text
            # the reply re-asks the step, with its buttons
            assert replies[-1].reply_markup is not None
            assert await fsm(h, u) == before, what
        assert limit_violations(h) == []


async def test_html_and_markdown_in_text_are_kept_and_escaped(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "ti")
        title = "<script>alert(1)</script> *bold* _x_ [a](b) & 😀"
        await h.send(u, title)
        assert (await fsm(h, u))[1]["draft"]["title"] == title
        assert "&lt;script&gt;" in h.sent_to(u)[-1].text or "&lt;script&gt;" in h.sent_to(u)[-2].text
        assert limit_violations(h) == []


async def test_long_body_summary_is_split_within_limits(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "bo")
        body = ("Air & listrik <mati> " * 200)[:3000]
        await h.send(u, body)
        await tap(h, u, "Kemarin")
        await tap(h, u, "Anonim")
        await h.send(u, "Jl. Propinsi km 3")
        mark = h.mark()
        await tap(h, u, "Lewati")
        summary = [r for r in h.since(mark) if isinstance(r, SendMessage) and r.text and "Air &amp;" in r.text]
        assert len(summary) >= 2  # 3000 chars of "&" and "<" escape to more than one message
        assert limit_violations(h) == []
        # the edit buttons sit on the last part
        assert last_with_buttons(h, u).button("Kirim")


async def test_stale_and_forged_buttons_are_refused(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await h.send(u, "/lapor")
        first_form = last_with_buttons(h, u)
        await tap(h, u, "Pengaduan")
        before = await fsm(h, u)
        form_id = before[1]["form_id"]

        async def refused(data: str) -> None:
            cq = await h.press(u, 4242, data)
            answer = h.answered(cq)
            assert answer is not None and answer.show_alert, data
            assert "formulir yang sudah selesai" in answer.text
            assert await fsm(h, u) == before, data

        # a button of an earlier step of this form
        await refused(first_form.button("Aspirasi"))
        # a forged form id, a forged step, a forged value, garbage
        await refused(IntakeCb(form="zzzzzz", step="ag", action="unk").pack())
        await refused(IntakeCb(form=form_id, step="cf", action="submit").pack())
        await refused(IntakeCb(form=form_id, step="ag", action="pick", value="999999").pack())
        await refused(IntakeCb(form=form_id, step="ag", action="page", value="nonsense").pack())
        await refused("rf:broken")
        # after /batal, the old form's buttons say so
        await h.send(u, "/batal")
        cq = await h.press(u, 4242, IntakeCb(form=form_id, step="ag", action="unk").pack())
        assert h.answered(cq).show_alert and (await fsm(h, u))[0] is None


async def test_double_submit_files_once(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "cf")
        summary = last_with_buttons(h, u)
        submit = summary.button("Kirim")
        first = await h.press(u, summary, submit)
        second = await h.press(u, summary, submit)
        assert not h.answered(first).show_alert
        assert h.answered(second).show_alert
        async with h.app.session_factory() as s:
            assert await s.scalar(select(func.count()).select_from(Report)) == 1
        answers = [r for r in h.requests if isinstance(r, AnswerCallbackQuery)]
        assert len(answers) == len({a.callback_query_id for a in answers})


# The use case is made to fail: the error handler's apology is what the citizen must get.
@pytest.mark.expects_error_handler("submit_report is made to raise; the error handler apologises")
async def test_submit_failure_keeps_the_form(tmp_path, monkeypatch):
    import handlers.intake.summary as summary_module

    async def boom(*args, **kwargs):
        raise RuntimeError("database down")

    async with Harness.create(tmp_path) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "cf")
        before = await fsm(h, u)
        monkeypatch.setattr(summary_module, "submit_report", boom)
        cq = await tap(h, u, "Kirim")
        assert h.answered(cq).show_alert  # the error handler's apology
        assert await fsm(h, u) == before
        monkeypatch.undo()
        await tap(h, u, "Kirim")
        assert "LPR-" in h.last_text(u)


async def test_attachment_limits_and_album_refused_once(tmp_path):
    async with Harness.create(tmp_path, intake={"max_attachments": 2, "max_attachment_mb": 1}) as h:
        u = h.user(1001)
        await consenting_citizen(h, u)
        await drive(h, u, "at")
        mark = h.mark()
        await h.send_document(u, file_size=2 * 1024 * 1024)
        assert "batasnya 1 MB" in texts_since(h, mark)[0]
        assert (await fsm(h, u))[1]["draft"]["attachments"] == []
        await h.send_photo(u, media_group_id="g1")
        await h.send_photo(u, media_group_id="g1")
        mark = h.mark()
        for _ in range(3):
            await h.send_photo(u, media_group_id="g1")
        texts = texts_since(h, mark)
        assert len(texts) == 1 and "paling banyak 2 berkas" in texts[0]
        assert len((await fsm(h, u))[1]["draft"]["attachments"]) == 2
        await tap(h, u, "Hapus lampiran")
        assert (await fsm(h, u))[1]["draft"]["attachments"] == []
        from aiogram.types import Video

        await h.send_message(u, video=Video(file_id="v1", file_unique_id="vu1", width=1, height=1, duration=2,
                                            file_size=1000, mime_type="video/mp4"))
        assert (await fsm(h, u))[1]["draft"]["attachments"][0]["kind"] == "video"
        assert "1 dari 2" in h.last_text(u)
        assert limit_violations(h) == []


async def test_a_description_split_by_telegram_is_refused_whole_never_kept_by_its_tail(tmp_path):
    """Issue 10: Telegram sends a text over 4,096 characters as several messages. The first part
    was refused as too long and the tail, long enough on its own, quietly became the
    description. Now every part that follows is refused too, with a reason; a description sent
    later on its own is taken as usual."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from tests.handlers.intake_helpers import consenting_citizen, drive, fsm

    async with Harness.create(tmp_path) as h:
        siti = h.user(1001, "Siti")
        await consenting_citizen(h, siti)
        await drive(h, siti, "bo")
        words = "Jalan di depan sekolah rusak parah dan berlubang besar. "
        whole = words * 130  # about 7,300 characters: three parts of at most 4,096
        parts = [whole[:4096], whole[4096:6000], whole[6000:]]
        for n, part in enumerate(parts):
            await h.send(siti, part)
            reply = h.last_text(siti)
            assert ("Terlalu panjang" if n == 0 else "bagian berikutnya") in reply, reply
            state, data = await fsm(h, siti)
            assert state.endswith("body") and not data["draft"].get("body")
        # Written again, shorter, a minute later: saved.
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=True):
            await h.send(siti, words * 20)
        state, data = await fsm(h, siti)
        assert state.endswith("incident_date") and data["draft"]["body"] == (words * 20).strip()
