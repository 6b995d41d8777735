"""`lapor-bot officers invite` where Telegram cannot be reached: the running bot remembered its
username in the database, and the command line uses it."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.botprocess import ROOT
from tests.e2e.zygote_client import run_cli

pytestmark = pytest.mark.e2e


async def _cli(env: dict[str, str], cwd, *argv: str) -> tuple[int, str, str]:
    done = await asyncio.to_thread(run_cli, list(argv), env=env, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


async def test_invite_uses_the_username_the_running_bot_saw(api_server, bot_process, tmp_path):
    env = bot_process.env()
    code, _out, err = await _cli(env, tmp_path, "agencies", "import",
                                 str(ROOT / "examples" / "agencies-ppu.toml"))
    assert code == 0, err
    await bot_process.start()
    assert await bot_process.stop() == 0

    # Telegram is gone now: nothing listens at the configured Bot API address.
    await api_server.stop()
    code, out, err = await _cli(env, tmp_path, "officers", "invite", "PUPR")
    assert code == 0, err
    assert "https://t.me/lapor_bot?start=inv_" in out  # what the server's getMe said
