"""Webhook mode: the real process registers its webhook, answers only Telegram's secret, and
handles an update before it says 200 (so Telegram would retry an update a crash interrupted)."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from sandbox.botapi import SimUser
from tests.e2e.botprocess import BotProcess

pytestmark = pytest.mark.e2e
SECRET = "s3cret-token_for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_port(port: int, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise AssertionError("webhook port never opened")


async def test_webhook_mode_serves_updates_with_the_secret(api_server, tmp_path):
    port = _free_port()
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}", tmp_path, extra_env={
        "LAPOR_TELEGRAM__MODE": "webhook",
        "LAPOR_TELEGRAM__WEBHOOK_URL": "https://lapor.example/telegram",
        "LAPOR_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "LAPOR_TELEGRAM__WEBHOOK_PORT": str(port),
    })
    api_server.add_user(SimUser(id=9000, first_name="Admin"))
    user = api_server.add_user(SimUser(id=5101, first_name="Rina"))
    await proc.start_without_polling()
    try:
        await _wait_port(port)
        await api_server.wait_until(lambda: api_server.requests("setWebhook"), timeout=30)
        hook = api_server.requests("setWebhook")[-1].params
        assert hook["url"] == "https://lapor.example/telegram" and hook["secret_token"] == SECRET

        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 1, "chat": {"id": user.id, "type": "private"},
            "from": user.to_api(), "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        }}
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/telegram"
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 401
            before = len(api_server.requests("sendMessage"))
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                assert r.status == 200
            # Handled before the answer: the reply was already sent when the 200 came back.
            sent = api_server.requests("sendMessage")[before:]
            replies = [q for q in sent if q.params.get("chat_id") in (user.id, str(user.id))]
            assert replies
        assert not api_server.requests("getUpdates")
    finally:
        assert await proc.stop() == 0
    assert api_server.violations == []


def _webhook_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "LAPOR_TELEGRAM__MODE": "webhook",
        "LAPOR_TELEGRAM__WEBHOOK_URL": "https://lapor.example/telegram",
        "LAPOR_TELEGRAM__WEBHOOK_PORT": str(port),
        **extra,
    }


async def test_webhook_mode_refuses_to_start_without_a_secret(api_server, tmp_path):
    """Issue #10: without a secret anyone who finds the URL could post updates as an admin."""
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}", tmp_path,
                      extra_env=_webhook_env(_free_port()))
    await proc.start_without_polling()
    assert await asyncio.wait_for(proc.proc.wait(), 60) == 2
    log = proc.log().split("===\n", 1)[1].strip()
    assert "telegram.webhook_secret is required" in log and "\n" not in log, log
    assert not api_server.requests("setWebhook") and not api_server.requests("getMe")


async def test_forged_updates_without_the_secret_are_refused(api_server, tmp_path):
    """A forged update "from" an admin asking for every report (/ekspor) is refused before any
    handler runs, with no header and with a wrong one; the same update from Telegram works."""
    port = _free_port()
    admin = api_server.add_user(SimUser(id=9000, first_name="Admin"))
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}", tmp_path,
                      extra_env=_webhook_env(port, LAPOR_TELEGRAM__WEBHOOK_SECRET=SECRET))
    await proc.start_without_polling()
    try:
        await _wait_port(port)
        await api_server.wait_until(lambda: api_server.requests("setWebhook"), timeout=30)
        forged = {"update_id": 7, "message": {
            "message_id": 7, "date": 1, "chat": {"id": admin.id, "type": "private"},
            "from": admin.to_api(), "text": "/ekspor 2026 xlsx",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        }}

        def to_admin() -> list:
            sent = api_server.state.sent_requests
            return [q for q in sent if str(q.params.get("chat_id")) == str(admin.id)]

        before = len(to_admin())
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"},
                            {"X-Telegram-Bot-Api-Secret-Token": ""}):
                async with http.post(url, json=forged, headers=headers) as r:
                    assert r.status == 401, headers
            # Updates are handled before the answer: a refused one has done nothing by now.
            assert len(to_admin()) == before
            async with http.post(url, json={**forged, "update_id": 8},
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                assert r.status == 200
            assert any(q.method == "sendDocument" for q in to_admin()[before:])
    finally:
        assert await proc.stop() == 0
    assert api_server.violations == []
