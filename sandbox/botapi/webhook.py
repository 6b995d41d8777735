"""Telegram's side of a webhook: POST each pending update to the bot until it answers 2xx.

The bot registers a public HTTPS URL with ``setWebhook``; in production a load balancer behind
that URL spreads the requests over several bot processes. Here the test names those processes'
local addresses (``BotApiServer.forward_webhook([...])``) and the forwarder plays Telegram plus
the load balancer: round-robin over the targets, the ``X-Telegram-Bot-Api-Secret-Token`` header
the bot asked for, an update dropped only after a 2xx and retried (on the next target) otherwise.

Like Telegram, it sends several updates at once (up to ``max_connections``), but keeps each
chat's updates in order: the next one of a chat waits until the previous one was acknowledged.
``per_chat_order = False`` lets a test send one chat's updates concurrently (two quick taps
reaching two processes at the same moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from sandbox.botapi.state import BotApiState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40  # Telegram's default for setWebhook


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of one update: where it went and what came back (status 0: no HTTP answer)."""

    update_id: int
    chat_id: int | None
    target: str
    status: int
    started: float  # time.time() when the POST began
    finished: float  # and when its answer (or the failure) came
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def update_chat_id(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (for keeping a chat's updates in order)."""
    for key, body in update.items():
        if key == "update_id" or not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return None


class WebhookForwarder:
    def __init__(
        self,
        state: BotApiState,
        targets: list[str],
        *,
        retry_delay: float = 0.5,
        request_timeout: float = 60.0,
        per_chat_order: bool = True,
    ) -> None:
        if not targets:
            raise ValueError("at least one webhook target is needed")
        self.state = state
        self.targets = list(targets)
        self.retry_delay = retry_delay
        self.request_timeout = request_timeout
        self.per_chat_order = per_chat_order
        self.deliveries: list[WebhookDelivery] = []
        self._next_target = 0
        self._in_flight: dict[int, int | None] = {}  # update_id -> chat id
        self._retry_at: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        self._loop_task = asyncio.create_task(self._run(), name="webhook-forwarder")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing waiting (every update acknowledged)."""
        return not self._in_flight and not self._pending()

    def _pending(self) -> list[dict[str, Any]]:
        hook = self.state.webhook
        if not hook.get("url"):
            return []
        allowed = hook.get("allowed_updates")
        if allowed:
            return [u for u in self.state.updates if _kind(u) in set(allowed)]
        excluded = {"chat_member", "message_reaction", "message_reaction_count"}
        return [u for u in self.state.updates if _kind(u) not in excluded]

    def _limit(self) -> int:
        return int(self.state.webhook.get("max_connections") or DEFAULT_MAX_CONNECTIONS)

    async def _run(self) -> None:
        while not self.state.closing:
            seen = self.state.version
            now = time.monotonic()
            busy_chats = set(self._in_flight.values())
            wake = 1.0
            for update in self._pending():
                uid = update["update_id"]
                if uid in self._in_flight:
                    continue
                chat = update_chat_id(update)
                if self.per_chat_order and chat is not None and chat in busy_chats:
                    continue
                # An update waiting for its retry holds back the rest of its chat too.
                retry_at = self._retry_at.get(uid, 0.0)
                if retry_at > now:
                    busy_chats.add(chat)
                    wake = min(wake, retry_at - now)
                    continue
                if len(self._in_flight) >= self._limit():
                    break
                self._in_flight[uid] = chat
                busy_chats.add(chat)
                task = asyncio.create_task(self._deliver(update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await self.state.wait_change(seen, max(wake, 0.01))

    async def _deliver(self, update: dict[str, Any]) -> None:
        uid = update["update_id"]
        target = self.targets[self._next_target % len(self.targets)]
        self._next_target += 1
        headers = {}
        secret = self.state.webhook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = secret
        status, error = 0, None
        started = time.time()
        try:
            assert self._http is not None
            async with self._http.post(target, json=update, headers=headers) as response:
                status = response.status
                await response.read()
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # refused, reset, timed out: retried
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._in_flight.pop(uid, None)
        self.deliveries.append(
            WebhookDelivery(uid, update_chat_id(update), target, status, started, time.time(), error)
        )
        if 200 <= status < 300:
            self._retry_at.pop(uid, None)
            self.state.updates = [u for u in self.state.updates if u["update_id"] != uid]
        else:
            log.info("webhook delivery of update %s to %s failed: %s", uid, target, error or status)
            self._retry_at[uid] = time.monotonic() + self.retry_delay
        self.state.bump()


def _kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")
