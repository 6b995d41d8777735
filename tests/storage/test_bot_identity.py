"""The bot's remembered username on SQLite and PostgreSQL: processes starting together, a
renamed bot, and another bot's row never answering for this one."""

from __future__ import annotations

import asyncio

from bot.services.bot_identity import known_username, remember_username


async def test_the_latest_name_wins_and_each_bot_keeps_its_own(session_factory):
    # Two processes of one bot start at once: one row, no unique-key error.
    await asyncio.gather(*(remember_username(session_factory, 111, "lapor_bot") for _ in range(4)))
    await remember_username(session_factory, 222, "other_bot")
    await remember_username(session_factory, 111, "lapor_ppu_bot")  # renamed in @BotFather
    await remember_username(session_factory, 333, None)  # getMe without a username: nothing kept
    async with session_factory() as s:
        assert await known_username(s, 111) == "lapor_ppu_bot"
        assert await known_username(s, 222) == "other_bot"
        assert await known_username(s, 333) is None
        # Without a token the bot that started last is meant.
        assert await known_username(s, None) == "lapor_ppu_bot"


async def test_nothing_known_before_the_bot_ever_ran(session_factory):
    async with session_factory() as s:
        assert await known_username(s, 111) is None
        assert await known_username(s, None) is None
