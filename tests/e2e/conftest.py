from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.botapi import BotApiServer, Limits, SimUser
from tests.e2e.botprocess import BotProcess


@pytest.fixture
async def api_server() -> AsyncIterator[BotApiServer]:
    # Telegram's limits stay on; a generous burst keeps a split summary from tripping 429s in
    # the middle of an assertion (the delivery tests inject 429s on purpose).
    async with BotApiServer(limits=Limits(per_chat_burst=20, global_burst=60)) as server:
        yield server


@pytest.fixture
async def bot_process(api_server, tmp_path) -> AsyncIterator[BotProcess]:
    # The coordinator has talked to the bot before (else Telegram answers "chat not found").
    api_server.add_user(SimUser(id=9000, first_name="Admin"))
    proc = BotProcess(api_server, f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", tmp_path)
    try:
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.stop()
