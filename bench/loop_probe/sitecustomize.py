"""What holds up an event loop, recorded inside a bot process started with this directory on
PYTHONPATH and ``BENCH_LOOP_PROBE=<file>`` (bench/steady.py ``--probe``).

Python imports ``sitecustomize`` at start-up, before the bot. It records, with the system-wide
monotonic clock (so the bench can cut the records into its own time windows):
- every callback of the event loop that ran longer than 10 ms, and the task it stepped (its
  coroutine and where that coroutine stopped next): a blocking call shows up here;
- every garbage collection: generation and pause;
- a 10 ms ticker's lateness: how late the loop answers anything at all.
Wall and CPU time (of the loop's thread) both: on a busy machine a callback's wall time includes
the time the process waited for a core. It writes them as JSON lines when the process exits.
Measurement only; not part of the bot.
"""

import asyncio.events
import atexit
import gc
import json
import os
import time

_OUT = os.environ.get("BENCH_LOOP_PROBE")
SLOW = 0.010
TICK = 0.010

if _OUT:
    _records: list[tuple] = []
    _gc_started = [0.0, 0.0]

    def _gc(phase: str, info: dict) -> None:
        if phase == "start":
            _gc_started[:] = time.monotonic(), time.thread_time()
        else:
            now = time.monotonic()
            _records.append(("gc", now, now - _gc_started[0], time.thread_time() - _gc_started[1],
                             info["generation"], info["collected"]))

    gc.callbacks.append(_gc)

    def _where(callback) -> str:
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

    _run = asyncio.events.Handle._run

    def _timed_run(self) -> None:
        started, cpu = time.monotonic(), time.thread_time()
        _run(self)
        took = time.monotonic() - started
        if took > SLOW:
            _records.append(("slow", started, took, time.thread_time() - cpu, _where(self._callback)))

    asyncio.events.Handle._run = _timed_run

    def _tick(loop, due: float) -> None:
        now = loop.time()
        _records.append(("tick", time.monotonic(), now - due))
        loop.call_at(now + TICK, _tick, loop, now + TICK)

    _run_forever = asyncio.base_events.BaseEventLoop.run_forever

    def _run_forever_ticking(self) -> None:
        if not getattr(self, "_probe_ticking", False):
            self._probe_ticking = True
            self.call_soon(_tick, self, self.time())
        return _run_forever(self)

    asyncio.base_events.BaseEventLoop.run_forever = _run_forever_ticking

    @atexit.register
    def _dump() -> None:
        with open(_OUT, "a") as f:
            for r in _records:
                f.write(json.dumps(r) + "\n")
