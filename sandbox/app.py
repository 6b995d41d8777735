"""The sandbox: the local Bot API server, the real bot and the chat page in one event loop.

One HTTP port serves all three: the Bot API under ``/bot<token>/`` (the bot's
``telegram.api_base`` points here; nothing else differs from production), the control API
under ``/_sandbox/`` and the page at ``/``. The database is a throw-away SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import App, build_app
from bot.config import Settings
from sandbox.botapi import BotApiServer, Limits, SimUser
from sandbox.guard import guard_middleware, new_token
from sandbox.seed import ADMIN_ID, People, default_directory, seed_demo_reports, seed_people
from sandbox.web import add_page_routes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxOptions:
    host: str = "127.0.0.1"
    port: int = 8080  # 0: any free port
    citizens: int = 3
    seed_demo: bool = False
    directory: Path = field(default_factory=default_directory)
    # None: a SQLite file in a temporary directory, removed on stop.
    database_url: str | None = None
    language: str = "id"
    # Telegram's rate limits answer 429; off only for scripted runs that flood on purpose.
    rate_limits: bool = True


class Sandbox:
    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.server = BotApiServer(limits=Limits() if self.options.rate_limits else Limits.off())
        self.people: People | None = None
        self.app: App | None = None
        self._tmpdir: Path | None = None
        self._polling: asyncio.Task[None] | None = None
        # Made anew at each start; the page carries it (see sandbox/guard.py).
        self.token = new_token()
        self.server.app.middlewares.append(guard_middleware(self.token, self.options.host))
        add_page_routes(self.server.app, self)

    @property
    def url(self) -> str:
        return self.server.base_url

    async def start(self) -> str:
        """Start everything; returns the page's URL."""
        opts = self.options
        if opts.citizens < 1:
            raise ValueError("the sandbox needs at least one citizen")
        await self.server.start(opts.host, opts.port)
        try:
            settings = self._settings(self._database_url())
            await self._prepare_database(settings)
            for user in self.people.all_users() if self.people else ():
                self.server.add_user(user)
            for group in self.people.groups if self.people else ():
                # An admin there, as topics need; so the bot hears every message in it.
                self.server.add_group(group.chat_id, group.title, list(group.members), forum=True,
                                      bot_status="administrator")
            self.app = build_app(settings)
            # The same polling loop as `lapor-bot run`; signals are the CLI's business here.
            self._polling = asyncio.create_task(
                self.app.dp.start_polling(
                    self.app.bot,
                    allowed_updates=self.app.dp.resolve_used_update_types(),
                    handle_signals=False,
                    close_bot_session=False,
                ),
                name="sandbox-polling",
            )
        except BaseException:
            await self.stop()
            raise
        return self.url

    async def stop(self) -> None:
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):  # polling never got to start
                await self.app.dp.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, timeout=15)
            self._polling = None
        if self.app is not None:
            await self.app.close()
            self.app = None
        await self.server.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- pieces ------------------------------------------------------------------------------

    def _database_url(self) -> str:
        if self.options.database_url:
            return self.options.database_url
        self._tmpdir = Path(tempfile.mkdtemp(prefix="lapor-sandbox-"))
        return f"sqlite+aiosqlite:///{self._tmpdir / 'sandbox.db'}"

    def _settings(self, database_url: str) -> Settings:
        # Explicit values win over LAPOR_* variables; the rest (language, delivery) may be tuned.
        return Settings(
            telegram={"token": self.server.token, "api_base": self.server.base_url, "mode": "polling"},
            database={"url": database_url},
            redis={"url": None},
            roles={"admin_ids": [ADMIN_ID]},
            # A workshop runs at any hour: quiet hours would hold the citizen's messages back
            # until morning and the demo would seem broken. Equal start and end mean none.
            notifications={"quiet_start": "00:00", "quiet_end": "00:00", "citizen_mode": "immediate"},
        )

    async def _prepare_database(self, settings: Settings) -> None:
        from bot.domain.workdays import WorkCalendar
        from storage.db import create_engine, create_session_factory
        from storage.migrate import upgrade_head

        await upgrade_head(settings.database.url)
        engine = create_engine(settings.database.url)
        try:
            async with create_session_factory(engine)() as session:
                self.people = await seed_people(
                    session, self.options.directory, citizens=self.options.citizens, language=self.options.language
                )
                if self.options.seed_demo:
                    calendar = WorkCalendar(settings.app.timezone, settings.app.extra_holidays)
                    count = await seed_demo_reports(session, self.people, calendar)
                    log.info("seeded %d demo reports", count)
        finally:
            await engine.dispose()

    def add_citizen(self) -> SimUser:
        """A new "Warga N" the page can switch to; the bot meets them on their first message."""
        assert self.people is not None
        user = self.people.next_citizen(self.options.language)
        self.server.add_user(user)
        return user
