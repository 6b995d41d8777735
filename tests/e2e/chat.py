"""A simulated citizen talking to the real bot process through the local Bot API server."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sandbox.botapi import BotApiServer, SimUser, StoredMessage

CONTENT_METHODS = {
    "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "sendPhoto",
    "sendDocument", "sendMediaGroup", "sendLocation", "sendVideo", "deleteMessage",
}


@dataclass
class Chatter:
    server: BotApiServer
    user: SimUser

    def _content_count(self) -> int:
        return sum(
            1 for r in self.server.sent_requests
            if r.method in CONTENT_METHODS and str(r.params.get("chat_id")) == str(self.user.id)
        )

    async def _settle(self, before: int, timeout: float = 20, quiet: float = 0.5) -> None:
        """Wait for the bot's reaction: at least one message or edit, then a quiet moment."""
        deadline = time.monotonic() + timeout
        while self._content_count() <= before:
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not react within {timeout}s")
            await asyncio.sleep(0.05)
        last = self._content_count()
        while True:
            await asyncio.sleep(quiet)
            now = self._content_count()
            if now == last:
                return
            last = now

    def messages(self) -> list[StoredMessage]:
        return self.server.bot_messages(self.user.id)

    def last_text(self) -> str:
        msgs = [m for m in self.messages() if m.text or m.caption]
        return (msgs[-1].text or msgs[-1].caption or "") if msgs else ""

    def texts(self) -> str:
        return "\n".join(m.text or m.caption or "" for m in self.messages())

    async def say(self, text: str) -> str:
        before = self._content_count()
        await self.server.user_sends_text(self.user, text)
        await self._settle(before)
        return self.last_text()

    async def act(self, coro) -> str:
        before = self._content_count()
        await coro
        await self._settle(before)
        return self.last_text()

    async def tap(self, label: str) -> dict:
        """Press the newest button whose label contains ``label``; returns the callback answer."""
        for msg in reversed(self.messages()):
            for row in msg.inline_keyboard:
                for button in row:
                    if label.lower() in button["text"].lower() and "callback_data" in button:
                        before = self._content_count()
                        cq = await self.server.user_presses(self.user, msg.message_id, button["callback_data"])
                        answer = await self.server.wait_callback_answer(cq, timeout=20)
                        try:
                            await self._settle(before, timeout=3)
                        except AssertionError:
                            pass  # some buttons only answer the callback (an alert)
                        return answer
        raise AssertionError(f"no button {label!r} in the chat; last text: {self.last_text()[:300]}")

    async def reply_button(self, label: str) -> str:
        """Press a reply-keyboard button: Telegram sends its label as the user's text."""
        for msg in reversed(self.messages()):
            keyboard = (msg.reply_markup or {}).get("keyboard")
            if keyboard:
                for row in keyboard:
                    for button in row:
                        text = button["text"] if isinstance(button, dict) else button
                        if label.lower() in text.lower():
                            return await self.say(text)
                break
        raise AssertionError(f"no reply button {label!r}; last text: {self.last_text()[:300]}")
