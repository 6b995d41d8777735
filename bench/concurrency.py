"""N citizens walking the /lapor form at once against the real ``lapor-bot run`` process, beside
a minimal aiogram echo bot on the same local Bot API server in the same run (issue 15).

Each citizen onboards (/start, language, consent) and files a complaint (10 steps), waiting for
every answer as a person would. The echo bot gets as many messages from as many citizens. The
server runs without rate limits: the subject is the bot, not Telegram's pace. On 2 shared cores
read the ratio, not the absolute figures.

    python bench/concurrency.py --citizens 200
    python bench/concurrency.py --citizens 1000 --db postgresql+asyncpg://postgres@127.0.0.1/lapor_bench \\
        --redis redis://127.0.0.1:6379/5

The PostgreSQL database must exist and be empty (or only migrated); the script migrates it, and
refuses one with citizens. With Redis each run has a bot id of its own (its FSM keys are its own).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.botapi import BotApiServer, Limits, SimUser  # noqa: E402
from tests.e2e.botprocess import BotProcess  # noqa: E402
from tests.e2e.crowd import WALK, CrowdResult, echo_walk, run_crowd  # noqa: E402
from tests.e2e.own_bot import server_with_own_bot_id  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


@asynccontextmanager
async def measured(pid: int, spy: str | None = None, gil: bool = False) -> AsyncIterator[dict[str, float]]:
    """The process's CPU seconds over the block (the crowd alone, not the start-up); with ``spy``,
    a py-spy sampling of the block written there (raw collapsed stacks, for a flame graph); with
    ``gil``, only samples of the thread holding the GIL (what costs CPU, not a wait for the GIL
    after a hand-over between threads, which the plain sampling counts as busy)."""
    seen: dict[str, float] = {}
    recorder = None
    if spy:
        recorder = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(pid), "--format", "raw", "--output", spy, "--rate", "200",
            "--nonblocking", *(["--gil"] if gil else []), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = cpu_seconds(pid)
    try:
        yield seen
    finally:
        seen["cpu"] = cpu_seconds(pid) - before
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            await recorder.wait()


def report(label: str, result: CrowdResult, steps, cpu: float | None = None) -> None:
    print(f"\n{label}: {len(result.citizens)} citizens, {result.updates} updates in {result.seconds:.1f} s "
          f"= {result.rate:.0f} updates/s; unanswered: {len(result.unanswered)}")
    if cpu is not None and result.updates:
        print(f"    process CPU over the crowd: {cpu:.1f} s = {cpu / result.updates * 1000:.1f} ms per update")
    for c in result.unanswered[:3]:
        print("   ", c.user.id, c.failed)
    print(f"    {'step':<10} {'p50 ms':>8} {'p99 ms':>8}")
    for step in steps:
        print(f"    {step.name:<10} {result.percentile(step.name, 0.5) * 1000:8.0f} "
              f"{result.percentile(step.name, 0.99) * 1000:8.0f}")


@asynccontextmanager
async def echo_bot(server: BotApiServer) -> AsyncIterator[asyncio.subprocess.Process]:
    """``bench/echo_bot.py`` polling ``server``, until the block ends."""
    polls_before = server.state.poll_generation
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "echo_bot.py"), server.token, server.base_url,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Its first long poll counts when it arrives; the server records it only when answered,
        # at its timeout (as tests/e2e/botprocess.py waits for the bot's). Importing aiogram builds
        # pydantic's schemas (~8 s of CPU): at load 11 on 2 cores that took over a minute.
        await server.wait_until(lambda: server.state.poll_generation > polls_before or None, timeout=300)
        yield proc
    finally:
        proc.terminate()
        await proc.wait()


async def echo_run(server: BotApiServer, citizens: int, timeout: float) -> CrowdResult:
    steps = echo_walk()
    async with echo_bot(server) as proc, measured(proc.pid) as cpu:
        result = await run_crowd(server, citizens, steps, first_id=5_000_000, timeout=timeout)
    report("echo bot", result, steps, cpu.get("cpu"))
    return result


async def _refuse_used(url: str) -> None:
    """Citizens of an earlier run answer differently (already agreed, mid-form): start empty."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            known = await conn.scalar(text("SELECT count(*) FROM citizen"))
    finally:
        await engine.dispose()
    if known:
        sys.exit(f"{url} holds {known} citizens of an earlier run: give an empty database")


@asynccontextmanager
async def lapor_bot(server: BotApiServer, db: str | None, redis: str | None, workdir: Path,
                    keep_log: str | None = None, profile: str | None = None,
                    extra_env: dict[str, str] | None = None) -> AsyncIterator[BotProcess]:
    """The real ``lapor-bot run`` polling ``server``, until the block ends; ``db`` None: a fresh
    SQLite file in ``workdir``. ``extra_env`` starts a fresh interpreter (not the e2e zygote's
    fork) so that start-up options in it take effect."""
    url = db or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    # Telegram's pace is not the subject (the server does not limit it, and the echo bot keeps
    # none): without this the bot's own pacer (25 messages/s overall, one a second per chat)
    # capped the run, not the bot's work.
    env = {"LAPOR_DELIVERY__GLOBAL_RATE": "1000", "LAPOR_DELIVERY__PER_CHAT_INTERVAL": "0"}
    if redis:
        env["LAPOR_REDIS__URL"] = redis
    env.update(extra_env or {})
    proc = BotProcess(server, url, workdir, extra_env=env, real_exec=bool(extra_env),
                      python_args=("-m", "cProfile", "-o", profile) if profile else ())
    if db:
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=proc.env(), cwd=workdir, check=True,
                       capture_output=True)
        await _refuse_used(db)
    await proc.start()
    try:
        yield proc
    finally:
        await proc.stop()
        if keep_log:
            shutil.copy(proc.log_path, keep_log)


def lapor_label(db: str | None, redis: str | None) -> str:
    return f"lapor-bot ({'PostgreSQL' if db else 'SQLite'}{' + Redis' if redis else ''})"


async def lapor_run(server: BotApiServer, citizens: int, db: str | None, redis: str | None, timeout: float,
                    workdir: Path, keep_log: str | None = None, profile: str | None = None,
                    spy: str | None = None, spy_gil: bool = False) -> CrowdResult:
    async with lapor_bot(server, db, redis, workdir, keep_log, profile) as proc:
        assert proc.proc is not None
        async with measured(proc.proc.pid, spy, spy_gil) as cpu:
            result = await run_crowd(server, citizens, WALK, first_id=6_000_000, timeout=timeout)
    report(lapor_label(db, redis), result, WALK, cpu.get("cpu"))
    return result


def bench_server(redis: str | None, timeout: float) -> AbstractAsyncContextManager[BotApiServer]:
    """The local Bot API server, without rate limits."""
    # Button answers may come late in a burst (as in tests/e2e/test_concurrency_e2e.py): the
    # citizen waits for them as for any answer, up to ``timeout``.
    limits = Limits.off(callback_answer_timeout=timeout)
    # With Redis, a bot id of this run's own: the FSM keys of an earlier run (same bot id, same
    # citizens' ids) outlive a fresh database, and citizens left mid-form by it got another
    # answer than the crowd waits for: the "unanswered" citizens of PostgreSQL + Redis runs.
    return server_with_own_bot_id(redis, limits, "Bench") if redis else BotApiServer(limits=limits)


def machine() -> str:
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}")


async def main(args: argparse.Namespace) -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_server(args.redis, args.timeout) as server:
            server.add_user(SimUser(id=9000, first_name="Admin"))  # hears of every new report
            echo = None if args.no_echo else await echo_run(server, args.citizens, args.timeout)
            lapor = await lapor_run(server, args.citizens, args.db, args.redis, args.timeout, Path(tmp),
                                    args.keep_log, args.profile, args.spy, args.spy_gil)
    if echo is not None:
        print(f"\nratio: lapor-bot / echo = {lapor.rate / echo.rate:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--db", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--redis", help="a Redis URL for FSM state and the chat locks")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a citizen waits for one answer")
    parser.add_argument("--keep-log", help="copy the bot's log here")
    parser.add_argument("--profile", help="run the bot under cProfile, writing the stats here")
    parser.add_argument("--spy", help="sample the bot with py-spy (pip install py-spy) while the crowd walks; "
                        "raw collapsed stacks written here")
    parser.add_argument("--spy-gil", action="store_true", help="with --spy: only samples holding the GIL (CPU)")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo bot (with --profile)")
    asyncio.run(main(parser.parse_args()))
