"""What holds up an event loop: ``install()`` in the process itself (bench/admin_load.py
``--probe``), or in a bot process started with bench/loop_probe_site/ on PYTHONPATH and
``BENCH_LOOP_PROBE=<file>`` (bench/steady.py ``--probe``: Python imports that directory's
``sitecustomize`` at start-up, before the bot, and the records are written to the file at exit).

It records, with the system-wide monotonic clock (so a bench can cut the records into its own
time windows):
- every callback of the event loop that ran longer than 10 ms, and the task it stepped (its
  coroutine and where that coroutine stopped next): a blocking call shows up here;
- every garbage collection: generation and pause;
- a 10 ms ticker's lateness: how late the loop answers anything at all, and, since the tick
  before, the CPU of the whole process and of the loop's thread, the loop thread's major page
  faults and involuntary context switches: a late tick with the process's CPU running on but
  not the thread's is another thread holding the GIL; with neither, the process was not run
  (no free core) or waited on the disk (major faults).
Wall and CPU time (of the loop's thread) both: on a busy machine a callback's wall time includes
the time the process waited for a core. Measurement only; not part of the bot.
"""

from __future__ import annotations

import asyncio.base_events
import asyncio.events
import atexit
import gc
import json
import resource
import time

SLOW = 0.010
TICK = 0.010

records: list[list] = []  # [kind, monotonic time, ...]: see install()


def install(out: str | None = None) -> None:
    """Record from now on (before the event loop starts); ``out``: also write the records there,
    as JSON lines, when the process exits."""
    gc_started = [0.0, 0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[:] = time.monotonic(), time.thread_time()
        else:
            now = time.monotonic()
            records.append(["gc", now, now - gc_started[0], time.thread_time() - gc_started[1],
                            info["generation"], info["collected"]])

    gc.callbacks.append(on_gc)

    run = asyncio.events.Handle._run

    def timed_run(self) -> None:
        started, cpu = time.monotonic(), time.thread_time()
        run(self)
        took = time.monotonic() - started
        if took > SLOW:
            records.append(["slow", started, took, time.thread_time() - cpu, _where(self._callback)])

    asyncio.events.Handle._run = timed_run

    last = [time.process_time(), time.thread_time(), *_faults_and_switches()]

    def tick(loop, due: float) -> None:
        now = loop.time()
        seen = [time.process_time(), time.thread_time(), *_faults_and_switches()]
        records.append(["tick", time.monotonic(), now - due, *(a - b for a, b in zip(seen, last, strict=True))])
        last[:] = seen
        loop.call_at(now + TICK, tick, loop, now + TICK)

    run_forever = asyncio.base_events.BaseEventLoop.run_forever

    def run_forever_ticking(self) -> None:
        if not getattr(self, "_probe_ticking", False):
            self._probe_ticking = True
            self.call_soon(tick, self, self.time())
        return run_forever(self)

    asyncio.base_events.BaseEventLoop.run_forever = run_forever_ticking

    if out:
        @atexit.register
        def dump() -> None:
            with open(out, "a") as f:
                for r in records:
                    f.write(json.dumps(r) + "\n")


def _faults_and_switches() -> tuple[int, int]:
    """The calling thread's major page faults and involuntary context switches so far."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_majflt, usage.ru_nivcsw


def _where(callback) -> str:
    """The task a callback stepped: its name, coroutine chain and where it stopped next."""
    task = getattr(callback, "__self__", None)
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    if coro is None:
        return repr(callback)[:200]
    frames = []
    while coro is not None and hasattr(coro, "cr_frame"):
        frame = coro.cr_frame
        if frame is not None:
            frames.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        coro = coro.cr_await
    return f"{task.get_name()} " + " > ".join(frames)[-400:]


def window_report(label: str, recs: list[list], start: float, end: float) -> None:
    """What held up the loop between ``start`` and ``end`` (monotonic)."""
    inside = [rec for rec in recs if start <= rec[1] <= end]
    ticks = sorted(rec[2] for rec in inside if rec[0] == "tick")
    gcs = [rec for rec in inside if rec[0] == "gc"]
    slow = [rec for rec in inside if rec[0] == "slow"]
    print(f"loop {label}: ", end="")
    if ticks:
        print(f"a 10 ms timer late p50 {ticks[len(ticks) // 2] * 1000:.1f} ms, "
              f"p99 {ticks[int(0.99 * (len(ticks) - 1))] * 1000:.0f} ms, max {ticks[-1] * 1000:.0f} ms; ", end="")
    for gen in (0, 1, 2):
        pauses = sorted((rec[2], rec[3]) for rec in gcs if rec[4] == gen)
        if pauses:
            print(f"GC gen {gen} ×{len(pauses)} (max {pauses[-1][0] * 1000:.1f} ms wall, "
                  f"{max(c for _, c in pauses) * 1000:.1f} ms CPU; "
                  f"total {sum(c for _, c in pauses) * 1000:.0f} ms CPU) ", end="")
    late = sorted((rec for rec in inside if rec[0] == "tick" and len(rec) > 3), key=lambda rec: -rec[2])[:3]
    if late and late[0][2] > 0.1:
        print("\n    the latest ticks (late; since the tick before: process CPU, loop thread CPU, "
              "major faults, involuntary switches): " + "; ".join(
                  f"{rec[2] * 1000:.0f} ms at +{rec[1] - start:.1f} s "
                  f"({rec[3] * 1000:.0f}, {rec[4] * 1000:.0f} ms, {rec[5]}, {rec[6]})"
                  for rec in late), end="")
    print(f"\n    callbacks over 10 ms: {len(slow)}, {sum(rec[2] for rec in slow):.1f} s wall, "
          f"{sum(rec[3] for rec in slow):.1f} s CPU; by CPU (count, max wall, max CPU, total CPU):")
    by_where: dict[str, list[tuple[float, float]]] = {}
    for rec in slow:
        by_where.setdefault(rec[4], []).append((rec[2], rec[3]))
    for where, took in sorted(by_where.items(), key=lambda kv: -sum(c for _, c in kv[1]))[:8]:
        print(f"      ×{len(took):<4} {max(w for w, _ in took) * 1000:5.0f} {max(c for _, c in took) * 1000:5.0f} "
              f"{sum(c for _, c in took) * 1000:6.0f} ms  {where}")
