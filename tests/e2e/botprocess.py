"""The real ``lapor-bot run`` process against the local Bot API server.

``BotProcess`` starts the installed console entry point (``python -m bot run``) with only the
environment a deployment would give it (token, api_base, database url, admin ids), can stop it
with SIGTERM (and reports the exit code) and start it again on the same database, which is how
the tests prove that nothing is lost across a restart. The process is forked from a zygote that
has the bot imported already (``tests/e2e/zygote.py``: the imports cost seconds per start);
``real_exec=True`` (or ``LAPOR_TEST_E2E_EXEC=1`` for every test) runs the interpreter afresh.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from sandbox.botapi import BotApiServer
from tests.e2e.zygote_client import spawn_bot

ROOT = Path(__file__).resolve().parents[2]
# APScheduler's line once the catch-up that runs at every start has finished (in a JSON log
# line too, where the quotes are escaped).
CATCH_UP_DONE = re.compile(r'Job \\?"catch_up\b.*executed successfully')


class BotProcess:
    def __init__(self, server: BotApiServer, db_url: str, workdir: Path, *, admin_ids=(9000,),
                 extra_env: dict[str, str] | None = None, real_exec: bool = False,
                 python_args: tuple[str, ...] = ()) -> None:
        self.server = server
        self.db_url = db_url
        self.workdir = workdir
        self.admin_ids = list(admin_ids)
        self.extra_env = extra_env or {}
        self.python_args = python_args  # e.g. ("-m", "cProfile", "-o", path) for a profile
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = workdir / "bot.log"
        self.starts = 0
        # A fresh interpreter also for interpreter options (the zygote has none).
        self.real_exec = real_exec or bool(python_args) or os.environ.get("LAPOR_TEST_E2E_EXEC") == "1"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
        env.update(
            LAPOR_TELEGRAM__TOKEN=self.server.token,
            LAPOR_TELEGRAM__API_BASE=self.server.base_url,
            LAPOR_DATABASE__URL=self.db_url,
            LAPOR_ROLES__ADMIN_IDS=str(self.admin_ids),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    async def start(self) -> None:
        """Start and wait until it polls (its first getUpdates)."""
        polls_before = self.server.state.poll_generation
        await self.start_without_polling()
        # A long poll counts when it arrives (``poll_generation``), not when it is answered, which
        # is recorded only at its timeout, seconds later. Another process's poll may arrive too,
        # so also wait for this start's own "Start polling" line (logged after aiogram installs
        # its signal handlers; a signal before that kills it mid-start-up).
        await self.server.wait_until(
            lambda: (self.server.state.poll_generation > polls_before and "Start polling" in self._this_log())
            or self._died(),
            # Generous: on a loaded machine importing the bot alone has taken 40 s.
            timeout=120,
        )
        if self._died():
            raise AssertionError(f"bot exited with {self.proc.returncode}:\n{self.log()}")
        await self._settle_start_up_catch_up()

    async def _settle_start_up_catch_up(self) -> None:
        """Wait for the scheduler's start-up catch-up and what it sends (on a fresh database, the
        week's summary to the admins), so that no test's conversation gets it in the middle."""
        if "Scheduler started" not in self._this_log():
            return
        await self.server.wait_until(
            lambda: CATCH_UP_DONE.search(self._this_log()) or self._died(), timeout=60
        )
        # The outbox worker sends within its idle sleep (1 s): wait for 1.2 s without a request.
        loop = asyncio.get_running_loop()
        seen, quiet_since = -1, loop.time()
        while loop.time() - quiet_since < 1.2 and not self._died():
            sent = sum(r.method != "getUpdates" for r in self.server.sent_requests)
            if sent != seen:
                seen, quiet_since = sent, loop.time()
            await asyncio.sleep(0.1)

    async def start_without_polling(self) -> None:
        """Start the process and return at once (webhook mode never polls)."""
        assert self.proc is None or self.proc.returncode is not None
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n=== start #{self.starts} ===\n".encode())
        log.flush()
        if self.real_exec:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *self.python_args, "-m", "bot", "run",
                cwd=self.workdir, env=self.env(), stdout=log, stderr=log,
            )
            log.close()
        else:
            log.close()
            self.proc = await spawn_bot(["run"], env=self.env(), cwd=self.workdir, log=self.log_path)

    def _died(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                raise AssertionError(f"bot did not stop within {timeout}s:\n{self.log()}") from None
        return self.proc.returncode

    async def kill(self) -> None:
        """A crash: no shutdown code runs."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    def log(self) -> str:
        """The end of the log: for an assertion's message, not to search (see ``full_log``)."""
        return self.log_path.read_text(errors="replace")[-6000:]

    def full_log(self) -> str:
        """Everything the process wrote, every start: what a test searches (a rule checked on the
        tail alone passes once enough lines follow what it looks for)."""
        return self.log_path.read_text(errors="replace")

    def _this_log(self) -> str:
        """The log of the latest start only."""
        return self.log_path.read_text(errors="replace").rpartition(f"=== start #{self.starts} ===")[2]
