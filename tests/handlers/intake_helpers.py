"""Shared steps for the /lapor handler tests (not a test module itself)."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import InlineKeyboardMarkup, User

from storage.models import Agency, Category, Citizen
from tests.handlers.harness import BOT_USER, Harness


async def consenting_citizen(h: Harness, user: User, language: str = "id") -> None:
    async with h.app.session_factory() as s:
        s.add(Citizen(telegram_id=user.id, first_name=user.first_name, language=language,
                      consent_at=datetime.now(UTC)))
        await s.commit()


async def seed_agencies(h: Harness) -> dict[str, int]:
    async with h.app.session_factory() as s:
        rows = {f"opd{i}": Agency(name=f"Dinas Nomor {i:02d}", kind="opd") for i in range(11)}
        rows["pupr"] = Agency(name="Dinas Pekerjaan Umum dan Penataan Ruang", kind="opd", aliases=["PUPR"])
        rows["pdam"] = Agency(name="Perumda Air Minum Danum Taka", kind="bumd", aliases=["PDAM"])
        rows["penajam"] = Agency(name="Kecamatan Penajam", kind="kecamatan")
        s.add_all(rows.values())
        await s.flush()
        rows["nenang"] = Agency(name="Kelurahan Nenang", kind="kelurahan", parent_id=rows["penajam"].id)
        s.add(rows["nenang"])
        await s.commit()
        return {k: v.id for k, v in rows.items()}


async def seed_categories(h: Harness, default_agency_id: int | None = None) -> dict[str, int]:
    """A topic with two subtopics (jalan rusak defaults to ``default_agency_id``) and a topic
    without any."""
    async with h.app.session_factory() as s:
        infra = Category(code="infrastruktur", name="Infrastruktur", name_en="Infrastructure", position=0)
        health = Category(code="kesehatan", name="Kesehatan", name_en="Health", position=3)
        s.add_all([infra, health])
        await s.flush()
        road = Category(code="jalan-rusak", name="Jalan rusak", name_en="Damaged road", parent_id=infra.id,
                        default_agency_id=default_agency_id, position=1)
        drain = Category(code="drainase", name="Drainase", parent_id=infra.id, position=2)
        s.add_all([road, drain])
        await s.commit()
        return {c.code: c.id for c in (infra, health, road, drain)}


def key(user: User) -> StorageKey:
    return StorageKey(bot_id=BOT_USER.id, chat_id=user.id, user_id=user.id)


async def fsm(h: Harness, user: User) -> tuple[str | None, dict[str, Any]]:
    k = key(user)
    return await h.app.fsm_storage.get_state(k), await h.app.fsm_storage.get_data(k)


def last_with_buttons(h: Harness, user: User):
    for sent in reversed(h.sent_to(user)):
        if isinstance(sent.reply_markup, InlineKeyboardMarkup):
            return sent
    raise AssertionError("no message with inline buttons")


async def tap(h: Harness, user: User, label: str) -> str:
    """Press the button labelled ``label`` on the newest message that has it; returns the cq id."""
    for sent in reversed(h.sent_to(user)):
        if isinstance(sent.reply_markup, InlineKeyboardMarkup):
            for text, data in sent.buttons:
                if label.lower() in text.lower() and data:
                    cq = await h.press(user, sent, data)
                    assert h.answered(cq) is not None, "callback query left unanswered"
                    return cq
    raise AssertionError(f"no button {label!r}")


def texts_since(h: Harness, mark: int) -> list[str]:
    return [r.text for r in h.since(mark) if isinstance(r, (SendMessage, EditMessageText))]


def alerts_since(h: Harness, mark: int) -> list[AnswerCallbackQuery]:
    return [r for r in h.since(mark) if isinstance(r, AnswerCallbackQuery)]


# -- Telegram's limits ---------------------------------------------------------------------------
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
                 "a", "code", "pre", "blockquote", "tg-emoji"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"unsupported tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()

    def handle_entityref(self, name):
        if name not in {"lt", "gt", "amp", "quot"}:
            self.errors.append(f"unknown entity &{name};")

    def handle_data(self, data):
        if "&" in data or "<" in data:
            self.errors.append(f"raw special character in {data[:40]!r}")


def html_errors(text: str) -> list[str]:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    return checker.errors + [f"unclosed <{t}>" for t in checker.stack]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def limit_violations(h: Harness) -> list[str]:
    """Every request the bot made, checked as Telegram would: lengths, callback_data, HTML."""
    problems: list[str] = []
    for r in h.requests:
        name = type(r).__name__
        text = getattr(r, "text", None)
        caption = getattr(r, "caption", None)
        if text is not None:
            if not text.strip():
                problems.append(f"{name}: empty text")
            if utf16_len(text) > 4096:
                problems.append(f"{name}: text of {utf16_len(text)}")
            problems += [f"{name}: {e}" for e in html_errors(text)]
        if caption is not None and utf16_len(caption) > 1024:
            problems.append(f"{name}: caption of {utf16_len(caption)}")
        if isinstance(r, AnswerCallbackQuery) and r.text and len(r.text) > 200:
            problems.append(f"{name}: callback answer of {len(r.text)}")
        markup = getattr(r, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            for row in markup.inline_keyboard:
                for b in row:
                    if b.callback_data is not None and len(b.callback_data.encode()) > 64:
                        problems.append(f"{name}: callback_data {b.callback_data!r}")
                    if not b.text.strip():
                        problems.append(f"{name}: empty button label")
    return problems


TITLE = "Jalan berlubang di depan pasar"
BODY = "Jalan di depan pasar berlubang besar, sudah tiga minggu belum diperbaiki."


async def drive(h: Harness, user: User, until: str, *, kind: str = "Pengaduan") -> None:
    """Fill the form in Indonesian up to (not including) the step ``until``:
    ag, ti, bo, dt, pr, lo, at, cf."""
    order = ["ag", "ti", "bo", "dt", "pr", "lo", "at", "cf"]
    await h.send(user, "/lapor")
    await tap(h, user, kind)
    actions = {
        "ag": lambda: tap(h, user, "Tidak tahu"),
        "ti": lambda: h.send(user, TITLE),
        "bo": lambda: h.send(user, BODY),
        "dt": lambda: tap(h, user, "Kemarin"),
        "lo": lambda: h.send(user, "Jl. Propinsi km 3, Penajam"),
        "at": lambda: tap(h, user, "Lewati"),
        "pr": lambda: tap(h, user, "Biasa"),
    }
    for step in order[: order.index(until)]:
        await actions[step]()
    state, _ = await fsm(h, user)
    assert state is not None and state.endswith(STATE_NAMES[until]), (state, until)


STATE_NAMES = {"ag": "agency", "ti": "title", "bo": "body", "dt": "incident_date", "lo": "location",
               "at": "attachments", "pr": "privacy", "cf": "confirm"}
