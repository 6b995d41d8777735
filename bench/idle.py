"""Start-up time and idle memory of the real ``lapor-bot run`` process, beside the minimal aiogram
echo bot (``echo_bot.py``) on the same local Bot API server in the same run (issue 15).

For each process: a citizen's /start is waiting on the server before the process starts (so its
first getUpdates is answered at once); measured from the process's start to that first getUpdates
and to the answer to /start, in wall time and in the process's own CPU time (on a shared machine
the CPU seconds move less than the wall time). Then, after ``--settle`` seconds of quiet, its
memory from /proc: VmRSS, RssAnon and the proportional set size (Pss, shared pages divided among
the processes sharing them); then once more after one citizen has walked the whole /lapor form
(the echo bot gets as many messages).

    python bench/idle.py
    python bench/idle.py --rounds 3 --tree before=/tmp/lapor-before   # also a second source tree
    python bench/idle.py --importtime 25   # + the bot's 25 costliest imports, from -X importtime

``--tree LABEL=DIR`` runs ``lapor-bot run`` from another checkout of the code (``PYTHONPATH=DIR``;
byte-compiled first), e.g. main before a change, so before and after share one run and one load.
Every process runs SQLite in a fresh directory and a fresh interpreter (not the tests' zygote).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.botapi import BotApiServer, Limits, SimUser  # noqa: E402
from sandbox.botapi.models import SentRequest  # noqa: E402
from tests.e2e.botprocess import BotProcess  # noqa: E402
from tests.e2e.crowd import WALK, echo_walk, run_crowd  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of the process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon, VmHWM from /proc/PID/status and Pss from smaps_rollup, in MB."""
    found: dict[str, float] = {}
    for name in ("status", "smaps_rollup"):
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "VmHWM", "Pss"):
                found[key] = int(value.split()[0]) / 1024
    return found


@dataclass
class Measured:
    label: str
    poll_s: float = float("nan")  # process start -> its first getUpdates answered
    answer_s: float = float("nan")  # process start -> the answer to /start
    answer_cpu_s: float = float("nan")  # the process's CPU seconds at that answer
    idle: dict[str, float] = field(default_factory=dict)
    walked: dict[str, float] = field(default_factory=dict)


class StartWatch:
    """Times the first getUpdates and the first message to one chat, from the server's request log."""

    def __init__(self, server: BotApiServer, chat_id: int) -> None:
        self.server, self.chat_id = server, chat_id
        self.pid: int | None = None
        self.started = time.time()
        self.connected: float | None = None
        self.polled: float | None = None
        self.answered: float | None = None
        self.answer_cpu: float | None = None
        server.state.request_listeners.append(self._seen)

    def close(self) -> None:
        self.server.state.request_listeners.remove(self._seen)

    def _seen(self, request: SentRequest) -> None:
        # The previous process's last long poll may be recorded after this one started: the
        # first getUpdates that counts comes after this process's getMe.
        if request.method == "getMe" and self.connected is None:
            self.connected = request.time
        elif request.method == "getUpdates" and request.ok and self.polled is None and self.connected is not None:
            self.polled = request.time
        elif request.method == "sendMessage" and request.params.get("chat_id") in (self.chat_id, str(self.chat_id)):
            if self.answered is None:
                self.answered = request.time
                if self.pid is not None:
                    self.answer_cpu = cpu_seconds(self.pid)


async def measure(server: BotApiServer, label: str, start, stop, pid, walk, user_id: int,
                  settle: float) -> Measured:
    """``start()`` spawns the process, ``pid()`` names it, ``walk()`` runs one citizen's form."""
    user = server.add_user(SimUser(id=user_id, first_name="Warga Pagi"))
    await server.user_sends_text(user, "/start")
    watch = StartWatch(server, user_id)
    result = Measured(label)
    try:
        watch.started = time.time()
        await start()
        watch.pid = pid()
        await server.wait_until(lambda: watch.answered, timeout=300)
        result.poll_s = (watch.polled or float("nan")) - watch.started
        result.answer_s = watch.answered - watch.started
        result.answer_cpu_s = watch.answer_cpu or float("nan")
        await asyncio.sleep(settle)
        result.idle = memory_mb(watch.pid)
        await walk()
        await asyncio.sleep(settle)
        result.walked = memory_mb(watch.pid)
    finally:
        watch.close()
        await stop()
    return result


async def echo_once(server: BotApiServer, n: int, settle: float) -> Measured:
    proc: asyncio.subprocess.Process | None = None

    async def start() -> None:
        nonlocal proc
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "echo_bot.py"), server.token, server.base_url,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def stop() -> None:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            await proc.wait()

    async def walk() -> None:
        result = await run_crowd(server, 1, echo_walk(), first_id=5_000_000 + n, timeout=60)
        assert not result.unanswered, result.unanswered[0].failed

    return await measure(server, "echo bot", start, stop, lambda: proc.pid, walk, 4_000_000 + n, settle)


async def lapor_once(server: BotApiServer, label: str, tree: Path | None, n: int, settle: float,
                     workdir: Path, importtime: bool) -> tuple[Measured, str]:
    env = {"PYTHONPATH": str(tree)} if tree else {}
    proc = BotProcess(server, f"sqlite+aiosqlite:///{workdir / 'idle.db'}", workdir, extra_env=env, real_exec=True,
                      python_args=("-X", "importtime") if importtime else ())

    async def walk() -> None:
        result = await run_crowd(server, 1, WALK, first_id=6_000_000 + n, timeout=120)
        assert not result.unanswered, result.unanswered[0].failed

    async def stop() -> None:
        if proc.proc is not None:
            await proc.stop()

    measured = await measure(server, label, proc.start_without_polling, stop, lambda: proc.proc.pid, walk,
                             7_000_000 + n, settle)
    return measured, proc.log_path.read_text(errors="replace")


def costliest_imports(log: str, top: int) -> list[tuple[str, float]]:
    """Self import time per top-level package, from ``-X importtime`` lines, in seconds."""
    per: Counter[str] = Counter()
    for m in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", log):
        per[m.group(2).split(".")[0]] += int(m.group(1)) / 1e6
    return per.most_common(top)


def table(rows: list[Measured]) -> None:
    print(f"\n{'process':<26} {'1st poll s':>10} {'/start s':>9} {'CPU s':>6} "
          f"{'idle RSS':>9} {'anon':>6} {'PSS':>6} {'walked RSS':>11} {'PSS':>6} {'peak':>6}")
    for r in rows:
        print(f"{r.label:<26} {r.poll_s:10.1f} {r.answer_s:9.1f} {r.answer_cpu_s:6.1f} "
              f"{r.idle.get('VmRSS', 0):9.1f} {r.idle.get('RssAnon', 0):6.1f} {r.idle.get('Pss', 0):6.1f} "
              f"{r.walked.get('VmRSS', 0):11.1f} {r.walked.get('Pss', 0):6.1f} {r.walked.get('VmHWM', 0):6.1f}")


def medians(rows: list[Measured]) -> list[Measured]:
    out = []
    for label in dict.fromkeys(r.label for r in rows):
        mine = [r for r in rows if r.label == label]

        def med(get, mine=mine):
            return statistics.median(get(r) for r in mine)

        out.append(Measured(
            f"{label} (median)", med(lambda r: r.poll_s), med(lambda r: r.answer_s), med(lambda r: r.answer_cpu_s),
            {k: med(lambda r, k=k: r.idle[k]) for k in mine[0].idle},
            {k: med(lambda r, k=k: r.walked[k]) for k in mine[0].walked}))
    return out


async def main(args: argparse.Namespace) -> None:
    trees: list[tuple[str, Path | None]] = [("lapor-bot", None)]
    for spec in args.tree:
        label, _, path = spec.partition("=")
        compileall.compile_dir(path, quiet=1)  # as the installed tree: bytecode already there
        trees.append((f"lapor-bot {label}", Path(path).resolve()))
    compileall.compile_dir(str(ROOT / "bot"), quiet=1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.1f}")
    rows: list[Measured] = []
    async with BotApiServer(limits=Limits.off()) as server:
        server.add_user(SimUser(id=9000, first_name="Admin"))  # hears of every new report
        for n in range(args.rounds):
            if not args.no_echo:
                rows.append(await echo_once(server, n, args.settle))
                print(f"  round {n + 1}: echo bot done, load {os.getloadavg()[0]:.1f}", flush=True)
            for i, (label, tree) in enumerate(trees):
                with tempfile.TemporaryDirectory() as tmp:
                    measured, log = await lapor_once(server, label, tree, n * 10 + i, args.settle, Path(tmp),
                                                     args.importtime > 0)
                rows.append(measured)
                if args.keep_logs:
                    Path(args.keep_logs, f"{label.replace(' ', '-')}-{n + 1}.log").write_text(log)
                print(f"  round {n + 1}: {label} done, load {os.getloadavg()[0]:.1f}", flush=True)
                if args.importtime and n == 0:
                    print(f"  {label}: costliest imports (self time, s, under -X importtime)")
                    for name, seconds in costliest_imports(log, args.importtime):
                        print(f"    {seconds:6.2f} {name}")
    table(rows)
    if args.rounds > 1:
        table(medians(rows))
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}; times in s, memory in MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1, help="repeat every process, interleaved")
    parser.add_argument("--settle", type=float, default=5, help="seconds of quiet before reading memory")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                        help="also run lapor-bot from this source tree")
    parser.add_argument("--importtime", type=int, default=0, metavar="N",
                        help="run lapor-bot under -X importtime and print its N costliest packages")
    parser.add_argument("--no-echo", action="store_true")
    parser.add_argument("--keep-logs", metavar="DIR", help="write each lapor-bot process's log there")
    asyncio.run(main(parser.parse_args()))
