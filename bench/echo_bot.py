"""The yardstick of bench/concurrency.py: a minimal aiogram bot that echoes every text message.

    python bench/echo_bot.py TOKEN API_BASE

Polling as ``lapor-bot run`` does (tasks per update, no database): what the same machine and
local Bot API server manage when the bot itself does nearly nothing.
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main(token: str, api_base: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    await dp.start_polling(bot, handle_as_tasks=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
