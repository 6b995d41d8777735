"""Many simulated citizens at once, each walking the /lapor form against a real bot process.

Used by tests/e2e/test_concurrency_e2e.py (a few hundred citizens must all be answered) and
bench/concurrency.py (updates/s and latency per step beside an echo bot). Each citizen waits for
the bot's answer in its own chat before its next step, as a person would; the wait is woken by
the server's request log (``request_listeners``), so a thousand waiting citizens cost nothing
while the bot works.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.botapi import BotApiServer, SimUser
from sandbox.botapi.models import SentRequest, StoredMessage

TITLE = "Air PDAM mati di RT 05"
BODY = "Sudah tiga hari air PDAM di RT 05 Kelurahan Nenang mati, kalau menyala keruh sekali."


@dataclass(frozen=True)
class Step:
    name: str
    text: str | None = None  # the citizen writes this...
    tap: str | None = None  # ...or taps the newest button whose label contains this
    expect: str = ""  # done when a new bot message contains this (button label or text)


ONBOARDING = (
    Step("/start", text="/start", expect="Bahasa Indonesia"),
    Step("language", tap="Bahasa Indonesia", expect="Setuju"),
    Step("consent", tap="Setuju", expect="/lapor"),
)
FORM = (
    Step("/lapor", text="/lapor", expect="Pengaduan"),
    Step("kind", tap="Pengaduan", expect="Tidak tahu"),
    Step("agency", tap="Tidak tahu"),
    Step("title", text=TITLE),
    Step("body", text=BODY, expect="Kemarin"),
    Step("date", tap="Kemarin", expect="Biasa"),
    Step("privacy", tap="Biasa"),  # privacy comes before the location and the files
    Step("location", text="Jl. Propinsi km 3, Penajam", expect="Lewati"),
    Step("files", tap="Lewati", expect="Kirim"),
    Step("submit", tap="Kirim", expect="LPR-"),
)
WALK = ONBOARDING + FORM


def echo_walk(steps: tuple[Step, ...] = WALK) -> tuple[Step, ...]:
    """As many messages, for an echo bot: each answered by its own echo."""
    return tuple(Step(s.name, text=f"langkah {s.name}", expect=f"langkah {s.name}") for s in steps)


class ChatWatch:
    """Wakes the citizen whose chat the bot just wrote to (or whose button it answered)."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self._events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        # When each chat's latest update was handed to the bot, and when the bot's first request
        # for that chat came after it: the latency a citizen feels before anything happens.
        self._sent_at: dict[int, float] = {}
        self._first_reply_at: dict[int, float] = {}
        server.state.request_listeners.append(self._seen)

    def close(self) -> None:
        self.server.state.request_listeners.remove(self._seen)

    def _seen(self, request: SentRequest) -> None:
        chat = request.params.get("chat_id")
        if chat is None and (cq := self.server.state.callbacks.get(str(request.params.get("callback_query_id")))):
            chat = cq.chat_id
        try:
            chat = int(chat)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return
        if chat in self._sent_at and chat not in self._first_reply_at and request.ok:
            self._first_reply_at[chat] = time.monotonic()
        if (event := self._events.get(chat)) is not None:
            event.set()

    def sent(self, chat_id: int) -> None:
        """The citizen's update is now in the bot's queue."""
        self._sent_at[chat_id] = time.monotonic()
        self._first_reply_at.pop(chat_id, None)

    def first_reply(self, chat_id: int) -> float | None:
        """Seconds from the latest update to the bot's first request in that chat."""
        at = self._first_reply_at.get(chat_id)
        return None if at is None else at - self._sent_at[chat_id]

    async def until(self, chat_id: int, check: Callable[[], object], timeout: float) -> object:
        event = self._events[chat_id]
        deadline = time.monotonic() + timeout
        while True:
            event.clear()
            if result := check():
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass


@dataclass
class Citizen:
    server: BotApiServer
    watch: ChatWatch
    user: SimUser
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds to the answer
    first_replies: dict[str, float] = field(default_factory=dict)  # step -> seconds to the bot's first request
    failed: str | None = None  # the step that got no answer, and why

    def _bot_messages(self) -> list[StoredMessage]:
        return [m for m in self.server.state.messages.get(self.user.id, ()) if m.from_bot and not m.deleted]

    def _newest_button(self, label: str) -> tuple[int, str] | None:
        for msg in reversed(self._bot_messages()):
            for row in msg.inline_keyboard:
                for button in row:
                    if label.lower() in button["text"].lower() and "callback_data" in button:
                        return msg.message_id, button["callback_data"]
        return None

    def _answered(self, after: int, expect: str) -> bool:
        for msg in self._bot_messages():
            if msg.message_id <= after:
                continue
            shown = (msg.text or msg.caption or "") + " ".join(
                b["text"] for row in msg.inline_keyboard for b in row)
            if expect.lower() in shown.lower():
                return True
        return False

    async def walk(self, steps: tuple[Step, ...], timeout: float) -> None:
        for step in steps:
            if not await self.take(step, timeout):
                return

    async def take(self, step: Step, timeout: float) -> bool:
        """One step, waiting for its answer; False (and ``failed`` says why) when none came."""
        before = max((m.message_id for m in self._bot_messages()), default=0)
        started = time.monotonic()
        try:
            if step.text is not None:
                await self.server.user_sends_text(self.user, step.text)
                self.watch.sent(self.user.id)
            else:
                assert step.tap is not None
                # A keyboard may come by an edit just after its message: wait for it too.
                try:
                    found = await self.watch.until(
                        self.user.id, lambda label=step.tap: self._newest_button(label), 5)
                except TimeoutError:
                    self.failed = f"{step.name}: no button {step.tap!r}"
                    return False
                cq = await self.server.user_presses(self.user, found[0], found[1])
                self.watch.sent(self.user.id)
                await self.watch.until(self.user.id, lambda cq=cq: self.server.state.callbacks[cq].answer,
                                       timeout)
            await self.watch.until(
                self.user.id, lambda before=before, expect=step.expect: self._answered(before, expect), timeout)
        except TimeoutError:
            self.failed = f"{step.name}: no answer within {timeout:g} s"
            return False
        self.timings[step.name] = time.monotonic() - started
        if (first := self.watch.first_reply(self.user.id)) is not None:
            self.first_replies[step.name] = first
        return True


@dataclass
class CrowdResult:
    citizens: list[Citizen]
    seconds: float
    updates: int

    @property
    def unanswered(self) -> list[Citizen]:
        return [c for c in self.citizens if c.failed]

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, step: str, q: float) -> float:
        values = sorted(c.timings[step] for c in self.citizens if step in c.timings)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]


async def run_crowd(server: BotApiServer, n: int, steps: tuple[Step, ...], *, first_id: int = 800_000,
                    timeout: float = 60) -> CrowdResult:
    """``n`` citizens walk ``steps`` at once; every one waits for each answer before going on."""
    watch = ChatWatch(server)
    citizens = [Citizen(server, watch, server.add_user(SimUser(id=first_id + i, first_name=f"Warga {i}")))
                for i in range(n)]
    started = time.monotonic()
    try:
        await asyncio.gather(*(c.walk(steps, timeout) for c in citizens))
    finally:
        watch.close()
    seconds = time.monotonic() - started
    return CrowdResult(citizens, seconds, sum(len(c.timings) for c in citizens))
