"""One place builds everything: settings in, a wired application out.

The CLI, the tests and the sandbox all call ``build_app``; only the settings differ (a local Bot
API server is just another ``telegram.api_base``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import unit_of_work
from bot.aiogram_models import bind_bot_directly, build_everyday_types
from bot.callback_answers import AnswerOnce
from bot.commands import sync_menus
from bot.config import DEFAULT_API_BASE, Settings
from bot.domain.workdays import WorkCalendar
from bot.filters import run_sync_filters_inline
from bot.fsm import build_fsm
from bot.i18n import build_i18n
from bot.jobs.base import JobContext
from bot.journal import JournalingDispatcher, JournalKeeper, JournalMiddleware, JournalWebhookHandler
from bot.metrics import Metrics, TelegramMetricsMiddleware, UpdateMetricsMiddleware
from bot.middlewares import CitizenI18nMiddleware, CitizenMiddleware
from bot.pacing import PaceMiddleware
from bot.response_types import PinResponseTypes
from bot.retry import RetryMiddleware, until_done
from bot.scheduler import build_scheduler
from bot.services.bot_identity import remember_username
from bot.services.broadcasts import BroadcastMonitor
from bot.services.casework.core import Casework
from bot.services.delivery import DeliveryWorker
from bot.services.lapor import LaporConnector, ManualConnector
from bot.services.ratelimit import ChatPacer
from bot.services.statistics import StatsCache, warm_statistics
from bot.services.update_journal import UpdateJournal
from bot.services.webhook_delivery import WebhookWorker
from bot.services.webhooks import sync_targets
from bot.telegram_session import FormSession
from bot.ui.notifier import OutboxNotifier
from bot.unchanged_edits import UnchangedEditMiddleware
from bot.web import WebContext, build_web_app
from bot.web import install as install_web
from bot.web.ops import OpsContext, build_ops_app
from bot.web.ops import install as install_ops
from handlers import get_routers
from storage.base import utcnow
from storage.db import create_engine, create_session_factory

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bot: Bot
    dp: JournalingDispatcher
    i18n: I18n
    calendar: WorkCalendar
    # How every message to a citizen, officer or admin is rendered and queued (bot/ui/notifier.py).
    notifier: OutboxNotifier
    fsm_storage: BaseStorage
    events_isolation: BaseEventIsolation
    delivery: DeliveryWorker
    # Every update stored before Telegram forgets it, replayed after a crash (bot/journal.py).
    journal: JournalKeeper
    metrics: Metrics = field(default_factory=Metrics)
    # Built in start_background: AsyncIOScheduler binds to the running event loop.
    scheduler: AsyncIOScheduler | None = None
    # Progress messages of running announcements; resumed on start (bot/services/broadcasts.py).
    broadcasts: BroadcastMonitor | None = None
    # Where an automatic SP4N-LAPOR! integration plugs in (bot/services/lapor.py).
    lapor_connector: LaporConnector = field(default_factory=ManualConnector)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start_background(self) -> None:
        """The delivery loop and the scheduler beside update handling."""
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self.delivery.run_forever(self._stop), name="delivery"))
        # Webhook targets into the database, so services can queue deliveries without settings.
        await sync_targets(self.session_factory, self.settings.webhooks.targets)
        if self.settings.webhooks.targets:
            worker = WebhookWorker(self.session_factory, self.settings.webhooks)
            self._tasks.append(asyncio.create_task(worker.run_forever(self._stop), name="webhooks"))
        if self.scheduler is None:
            self.scheduler = build_scheduler(self.job_context())
            self.scheduler.start()
        if self.broadcasts is not None:
            await self.broadcasts.resume()
        self._tasks.append(asyncio.create_task(
            warm_statistics(self.session_factory, self.calendar, self.dp["stats_cache"], self._stop),
            name="warm-statistics"))

    def job_context(self) -> JobContext:
        return JobContext(self.session_factory, self.settings, self.calendar, self.notifier, utcnow(),
                          on_job=self.metrics.job_finished)

    async def stop_background(self) -> None:
        if self.scheduler is not None:
            # Not waiting for a running job: its lease lets the next run finish the work.
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self.broadcasts is not None:
            await self.broadcasts.close()
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks.clear()

    async def close(self) -> None:
        """Release everything in reverse order of building; safe to call twice."""
        await self.stop_background()
        await self.fsm_storage.close()
        await self.events_isolation.close()
        await self.bot.session.close()
        await self.delivery.bot.session.close()
        await self.engine.dispose()


def build_bot(settings: Settings) -> Bot:
    if settings.telegram.token is None:  # load_settings(need_token=True) rules this out
        raise ValueError("telegram.token is required to talk to Telegram")
    if settings.telegram.api_base != DEFAULT_API_BASE:
        session = FormSession(
            api=TelegramAPIServer.from_base(settings.telegram.api_base),
            timeout=settings.telegram.request_timeout,
        )
    else:
        session = FormSession(timeout=settings.telegram.request_timeout)
    session.middleware(PinResponseTypes())
    return Bot(
        token=settings.telegram.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_casework(settings: Settings, notifier: OutboxNotifier, calendar: WorkCalendar) -> Casework:
    """What the casework use cases need besides a session: once per process (``build_app``, or
    ``build_web_context`` for the pages served without the bot)."""
    return Casework(notifier, calendar, tuple(settings.roles.admin_ids), settings.workflow.auto_assign,
                    relays_per_hour=settings.limits.relays_per_report_per_hour)


def build_app(settings: Settings, *, lapor_connector: LaporConnector | None = None) -> App:
    build_everyday_types()  # aiogram's types are built on first use (bot/aiogram_models.py)
    bind_bot_directly()  # and bind their bot without pydantic's generic private attributes (same)
    db = settings.database
    engine = create_engine(db.url, pool_size=db.pool_for(settings.telegram.max_concurrent_updates),
                           max_overflow=db.max_overflow, pool_timeout=db.pool_timeout)
    session_factory = create_session_factory(engine)
    bot = build_bot(settings)
    metrics = Metrics()
    pacer = ChatPacer(settings.delivery.global_rate, settings.delivery.per_chat_interval,
                      clock=time.monotonic, sleep=asyncio.sleep)
    journal = UpdateJournal(session_factory)
    # Outermost first: a button is answered once, however often the request is retried inside;
    # every attempt of a retried request keeps the pace.
    answers = AnswerOnce(journal)
    bot.session.middleware(answers)
    bot.session.middleware(RetryMiddleware())
    bot.session.middleware(PaceMiddleware(pacer))
    bot.session.middleware(UnchangedEditMiddleware())
    # Last, so it counts every attempt the ones above make.
    bot.session.middleware(TelegramMetricsMiddleware(metrics, "replies"))
    # The delivery loop has a session of its own, without those retries: it must see a 429 to
    # pause every send, retries through the outbox, and its slow sends never hold up a reply.
    delivery_bot = build_bot(settings)
    delivery_bot.session.middleware(TelegramMetricsMiddleware(metrics, "delivery"))
    i18n = build_i18n(settings.app.default_language)
    calendar = WorkCalendar(settings.app.timezone, settings.app.extra_holidays)
    fsm_storage, isolation = build_fsm(settings.redis.url, session_factory,
                                       redis_max_connections=settings.redis.max_connections)
    delivery = DeliveryWorker(
        delivery_bot,
        session_factory,
        global_rate=settings.delivery.global_rate,
        per_chat_interval=settings.delivery.per_chat_interval,
        lease=timedelta(seconds=settings.delivery.lease_seconds),
        max_attempts=settings.delivery.max_attempts,
        backoff_base=timedelta(seconds=settings.delivery.backoff_base_seconds),
        pacer=pacer,
    )
    # Built once: services and jobs get these, never a copy made from settings.
    notifier = OutboxNotifier(i18n, calendar, settings.notifications)
    casework = build_casework(settings, notifier, calendar)
    broadcasts = BroadcastMonitor(bot, session_factory, notifier, rate=settings.delivery.global_rate)

    dp = JournalingDispatcher(
        storage=fsm_storage,
        events_isolation=isolation,
        settings=settings,
        session_factory=session_factory,
        calendar=calendar,
        i18n=i18n,
        notifier=notifier,
        casework=casework,
        delivery=delivery,
        broadcasts=broadcasts,
        lapor_connector=lapor_connector or ManualConnector(),
        # /statistik's months, counted again only when their reports change.
        stats_cache=StatsCache(),
    )
    # First of ours: it times the whole update and sets the log context for everything after.
    dp.update.outer_middleware(UpdateMetricsMiddleware(metrics))
    dp.journal = journal
    # Before the unit of work: the claim is held before any work starts (and before the chat's
    # lock is waited for), and released after it all, in sessions of its own.
    journal_middleware = JournalMiddleware(journal, answers)
    dp.update.outer_middleware(journal_middleware)
    dp.journal_middleware = journal_middleware
    unit_of_work.install(dp, session_factory)
    dp.update.outer_middleware(CitizenMiddleware(settings.roles.admin_ids))
    CitizenI18nMiddleware(i18n, settings.app.default_language).setup(dp)
    dp.include_routers(*get_routers())
    run_sync_filters_inline(dp)  # not in a worker thread each (bot/filters.py)

    app = App(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        bot=bot,
        dp=dp,
        i18n=i18n,
        calendar=calendar,
        notifier=notifier,
        fsm_storage=fsm_storage,
        events_isolation=isolation,
        delivery=delivery,
        metrics=metrics,
        journal=JournalKeeper(dp, journal, journal_middleware),
        broadcasts=broadcasts,
        lapor_connector=dp["lapor_connector"],
    )

    async def on_startup(bot: Bot) -> None:
        me = await until_done(bot.me, "getMe")
        # For `lapor-bot officers invite` on a machine that cannot reach Telegram.
        await remember_username(session_factory, me.id, me.username)
        # Everyone's menu and each admin's and officer's own; only what changed is sent.
        await until_done(lambda: sync_menus(bot, i18n, session_factory, settings.roles.admin_ids), "setMyCommands")
        # What a killed process left unfinished, before new updates. One process polls (Telegram
        # refuses a second), so in polling mode every unfinished update is an orphan; webhook
        # processes leave each other's running updates alone until their claim runs out.
        replayed = await app.journal.replay(bot, take_over=settings.telegram.mode == "polling")
        if replayed:
            log.info("%s unfinished update(s) handled again", replayed)
        app.journal.start(bot)
        await app.start_background()

    async def on_shutdown() -> None:
        # Handlers still running finish before the HTTP session and the engine close.
        await app.journal.stop(drain_timeout=DRAIN_SECONDS)
        await app.stop_background()

    dp.startup.register(on_startup)
    # aiogram registers closing the FSM storage as its first shutdown handler, so it ran before
    # ours drained the running handlers: with Redis, every update in flight at a SIGTERM lost its
    # FSM writes and its chat lock's release ("Connection closed"), and was marked done unfinished.
    # App.close closes the storage, after the drain.
    dp.shutdown.handlers[:] = [h for h in dp.shutdown.handlers if h.callback != dp.fsm.close]
    dp.shutdown.register(on_shutdown)
    return app


def web_context(app: App) -> WebContext:
    return WebContext(settings=app.settings, session_factory=app.session_factory, calendar=app.calendar,
                      i18n=app.i18n, casework=app.dp["casework"], stats_cache=app.dp["stats_cache"])


def ops_context(app: App) -> OpsContext:
    return OpsContext(
        session_factory=app.session_factory,
        calendar=app.calendar,
        metrics=app.metrics,
        ping_telegram=lambda: app.bot.get_me(request_timeout=5),
        scheduler_running=lambda: app.scheduler is not None and app.scheduler.running,
    )


def build_web_context(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> WebContext:
    """For ``lapor-bot web``: the public pages and the Open311 API without the bot (the bot
    process sends what a report filed here queues)."""
    i18n = build_i18n(settings.app.default_language)
    calendar = WorkCalendar(settings.app.timezone, settings.app.extra_holidays)
    casework = build_casework(settings, OutboxNotifier(i18n, calendar, settings.notifications), calendar)
    return WebContext(settings=settings, session_factory=session_factory, calendar=calendar, i18n=i18n,
                      casework=casework)


async def run_polling(app: App) -> None:
    from aiohttp import web

    runners: list[web.AppRunner] = []

    async def serve(web_app: web.Application, host: str, port: int, what: str) -> None:
        runner = web.AppRunner(web_app, handle_signals=False)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, host, port).start()
        log.info("%s on %s:%s", what, host, port)

    if app.settings.web.enabled:
        # The public pages and the API on a port of their own (no webhook server to share).
        await serve(build_web_app(web_context(app)), app.settings.web.host, app.settings.web.port, "public pages")
    if app.settings.ops.port:
        await serve(build_ops_app(ops_context(app)), app.settings.ops.host, app.settings.ops.port,
                    "health checks and metrics")
    try:
        # aiogram installs the SIGINT/SIGTERM handlers and stops polling gracefully.
        # Bounded: past max_concurrent_updates aiogram stops fetching, and the backlog waits at
        # Telegram rather than as thousands of tasks here.
        await app.dp.start_polling(
            app.bot, allowed_updates=app.dp.resolve_used_update_types(), close_bot_session=False,
            handle_as_tasks=True, tasks_concurrency_limit=app.settings.telegram.max_concurrent_updates,
        )
    finally:
        for runner in runners:
            await runner.cleanup()
        await app.close()


async def run_webhook(app: App) -> None:
    """Serve Telegram's webhook: what several processes behind one token need.

    Updates are handled before the HTTP answer (``handle_in_background=False``), so a process
    that dies mid-update leaves Telegram without a 2xx and Telegram delivers it again.
    """
    from aiogram.webhook.aiohttp_server import setup_application
    from aiohttp import web

    tg = app.settings.telegram
    if tg.webhook_secret is None:  # the settings refuse this; never serve updates from anyone
        raise ValueError("telegram.webhook_secret is required in webhook mode")
    secret = tg.webhook_secret.get_secret_value()
    web_app = web.Application()
    JournalWebhookHandler(
        dispatcher=app.dp, bot=app.bot, handle_in_background=False, secret_token=secret,
        journal=app.dp.journal,
    ).register(web_app, path=WEBHOOK_PATH)
    setup_application(web_app, app.dp, bot=app.bot)
    if app.settings.web.enabled:
        install_web(web_app, web_context(app))
    install_ops(web_app, ops_context(app))

    runner = web.AppRunner(web_app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, tg.webhook_host, tg.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await site.start()
        await until_done(lambda: app.bot.set_webhook(
            tg.webhook_url,
            secret_token=secret,
            allowed_updates=app.dp.resolve_used_update_types(),
        ), "setWebhook")
        log.info("webhook listening on %s:%s", tg.webhook_host, tg.webhook_port)
        await stop.wait()
    finally:
        # The webhook stays registered: the other processes behind it keep serving.
        await runner.cleanup()  # runs the dispatcher's shutdown hooks
        await app.close()


WEBHOOK_PATH = "/telegram"
# How long a shutdown waits for running handlers; what is still running then is handled again
# at the next start (the journal).
DRAIN_SECONDS = 10.0
