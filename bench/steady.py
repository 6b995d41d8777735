"""Updates at a steady rate against the real ``lapor-bot run`` process: the latency from an update
to the bot's first reply, beside the echo bot at the same rate (issue 15).

bench/concurrency.py is closed-loop: N citizens each wait for an answer, so a slow bot slows the
arrivals and hides its own latency. Here arrivals are open-loop: update k is sent at
``start + k / rate`` whatever the bot does. Each update is one citizen's next form step (a
citizen sends its next step only after the previous one was answered and ``--think`` seconds
passed); when no citizen is ready at a slot, a new one starts with /start. So the rate is held
and the number of citizens grows with the bot's latency. Per update: the time from its arrival at
the local Bot API server to the bot's first successful request in that chat (the reply, or the
button's answer), and to the whole answer the step waits for; the bot's CPU from /proc.

    python bench/steady.py --rates 25,50,100 --seconds 60
    python bench/steady.py --rates 100 --db postgresql+asyncpg://postgres@127.0.0.1/lapor_bench \\
        --redis redis://127.0.0.1:6379/5

The PostgreSQL database must be empty (or only migrated), as for bench/concurrency.py. One bot
process serves every rate of a run, each rate with citizens of its own; a warm-up precedes each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.concurrency import bench_server, cpu_seconds, echo_bot, lapor_bot, lapor_label, machine  # noqa: E402
from bench.loop_probe import window_report  # noqa: E402
from sandbox.botapi import BotApiServer, SimUser  # noqa: E402
from tests.e2e.crowd import WALK, ChatWatch, Citizen, Step, echo_walk  # noqa: E402


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


class CpuMeter:
    """CPU% of some processes over a window. Sampled (``sample``) now and then, so that a process
    that ends meanwhile keeps what it used; one that starts meanwhile counts from when first seen."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._t = time.monotonic()
        self.sample()

    def sample(self) -> None:
        for pid in self._pids():
            if used := cpu_seconds(pid):
                self._first.setdefault(pid, used)
                self._last[pid] = used

    def percent(self) -> float:
        self.sample()
        used = sum(self._last[p] - self._first[p] for p in self._last)
        return 100 * used / (time.monotonic() - self._t)


async def pg_backends(url: str) -> list[int]:
    """Pids of the PostgreSQL backends connected to this database (the bot's pool)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


@dataclass
class Sent:
    step: str
    first_reply: float | None  # seconds; None: unanswered
    answer: float | None


@dataclass
class SteadyResult:
    rate: float  # asked for
    seconds: float
    sent: list[Sent] = field(default_factory=list)
    sending_seconds: float = 0.0  # from the first slot to one slot after the last update sent
    late: list[float] = field(default_factory=list)  # how late each slot was sent (the driver's lag)
    citizens: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU% over the window
    window: tuple[float, float] = (0.0, 0.0)  # monotonic, for the loop probe's records

    @property
    def achieved(self) -> float:
        return len(self.sent) / self.sending_seconds if self.sending_seconds else 0.0

    @property
    def unanswered(self) -> int:
        return sum(1 for s in self.sent if s.first_reply is None)

    def quantiles(self, what: str) -> tuple[float, float, float]:
        values = sorted(getattr(s, what) for s in self.sent if getattr(s, what) is not None)
        if len(values) < 2:
            return (float("nan"),) * 3
        q = statistics.quantiles(values, n=100, method="inclusive")
        return statistics.median(values) * 1000, q[94] * 1000, q[98] * 1000


class SteadyCrowd:
    """Sends ``rate`` updates a second for ``seconds``, each the next step of a ready citizen."""

    def __init__(self, server: BotApiServer, steps: tuple[Step, ...], *, first_id: int, think: float,
                 timeout: float) -> None:
        self.server = server
        self.steps = steps
        self.think = think
        self.timeout = timeout
        self._next_id = first_id
        self._ready: deque[tuple[Citizen, int]] = deque()
        self._inflight: set[asyncio.Task] = set()
        self._stopping = False

    async def run(self, rate: float, seconds: float, *, warmup: float = 0.0,
                  meter: Callable[[], dict[str, CpuMeter]] | None = None) -> SteadyResult:
        result = SteadyResult(rate, seconds)
        watch = ChatWatch(self.server)
        slots = int((warmup + seconds) * rate)
        started = time.monotonic()
        measured_from = started + warmup
        meters: dict[str, CpuMeter] = {}
        try:
            for k in range(slots):
                due = started + k / rate
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                now = time.monotonic()
                counted = due >= measured_from
                if counted and not meters and meter is not None:
                    meters = meter()
                    result.window = (now, now + seconds)
                if k % max(1, int(rate)) == 0:
                    for m in meters.values():
                        m.sample()
                if counted:
                    result.late.append(now - due)
                    result.sending_seconds = now - measured_from + 1 / rate
                citizen, index = self._ready.popleft() if self._ready else self._newcomer(watch, counted, result)
                task = asyncio.create_task(self._step(citizen, index, result if counted else None))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            result.cpu = {name: m.percent() for name, m in meters.items()}
            self._stopping = True
            # The steps of the last slots are waited for (up to the timeout), not counted lost.
            if self._inflight:
                await asyncio.wait(list(self._inflight), timeout=self.timeout + 5)
        finally:
            for task in self._inflight:
                task.cancel()
            watch.close()
        return result

    def _newcomer(self, watch: ChatWatch, counted: bool, result: SteadyResult) -> tuple[Citizen, int]:
        user = self.server.add_user(SimUser(id=self._next_id, first_name=f"Warga {self._next_id}"))
        self._next_id += 1
        result.citizens += counted
        return Citizen(self.server, watch, user), 0

    async def _step(self, citizen: Citizen, index: int, result: SteadyResult | None) -> None:
        step = self.steps[index]
        ok = await citizen.take(step, self.timeout)
        if result is not None:
            # A step that timed out waiting for a button never reached the bot: counted unanswered.
            result.sent.append(Sent(step.name, citizen.first_replies.get(step.name),
                                    citizen.timings.get(step.name) if ok else None))
        if not ok or index + 1 == len(self.steps):
            return
        await asyncio.sleep(self.think)
        if not self._stopping:
            self._ready.append((citizen, index + 1))


def report(label: str, r: SteadyResult) -> None:
    p50, p95, p99 = r.quantiles("first_reply")
    a50, a95, a99 = r.quantiles("answer")
    late = sorted(r.late)
    cpu = ", ".join(f"{name} {pct:.0f}%" for name, pct in r.cpu.items())
    print(f"{label} at {r.rate:g}/s for {r.seconds:g} s: sent {len(r.sent)} = {r.achieved:.1f}/s "
          f"({r.citizens} new citizens), unanswered {r.unanswered}\n"
          f"    first reply p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms; "
          f"whole answer p50 {a50:.0f}, p95 {a95:.0f}, p99 {a99:.0f} ms\n"
          f"    CPU: {cpu}; driver's lag p99 {late[int(0.99 * (len(late) - 1))] * 1000:.0f} ms, "
          f"max {late[-1] * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f}", flush=True)


async def sweep(label: str, server: BotApiServer, steps: tuple[Step, ...], first_id: int, pids: Callable[[], list[int]],
                args: argparse.Namespace, extra: Callable[[], dict[str, CpuMeter]] = dict) -> list[SteadyResult]:
    results = []
    for i, rate in enumerate(args.rates):
        crowd = SteadyCrowd(server, steps, first_id=first_id + i * 100_000, think=args.think, timeout=args.timeout)

        def meters() -> dict[str, CpuMeter]:
            return {"bot": CpuMeter(pids), "bench": CpuMeter(lambda: [os.getpid()]), **extra()}

        result = await crowd.run(rate, args.seconds, warmup=args.warmup, meter=meters)
        report(label, result)
        results.append(result)
    return results


def tree(pid: int) -> Callable[[], list[int]]:
    """A process and its children (the chart worker, if one started)."""
    return lambda: [pid, *children(pid)]


def probe_report(path: Path, results: list[SteadyResult]) -> None:
    """What held up the bot's event loop in each rate's window (bench/loop_probe.py)."""
    try:
        records = [json.loads(line) for line in path.read_text().splitlines()]
    except OSError:
        print("loop probe: no records (did the bot exit cleanly?)")
        return
    for r in results:
        window_report(f"at {r.rate:g}/s", records, *r.window)


async def refresh_backends(url: str, backends: list[int]) -> None:
    while True:
        backends[:] = sorted(set(backends) | set(await pg_backends(url)))
        await asyncio.sleep(2)


async def main(args: argparse.Namespace) -> None:
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_server(args.redis, args.timeout) as server:
            server.add_user(SimUser(id=9000, first_name="Admin"))  # hears of every new report
            if not args.no_echo:
                async with echo_bot(server) as proc:
                    await sweep("echo bot", server, echo_walk(), 5_000_000, tree(proc.pid), args)
            if args.no_lapor:
                return
            probe = Path(tmp) / "probe.jsonl"
            env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "bench" / "loop_probe_site"), str(ROOT)]),
                   "BENCH_LOOP_PROBE": str(probe)} if args.probe else None
            backends: list[int] = []
            refresher = asyncio.create_task(refresh_backends(args.db, backends)) if args.db else None

            def pg() -> dict[str, CpuMeter]:
                return {"PostgreSQL": CpuMeter(lambda: backends)} if args.db else {}

            try:
                async with lapor_bot(server, args.db, args.redis, Path(tmp), args.keep_log, extra_env=env) as proc:
                    results = await sweep(lapor_label(args.db, args.redis), server, WALK, 6_000_000,
                                          tree(proc.proc.pid), args, pg)
            finally:
                if refresher:
                    refresher.cancel()
            if args.probe:
                probe_report(probe, results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], default=[25.0, 50.0, 100.0],
                        help="updates a second, comma-separated (default 25,50,100)")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds per rate")
    parser.add_argument("--warmup", type=float, default=5, help="seconds at the rate before measuring")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a citizen waits after an answer before it is ready for its next step")
    parser.add_argument("--db", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--redis", help="a Redis URL for FSM state and the chat locks")
    parser.add_argument("--timeout", type=float, default=30, help="seconds an update waits for its answer")
    parser.add_argument("--keep-log", help="copy the bot's log here")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo bot")
    parser.add_argument("--no-lapor", action="store_true", help="the echo bot only")
    parser.add_argument("--probe", action="store_true",
                        help="record what holds up the bot's event loop (bench/loop_probe.py; a fresh interpreter)")
    asyncio.run(main(parser.parse_args()))
