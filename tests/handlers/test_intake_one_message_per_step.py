"""One message per form step (issue 14): an acknowledgement and the next question used to be two
messages ("✔️ Lokasi tersimpan." then step 7), so a citizen answering briskly met Telegram's
per-chat limit (about one message a second, short bursts allowed) and got 429s."""

from __future__ import annotations

from aiogram.methods import (
    EditMessageReplyMarkup,
    SendDocument,
    SendLocation,
    SendMessage,
    SendPhoto,
)
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardRemove

from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import consenting_citizen, limit_violations, seed_agencies, tap

NEW_MESSAGES = (SendMessage, SendPhoto, SendDocument, SendLocation)


def _sent(h: Harness, mark: int, chat_id: int) -> list:
    return [r for r in h.since(mark) if isinstance(r, NEW_MESSAGES) and r.chat_id == chat_id]


async def test_every_answer_gets_exactly_one_message(tmp_path):
    async with Harness.create(tmp_path) as h:
        await seed_agencies(h)
        alice = h.user(1001, "Alice")
        await consenting_citizen(h, alice)

        async def one_message(action, *args) -> SendMessage:
            mark = h.mark()
            await action(*args)
            sent = _sent(h, mark, alice.id)
            assert len(sent) == 1, [getattr(r, "text", r) for r in sent]
            return sent[0]

        await one_message(h.send, alice, "/lapor")
        await one_message(tap, h, alice, "Pengaduan")
        await one_message(tap, h, alice, "Tidak tahu")
        await one_message(h.send, alice, "Lampu jalan mati di RT 05")
        await one_message(h.send, alice, "Lampu jalan di depan rumah nomor 12 mati sejak seminggu, gelap sekali.")
        await one_message(h.send, alice, "kemarin sore")
        await one_message(tap, h, alice, "Biasa")

        # Leaving the location step: the acknowledgement, the next question and the removal of the
        # location keyboard in one message; its buttons come by an edit, not a second message.
        mark = h.mark()
        sent = await one_message(h.send_location, alice)
        assert "Lokasi tersimpan" in sent.text and "langkah 8 dari 8" in sent.text
        assert isinstance(sent.reply_markup, ReplyKeyboardRemove)
        edits = [r for r in h.since(mark) if isinstance(r, EditMessageReplyMarkup)]
        assert len(edits) == 1 and isinstance(edits[0].reply_markup, InlineKeyboardMarkup)

        await one_message(h.send_photo, alice)
        # The last step's acknowledgement and the summary: one message.
        summary = await one_message(tap, h, alice, "Selesai")
        assert "<b>Privasi:</b> Biasa" in summary.text and "Periksa laporan Anda" in summary.text

        # Editing a field from the summary and coming back: one message each way.
        await one_message(tap, h, alice, "Lokasi")
        back = await one_message(h.send, alice, "Jl. Propinsi km 3, Penajam")
        assert "Lokasi tersimpan" in back.text and "Periksa laporan Anda" in back.text
        assert isinstance(back.reply_markup, ReplyKeyboardRemove)
        # Help in the middle of the form, with the question again: one message.
        await one_message(h.send, alice, "/bantuan")
        await one_message(tap, h, alice, "Kirim")
        assert limit_violations(h) == []


async def test_buttons_still_arrive_when_the_edit_is_refused(tmp_path):
    """Should Telegram refuse to add buttons to the message that removed the location keyboard,
    the buttons come in a message of their own: the step stays usable."""
    from aiogram.exceptions import TelegramBadRequest

    async with Harness.create(tmp_path) as h:
        alice = h.user(1001, "Alice")
        await consenting_citizen(h, alice)
        make_request = h.session.make_request

        async def refuse_edits(bot, method, timeout=None):
            if isinstance(method, EditMessageReplyMarkup):
                raise TelegramBadRequest(method=method, message="Bad Request: message can't be edited")
            return await make_request(bot, method, timeout)

        h.session.make_request = refuse_edits
        await h.send(alice, "/lapor")
        await tap(h, alice, "Pengaduan")
        await tap(h, alice, "Tidak tahu")
        await h.send(alice, "Lampu jalan mati di RT 05")
        await h.send(alice, "Lampu jalan di depan rumah nomor 12 mati sejak seminggu, gelap sekali.")
        await h.send(alice, "kemarin")
        await tap(h, alice, "Biasa")
        mark = h.mark()
        await h.send_location(alice)
        sent = _sent(h, mark, alice.id)
        assert isinstance(sent[0].reply_markup, ReplyKeyboardRemove)
        assert isinstance(sent[-1].reply_markup, InlineKeyboardMarkup)
        await tap(h, alice, "Lewati")  # the attachments step answers its buttons
        assert "Periksa laporan Anda" in h.last_text(alice)
