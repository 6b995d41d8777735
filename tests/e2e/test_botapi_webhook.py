"""The fake Bot API server calling a webhook the way Telegram does: round-robin over the
targets behind the registered URL, the secret header, an update dropped only after a 2xx and
retried otherwise, each chat's updates in order."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from sandbox.botapi import BotApiServer, SimUser
from sandbox.botapi.webhook import SECRET_HEADER, update_chat_id

ALICE = SimUser(id=1001, first_name="Siti")
BUDI = SimUser(id=1002, first_name="Budi")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A stand-in bot process: records what it was POSTed; ``fail`` answers 500 that many times;
    ``hold`` keeps each request open that long."""

    def __init__(self, name: str, log: list[tuple[str, int, str | None]], fail: int = 0, hold: float = 0) -> None:
        self.name, self.log, self.fail, self.hold = name, log, fail, hold
        self.active = 0
        self.max_active = 0

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.active -= 1
        if self.fail > 0:
            self.fail -= 1
            self.log.append((self.name, update["update_id"], "500"))
            return web.Response(status=500)
        self.log.append((self.name, update["update_id"], request.headers.get(SECRET_HEADER)))
        return web.json_response({})


@asynccontextmanager
async def receivers(*recv: Receiver) -> AsyncIterator[list[str]]:
    runners, urls = [], []
    for r in recv:
        app = web.Application()
        app.router.add_post("/telegram", r.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{port}/telegram")
    try:
        yield urls
    finally:
        for runner in runners:
            await runner.cleanup()


@asynccontextmanager
async def bot_for(server: BotApiServer) -> AsyncIterator[Bot]:
    bot = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_updates_go_round_robin_with_the_secret_once_the_webhook_is_set():
    log: list[tuple[str, int, str | None]] = []
    a, b = Receiver("a", log), Receiver("b", log)
    async with BotApiServer() as server, receivers(a, b) as urls, bot_for(server) as bot:
        forwarder = server.forward_webhook(urls)
        await server.user_sends_text(ALICE, "/start")
        await asyncio.sleep(0.3)
        assert log == []  # no webhook registered yet: the update waits, as on Telegram
        await bot.set_webhook("https://lapor.example/telegram", secret_token="s3cret")
        await server.wait_until(lambda: len(log) == 1, timeout=5)
        for i in range(3):
            await server.user_sends_text(BUDI, f"pesan {i}")
            await server.wait_until(lambda n=2 + i: len(log) == n, timeout=5)
        assert [name for name, _, _ in log] == ["a", "b", "a", "b"]
        assert all(secret == "s3cret" for _, _, secret in log)
        # Budi's messages reached the bot in the order he sent them.
        assert [uid for _, uid, _ in log[1:]] == sorted(uid for _, uid, _ in log[1:])
        await server.wait_until(lambda: forwarder.idle or None, timeout=5)
        assert server.state.updates == []
        assert (await bot.get_webhook_info()).pending_update_count == 0
    assert server.violations == []


async def test_a_failed_delivery_is_retried_on_the_next_target_until_acknowledged():
    log: list[tuple[str, int, str | None]] = []
    a, b = Receiver("a", log, fail=2), Receiver("b", log, fail=1)
    async with BotApiServer() as server, receivers(a, b) as urls, bot_for(server) as bot:
        forwarder = server.forward_webhook(urls, retry_delay=0.05)
        await bot.set_webhook("https://lapor.example/telegram")
        first = await server.user_sends_text(ALICE, "satu")
        await server.user_sends_text(ALICE, "dua")
        await server.wait_until(lambda: forwarder.idle or None, timeout=10)
        # a fails, b fails, a fails, b takes it; then the second update (held back until the
        # first was acknowledged) goes to a.
        assert [(name, status) for name, _, status in log] == [
            ("a", "500"), ("b", "500"), ("a", "500"), ("b", None), ("a", None)
        ]
        ok = [d for d in forwarder.deliveries if d.ok]
        assert len(ok) == 2 and ok[0].update_id < ok[1].update_id
        assert first.text == "satu"


async def test_different_chats_run_concurrently_one_chat_in_order_unless_asked():
    log: list[tuple[str, int, str | None]] = []
    a = Receiver("a", log, hold=0.3)
    async with BotApiServer() as server, receivers(a) as urls, bot_for(server) as bot:
        forwarder = server.forward_webhook(urls)
        await bot.set_webhook("https://lapor.example/telegram")
        await server.user_sends_text(ALICE, "1")
        await server.user_sends_text(ALICE, "2")
        await server.user_sends_text(BUDI, "3")
        await server.wait_until(lambda: forwarder.idle or None, timeout=10)
        assert a.max_active == 2  # Alice's first and Budi's together; Alice's second after
        forwarder.per_chat_order = False
        a.max_active = 0
        await server.user_sends_text(ALICE, "4")
        await server.user_sends_text(ALICE, "5")
        await server.wait_until(lambda: forwarder.idle or None, timeout=10)
        assert a.max_active == 2


def test_chat_of_an_update():
    assert update_chat_id({"update_id": 1, "message": {"chat": {"id": 5}}}) == 5
    assert update_chat_id({"update_id": 1, "callback_query": {"from": {"id": 7}, "message": {"chat": {"id": 6}}}}) == 6
    assert update_chat_id({"update_id": 1, "my_chat_member": {"chat": {"id": 8}, "from": {"id": 9}}}) == 8
