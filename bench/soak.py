"""Soak: many simulated citizens against the real `lapor-bot run`, with random kill -9s and
injected Bot API faults (issue 11). Not run in CI.

Each citizen starts the bot, picks a language, agrees, then keeps asking for help (/bantuan),
their reports (/laporan) and the menu (/start), waiting for each answer before thinking a
moment and asking again. Every action makes exactly one new message, so in the end each chat
must hold exactly as many bot messages as actions. Meanwhile the process is killed with
SIGKILL every so often and started again, and a share of Bot API requests fails (500, nginx's
502 page, 429, a slow answer, a connection dropped after the request was carried out).

Reported:
- lost updates: updates Telegram handed out that the bot never finished handling (its
  received_update journal);
- duplicate sends: bot messages beyond one per action;
- unanswered actions: no answer within --answer-timeout;
- reaction time (action to its answer; p50, p99, max), kills, faults, 429s, refused requests.

    python bench/soak.py                                   # 300 citizens, 10 minutes
    python bench/soak.py --citizens 100 --minutes 3 --kill-every 45 --fault-rate 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from sandbox.botapi import BotApiServer, Limits, SimUser
from tests.e2e.botprocess import BotProcess

ACTIONS = ("/bantuan", "/laporan", "/start")
FAULT_KINDS = ("5xx", "502", "429", "slow", "network")


@dataclass
class Tally:
    actions: int = 0
    expected_messages: dict[int, int] = field(default_factory=dict)
    reactions: list[float] = field(default_factory=list)
    unanswered: int = 0
    kills: int = 0
    pushed: set[int] = field(default_factory=set)


class Citizen:
    def __init__(self, server: BotApiServer, user: SimUser, tally: Tally, timeout: float) -> None:
        self.server, self.user, self.tally, self.timeout = server, user, tally, timeout
        tally.expected_messages[user.id] = 0

    def _count(self) -> int:
        return len(self.server.bot_messages(self.user.id))

    async def _await_message(self, before: int, started: float) -> bool:
        while time.monotonic() - started < self.timeout:
            if self._count() > before:
                self.tally.reactions.append(time.monotonic() - started)
                return True
            await asyncio.sleep(0.2)
        self.tally.unanswered += 1
        return False

    async def say(self, text: str) -> bool:
        before, started = self._count(), time.monotonic()
        self.tally.actions += 1
        self.tally.expected_messages[self.user.id] += 1
        await self.server.user_sends_text(self.user, text)
        return await self._await_message(before, started)

    async def tap(self, label: str) -> bool:
        """Tap the newest button with ``label``; the answer is the next message (the notice, the menu)."""
        for msg in reversed(self.server.bot_messages(self.user.id)):
            for row in msg.inline_keyboard:
                for button in row:
                    if label.lower() in button["text"].lower() and "callback_data" in button:
                        before, started = self._count(), time.monotonic()
                        self.tally.actions += 1
                        self.tally.expected_messages[self.user.id] += 1
                        await self.server.user_presses(self.user, msg.message_id, button["callback_data"])
                        return await self._await_message(before, started)
        return False

    async def live(self, until: float, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, 20))  # citizens arrive over the first 20 s
        if not await self.say("/start") or not await self.tap("Bahasa Indonesia") or not await self.tap("Setuju"):
            return
        while time.monotonic() < until:
            await asyncio.sleep(rng.uniform(5, 20))
            await self.say(rng.choice(ACTIONS))


async def killer(proc: BotProcess, until: float, every: float, tally: Tally, rng: random.Random) -> None:
    while True:
        await asyncio.sleep(rng.uniform(every * 0.5, every * 1.5))
        if time.monotonic() >= until:
            return
        await proc.kill()
        tally.kills += 1
        await proc.start()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    tally = Tally()
    workdir = Path(tempfile.mkdtemp(prefix="lapor-soak-"))
    db_url = args.db or f"sqlite+aiosqlite:///{workdir / 'soak.db'}"
    async with BotApiServer(limits=Limits(callback_answer_timeout=60)) as server:
        push = server.state.push_update

        def recording_push(kind, payload):
            update = push(kind, payload)
            tally.pushed.add(update["update_id"])
            return update

        server.state.push_update = recording_push  # type: ignore[method-assign]
        server.add_user(SimUser(id=9000, first_name="Admin"))
        proc = BotProcess(server, db_url, workdir, extra_env={"LAPOR_TELEGRAM__REQUEST_TIMEOUT": "10"})
        await proc.start()
        if args.fault_rate:
            server.faults.at_random(args.fault_rate, FAULT_KINDS, seed=args.seed, retry_after=1, hang=2.0,
                                    deliver=True)
        citizens = [Citizen(server, server.add_user(SimUser(id=700_000 + i, first_name=f"Warga {i}")), tally,
                            args.answer_timeout) for i in range(args.citizens)]
        started = time.monotonic()
        until = started + args.minutes * 60
        kills = asyncio.create_task(killer(proc, until, args.kill_every, tally, rng)) if args.kill_every else None
        await asyncio.gather(*(c.live(until, random.Random(rng.random())) for c in citizens))
        if kills is not None:
            await kills
        server.faults.clear()
        await asyncio.sleep(5)  # let the last answers and replays land
        assert await proc.stop(signal.SIGTERM, timeout=60) == 0, proc.log()
        elapsed = time.monotonic() - started

        engine = create_async_engine(db_url)
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT update_id FROM received_update WHERE done_at IS NOT NULL"))
            done = {row[0] for row in rows}
            again = await conn.execute(text("SELECT count(*) FROM received_update WHERE attempts > 1"))
            replayed = again.scalar_one()
        await engine.dispose()
        duplicates = sum(max(0, len(server.bot_messages(cid)) - n) for cid, n in tally.expected_messages.items())
        missing = sum(max(0, n - len(server.bot_messages(cid))) for cid, n in tally.expected_messages.items())
        injected = [r for r in server.sent_requests if "injected" in (r.description or "")]
        result = {
            "citizens": args.citizens,
            "minutes": round(elapsed / 60, 1),
            "database": "postgresql" if args.db else "sqlite",
            "actions": tally.actions,
            "updates": len(tally.pushed),
            "lost_updates": len(tally.pushed - done),
            "duplicate_sends": duplicates,
            "unanswered_actions": tally.unanswered,
            "messages_missing_at_end": missing,
            "reaction_p50_s": round(_percentile(tally.reactions, 0.50), 2),
            "reaction_p99_s": round(_percentile(tally.reactions, 0.99), 2),
            "reaction_max_s": round(max(tally.reactions, default=float("nan")), 2),
            "reaction_mean_s": round(statistics.fmean(tally.reactions), 2) if tally.reactions else None,
            "kills": tally.kills,
            "updates_handled_again_after_a_kill": replayed,
            "faults_injected": len(injected),
            "telegram_429": sum(1 for r in server.sent_requests if r.status == 429
                                and "injected" not in (r.description or "")),
            "refused_requests": len(server.violations),
            "refused_by_kind": dict(Counter(f"{v.method}: {v.description[:50]}" for v in server.violations)),
        }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--kill-every", type=float, default=60, help="mean seconds between kill -9s (0: never)")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of Bot API requests that fail")
    parser.add_argument("--answer-timeout", type=float, default=120,
                        help="seconds before an action counts as unanswered")
    parser.add_argument("--db", help="a PostgreSQL URL (postgresql+asyncpg://...); default a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=11)
    figures = asyncio.run(main(parser.parse_args()))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
