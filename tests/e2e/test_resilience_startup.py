"""Issue 11: the real process starts through Telegram's hiccups, and stops with one line on what
no retry can fix (a rejected token, a database it cannot open)."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from sandbox.botapi import SimUser
from tests.e2e.botprocess import BotProcess

pytestmark = pytest.mark.e2e


async def test_start_up_waits_out_every_transient_fault(api_server, bot_process):
    # The start-up calls fail first in each way Telegram or the network can fail.
    for kind in ("5xx", "502", "network"):
        api_server.faults.add("getMe", kind=kind)
    api_server.faults.add("setMyCommands", kind="timeout", hang=3)
    api_server.faults.add("setMyCommands", kind="429", retry_after=1)
    bot_process.extra_env["LAPOR_TELEGRAM__REQUEST_TIMEOUT"] = "2"
    try:
        await bot_process.start()
    except BaseException:
        print(bot_process.log())
        raise

    warga = api_server.add_user(SimUser(id=5001, first_name="Siti"))
    await api_server.user_sends_text(warga, "/start")
    assert (await api_server.wait_for_bot_message(warga.id, timeout=20)).text
    assert not api_server.faults.pending
    assert await bot_process.stop(signal.SIGTERM) == 0
    assert "Traceback" not in bot_process.full_log()
    assert api_server.violations == []


async def test_a_rejected_token_is_the_one_fatal_answer(api_server, tmp_path):
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", tmp_path,
                      extra_env={"LAPOR_TELEGRAM__TOKEN": "999999:" + "B" * 35})
    await proc.start_without_polling()
    assert await asyncio.wait_for(proc.proc.wait(), 120) == 2
    lines = [line for line in proc.log().splitlines() if "lapor-bot:" in line]
    assert lines == ["lapor-bot: configuration error: telegram.token was rejected by Telegram (Unauthorized)"]
    assert "Traceback" not in proc.full_log()


@pytest.mark.parametrize("url, cause", [
    ("sqlite+aiosqlite:///{tmp}/no/such/folder/lapor.db", "unable to open database file"),
    ("postgresql+asyncpg://lapor@127.0.0.1:1/lapor", "cannot connect"),
], ids=["sqlite-missing-folder", "postgresql-down"])
async def test_a_database_that_cannot_be_opened_is_one_line(tmp_path, url, cause):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LAPOR_TELEGRAM__TOKEN": "123456789:" + "A" * 35,
             "LAPOR_DATABASE__URL": url.format(tmp=tmp_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 2, err.decode()
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lapor-bot: configuration error: database.url ("), lines
    assert cause in lines[0]
