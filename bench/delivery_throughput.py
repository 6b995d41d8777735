"""How fast the delivery loop empties the outbox, against the local Bot API server.

Enqueues N messages to N different chats (an announcement's shape) and runs the real
DeliveryWorker with the configured global rate; prints the achieved rate, the time to drain,
peak RSS, and Telegram-side 429s. Run on SQLite (default) or PostgreSQL:

    python bench/delivery_throughput.py --n 600 --rate 25
    python bench/delivery_throughput.py --n 600 --rate 25 --db postgresql+asyncpg://postgres@127.0.0.1/lapor_bench

Targets (from Telegram's limits): the achieved rate stays within 10% below the configured rate
and never above Telegram's ~30/s, with zero 429s from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

import storage.models  # noqa: F401
from bot.services.delivery import DeliveryWorker
from bot.services.outbox import enqueue_message
from sandbox.botapi import BotApiServer, Limits, SimUser
from storage.base import Base
from storage.db import create_engine, create_session_factory
from storage.models import Outbox


async def main(n: int, rate: float, db_url: str | None) -> None:
    tmp = tempfile.mkdtemp()
    url = db_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    sf = create_session_factory(engine)

    async with BotApiServer(limits=Limits(global_rate=30.0, global_burst=30)) as server:
        for i in range(n):
            server.add_user(SimUser(id=100_000 + i, first_name=f"Warga {i}"))
        async with sf() as s:
            for i in range(n):
                await enqueue_message(s, 100_000 + i, f"<b>Pengumuman</b> nomor {i}", group_key="bench")
            await s.commit()

        bot = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
        worker = DeliveryWorker(bot, sf, global_rate=rate, per_chat_interval=1.0)
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(worker.run_forever(stop, idle_sleep=0.2))
        while True:
            async with sf() as s:
                left = await s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "sent"))
            if left == 0:
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        stop.set()
        worker.wake()
        await task
        await bot.session.close()
        throttled = sum(1 for r in server.sent_requests if r.status == 429)

    await engine.dispose()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"db={url.split(':')[0]} n={n} configured={rate}/s")
    print(f"drained in {elapsed:.1f}s -> {n / elapsed:.1f} msg/s; 429s from server: {throttled}; "
          f"peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--rate", type=float, default=25.0)
    ap.add_argument("--db", default=None)
    a = ap.parse_args()
    asyncio.run(main(a.n, a.rate, a.db))
