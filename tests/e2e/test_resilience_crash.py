"""Issue 11: an update being handled when the process is killed (kill -9) is handled after the
restart, once, in polling and in webhook mode (the received-update journal, bot/journal.py)."""

from __future__ import annotations

import pytest

from sandbox.botapi import BotApiServer, SimUser
from tests.e2e.botprocess import BotProcess
from tests.e2e.test_webhook_e2e import SECRET, _free_port, _wait_port

pytestmark = pytest.mark.e2e

HELP = "/bantuan"


def _replies(server: BotApiServer, chat_id: int) -> list[str]:
    return [m.text or "" for m in server.bot_messages(chat_id)]


async def _kill_while_replying(server: BotApiServer, proc: BotProcess, user: SimUser) -> None:
    """The citizen asks for help; Telegram holds the bot's answer (never delivering it) and the
    process is killed while its handler waits."""
    server.faults.add("sendMessage", chat_id=user.id, kind="timeout", hang=120)
    await server.user_sends_text(user, HELP)
    await server.wait_until(
        lambda: any(r.method == "sendMessage" and "injected timeout" in (r.description or "")
                    for r in server.sent_requests), timeout=60)
    await proc.kill()
    server.faults.clear()


async def test_polling_an_update_killed_mid_handler_is_answered_after_the_restart(api_server, bot_process):
    user = api_server.add_user(SimUser(id=5301, first_name="Dewi"))
    await bot_process.start()
    await _kill_while_replying(api_server, bot_process, user)
    assert _replies(api_server, user.id) == []

    await bot_process.start()
    await api_server.wait_until(lambda: _replies(api_server, user.id), timeout=120)
    assert await bot_process.stop() == 0
    [answer] = _replies(api_server, user.id)  # once: not also as a new update
    assert answer
    assert api_server.violations == []


async def test_webhook_an_update_killed_mid_handler_is_answered_after_the_restart(api_server, tmp_path):
    port = _free_port()
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}", tmp_path, extra_env={
        "LAPOR_TELEGRAM__MODE": "webhook",
        "LAPOR_TELEGRAM__WEBHOOK_URL": "https://lapor.example/telegram",
        "LAPOR_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "LAPOR_TELEGRAM__WEBHOOK_PORT": str(port),
    })
    user = api_server.add_user(SimUser(id=5302, first_name="Rina"))
    api_server.add_user(SimUser(id=9000, first_name="Admin"))
    # Telegram posts each update until a process answers 2xx.
    api_server.forward_webhook([f"http://127.0.0.1:{port}/telegram"], retry_delay=1.0)
    try:
        await proc.start_without_polling()
        await _wait_port(port, timeout=120)
        await _kill_while_replying(api_server, proc, user)
        assert _replies(api_server, user.id) == []

        await proc.start_without_polling()
        await api_server.wait_until(lambda: _replies(api_server, user.id), timeout=120)
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            assert await proc.stop() == 0
    [answer] = _replies(api_server, user.id)
    assert answer
    assert api_server.violations == []
