"""The real process: starts, migrates its SQLite database, sets its menus, answers, and stops
cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import create_engine, inspect

from sandbox.botapi import SimUser

pytestmark = pytest.mark.e2e


async def test_starts_answers_and_stops_cleanly(api_server, bot_process, tmp_path):
    # The console entry point itself, a fresh interpreter (the other e2e tests fork a zygote).
    bot_process.real_exec = True
    await bot_process.start()
    # Menus in both languages.
    menus = api_server.requests("setMyCommands")
    assert {r.params.get("language_code") for r in menus} >= {None, "en"}
    # The configured admin's own menu, in its chat (BotCommandScopeChat).
    admin_menu = api_server.state.commands[('{"chat_id": 9000, "type": "chat"}', "")]
    assert {"verifikasi", "umumkan", "templat"} <= {c["command"] for c in admin_menu}

    warga = api_server.add_user(SimUser(id=5001, first_name="Siti"))
    await api_server.user_sends_text(warga, "/start")
    reply = await api_server.wait_for_bot_message(warga.id, timeout=20)
    assert reply.text
    assert await bot_process.stop(signal.SIGTERM) == 0
    assert "Traceback" not in bot_process.full_log()

    tables = inspect(create_engine(f"sqlite:///{tmp_path / 'e2e.db'}")).get_table_names()
    assert {"report", "citizen", "alembic_version", "outbox"} <= set(tables)

    before = len(api_server.requests("setMyCommands"))
    await bot_process.start()
    assert len(api_server.requests("setMyCommands")) == before  # nothing changed: nothing re-sent
    assert await bot_process.stop(signal.SIGINT) == 0
    assert api_server.violations == []
