"""The ``lapor-bot`` command.

Every subcommand is a small function registered in ``build_parser``; configuration problems end
the process with one line naming the key and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.aiogram_models import defer_aiogram_builds
from bot.config import ConfigError, Settings, load_settings, redact_url, resolve_config_path

EXIT_CONFIG = 2
EXIT_USAGE = 2  # argparse's own
log = logging.getLogger("lapor_bot")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _settings(args: argparse.Namespace, *, need_token: bool = True) -> Settings:
    """The settings; ``need_token=False`` for commands that never talk to Telegram."""
    try:
        return load_settings(resolve_config_path(args.config), need_token=need_token)
    except ConfigError as exc:
        raise CliError(f"configuration error: {exc}", EXIT_CONFIG) from None


def _setup_logging(verbose: bool, log_format: str = "text") -> None:
    from bot.logs import configure

    configure(logging.DEBUG if verbose else logging.INFO, log_format)
    if not verbose:
        # aiogram logs every handled update at INFO; that is noise in production. Alembic
        # announces its context and every step; the commands say in one line what they did.
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)


# -- run ------------------------------------------------------------------------------------
async def _prepare_database(settings: Settings) -> None:
    from storage.migrate import pending, upgrade_head

    _check_sqlite_folder(settings)
    async with database_errors(settings):
        if not await pending(settings.database.url):
            return
        if settings.database.is_sqlite:
            log.info("applying database migrations")
            await upgrade_head(settings.database.url)
            return
    raise CliError("the database schema is not up to date: run `lapor-bot migrate` first", EXIT_CONFIG)


def _check_sqlite_folder(settings: Settings) -> None:
    # Asked before connecting: aiosqlite's failed connect can outlive the event loop and print a
    # traceback of its own after our one line.
    from sqlalchemy.engine import make_url

    if not settings.database.is_sqlite:
        return
    path = make_url(settings.database.url).database
    if path and path != ":memory:" and not Path(path).parent.is_dir():
        raise CliError(f"configuration error: database.url ({redact_url(settings.database.url)}): unable to "
                       f"open database file (its folder {Path(path).parent} does not exist)", EXIT_CONFIG)


@contextlib.asynccontextmanager
async def database_errors(settings: Settings):
    """A database we cannot reach at start is a configuration problem: one line naming the
    setting and the cause, exit code 2, no traceback. (While running, the bot retries instead.)"""
    from storage.db import connection_problem

    try:
        yield
    except Exception as exc:
        if (cause := connection_problem(exc)) is None:
            raise
        raise CliError(f"configuration error: database.url ({redact_url(settings.database.url)}): {cause}",
                       EXIT_CONFIG) from None


async def _run(settings: Settings) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    from bot.app import build_app, run_polling, run_webhook
    from bot.heap import freeze_start_up_objects
    from bot.retry import until_done

    await _prepare_database(settings)
    app = build_app(settings)
    try:
        # Telegram unreachable or answering 5xx at start is waited out, however long; bot.me()
        # caches the answer for the polling loop. Only a rejected token is final.
        me = await until_done(app.bot.me, f"getMe at {redact_url(settings.telegram.api_base)}")
    except TelegramUnauthorizedError:
        await app.close()
        raise CliError("configuration error: telegram.token was rejected by Telegram (Unauthorized)",
                       EXIT_CONFIG) from None
    except BaseException:
        await app.close()
        raise
    log.info("running as @%s (id %s), %s mode", me.username, me.id, settings.telegram.mode)
    # Last, when everything that lives as long as the process exists: see bot/heap.py.
    log.info("froze %d start-up objects out of the garbage collector's passes", freeze_start_up_objects())
    if settings.telegram.mode == "webhook":
        await run_webhook(app)
    else:
        await run_polling(app)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    # Now that the settings are known: the configured log format, chat hashes keyed per bot.
    from bot.logs import set_hash_key

    _setup_logging(args.verbose, settings.ops.log_format)
    assert settings.telegram.token is not None  # need_token
    set_hash_key(settings.telegram.token.get_secret_value())
    asyncio.run(_run(settings))
    return 0


# -- migrate / check-config -------------------------------------------------------------------
def cmd_migrate(args: argparse.Namespace) -> int:
    from storage.migrate import current_revision, head_revision, upgrade_head

    settings = _settings(args, need_token=False)

    _check_sqlite_folder(settings)

    async def go() -> str | None:
        async with database_errors(settings):
            await upgrade_head(settings.database.url)
            return await current_revision(settings.database.url)

    rev = asyncio.run(go())
    print(f"database at revision {rev} (head {head_revision()})")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print("configuration OK")
    for section, values in settings.redacted().items():
        for key, value in values.items():
            print(f"  {section}.{key} = {value}")
    tg = settings.telegram
    if tg.mode == "webhook":
        print(f"webhook: Telegram posts to {redact_url(tg.webhook_url or '')}; requests without "
              "the webhook_secret header are refused")
    return 0


# -- agencies / officers ---------------------------------------------------------------------
async def _with_session(settings: Settings, work):
    from storage.db import create_engine, create_session_factory

    await _prepare_database(settings)
    engine = create_engine(settings.database.url)
    try:
        async with create_session_factory(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def run_import(args: argparse.Namespace, parse_file, apply, noun: str) -> int:
    """An import subcommand: parse ``args.file``, apply it (or only check it, ``--dry-run``),
    and print what changed; every problem is printed and nothing is written."""
    from bot.services.import_file import ImportFileError

    settings = _settings(args, need_token=False)
    try:
        entries = parse_file(args.file)
        summary = asyncio.run(_with_session(settings, lambda s: apply(s, entries, dry_run=args.dry_run)))
    except ImportFileError as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        raise CliError(f"nothing imported ({len(exc.problems)} problem(s))") from None
    prefix = "dry run, nothing written: " if args.dry_run else ""
    print(f"{prefix}{len(entries)} {noun}: {summary}")
    for name in summary.created_names:
        print(f"  + {name}")
    for name in summary.updated_names:
        print(f"  ~ {name}")
    return 0


def cmd_agencies_import(args: argparse.Namespace) -> int:
    from bot.services.agency_import import import_agencies, parse_file

    return run_import(args, parse_file, import_agencies, "agencies")


async def _find_agency(session, ref: str):
    from storage.repositories.agencies import AgencyRepo

    repo = AgencyRepo(session)
    if (agency := await repo.by_code_or_name(ref)) is not None:
        return agency
    matches = await repo.search(ref)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CliError(f"no agency matches {ref!r} (give its code or name)")
    names = "; ".join(f"{a.name} [{a.code or '-'}]" for a in matches)
    raise CliError(f"{ref!r} matches several agencies: {names}")


def cmd_officers_invite(args: argparse.Namespace) -> int:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.domain.access import COMMAND_LINE
    from bot.services.bot_identity import known_username
    from bot.services.officers import create_invite

    settings = _settings(args, need_token=False)
    tg = settings.telegram

    async def work(session):
        # The agency first: a typo should not cost a trip to Telegram.
        agency = await _find_agency(session, args.agency)
        username = (args.bot_username or tg.username
                    or await known_username(session, tg.bot_id) or await _ask_telegram(settings))
        # Whoever runs the command line holds the server and its config: an admin.
        created = await create_invite(session, agency.id, actor=COMMAND_LINE,
                                      ttl=timedelta(hours=args.hours))
        return created, username

    created, username = asyncio.run(_with_session(settings, work))
    expires = created.invite.expires_at.astimezone(ZoneInfo(settings.app.timezone))
    print(f"invite for {created.agency.name} (single use, until {expires:%Y-%m-%d %H:%M %Z}):")
    print(created.link(username.lstrip("@")))
    return 0


async def _ask_telegram(settings: Settings) -> str:
    """The bot's username from getMe: the last resort, before the bot has ever run."""
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    from bot.app import build_bot

    if settings.telegram.token is None:
        raise CliError("the bot's username is unknown: set [telegram] username, run the bot once "
                       "(it remembers its username), or pass --bot-username", EXIT_CONFIG)
    bot = build_bot(settings)
    try:
        return (await bot.get_me()).username or ""
    except (TelegramAPIError, TelegramNetworkError) as exc:
        raise CliError(f"cannot ask Telegram for the bot's username ({exc}); set [telegram] "
                       "username or pass --bot-username") from None
    finally:
        await bot.session.close()


def cmd_officers_list(args: argparse.Namespace) -> int:
    from bot.domain.access import COMMAND_LINE
    from bot.services.officers import list_officers

    settings = _settings(args, need_token=False)

    async def work(session):
        agency_id = (await _find_agency(session, args.agency)).id if args.agency else None
        return await list_officers(session, actor=COMMAND_LINE, agency_id=agency_id)

    views = asyncio.run(_with_session(settings, work))
    if not views:
        print("no active liaison officers")
    agency = None
    for view in views:
        if view.agency_name != agency:
            agency = view.agency_name
            print(agency)
        handle = f" @{view.username}" if view.username else ""
        print(f"  #{view.officer_id} {view.display_name}{handle} (telegram id {view.telegram_id}, "
              f"since {view.bound_at:%Y-%m-%d})")
    return 0


def _register_casework_directory(sub: argparse._SubParsersAction) -> None:
    agencies = sub.add_parser("agencies", help="the agency directory").add_subparsers(
        dest="agencies_command", required=True, metavar="ACTION"
    )
    imp = agencies.add_parser("import", help="create or update agencies from a TOML or CSV file")
    imp.add_argument("file", help="e.g. examples/agencies-ppu.toml")
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.set_defaults(func=cmd_agencies_import)

    officers = sub.add_parser("officers", help="liaison officers").add_subparsers(
        dest="officers_command", required=True, metavar="ACTION"
    )
    inv = officers.add_parser("invite", help="print a single-use invite link for an agency")
    inv.add_argument("agency", help="the agency's code or name")
    inv.add_argument("--hours", type=_int_between(1, 24 * 30), default=72, help="validity (default 72)")
    inv.add_argument("--bot-username", help="the bot's @username (default: [telegram] username, "
                     "else the one the running bot last saw)")
    inv.set_defaults(func=cmd_officers_invite)
    lst = officers.add_parser("list", help="active liaison officers by agency")
    lst.add_argument("--agency", help="only this agency (code or name)")
    lst.set_defaults(func=cmd_officers_list)


# -- export -----------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from bot.domain.access import COMMAND_LINE
    from bot.domain.workdays import WorkCalendar
    from bot.i18n import build_i18n
    from bot.services.export import ExportFormat, export_year

    settings = _settings(args, need_token=False)
    suffix = Path(args.out).suffix.lower().lstrip(".") if args.out else ""
    fmt = ExportFormat(args.format or (suffix if suffix in ("csv", "xlsx") else "csv"))
    if args.out and suffix != fmt.extension:
        # Spreadsheet programs go by the extension: an XLSX named .csv opens as garbage.
        print(f"lapor-bot: warning: {args.out} does not end in .{fmt.extension} but the file is "
              f"{fmt.extension.upper()}", file=sys.stderr)
    cal = WorkCalendar(settings.app.timezone, settings.app.extra_holidays)
    i18n = build_i18n(settings.app.default_language)

    async def work(session):
        # Headers and words in the configured default language; the operator holding the
        # server counts as an admin (recorded in the audit trail as "command line").
        with i18n.context(), i18n.use_locale(settings.app.default_language):
            # One plain file: no upload limit on the server's disk.
            return await export_year(session, args.year, fmt, cal, actor=COMMAND_LINE, limit=None,
                                     read_mb_s=settings.database.export_read_mb_s or None)

    exported = asyncio.run(_with_session(settings, work))
    (part,) = exported.parts
    out = Path(args.out) if args.out else _default_export_path(part.filename, cal.today())
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(part.path, out)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc}") from None
    finally:
        exported.cleanup()
    print(f"{exported.rows} reports of {args.year} written to {out}")
    return 0


EXPORT_DIR = Path("exports")  # git-ignored: exports hold citizens' personal data


def _default_export_path(filename: str, today: date) -> Path:
    """exports/lapor-2026_2026-12-01.xlsx: a later export of the same year keeps the earlier."""
    name = Path(filename)
    return EXPORT_DIR / f"{name.stem}_{today.isoformat()}{name.suffix}"


def _register_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export one year's reports (CSV or XLSX) for the evaluation, "
                                      "or in SP4N-LAPOR!'s form (lapor) for entering them there")
    p.add_argument("--year", type=int, required=True, help="reports received in this year")
    p.add_argument("--format", choices=["csv", "xlsx", "lapor"],
                   help="default: from the --out extension, else csv; lapor is a CSV file")
    p.add_argument("--out", help="output file (default: exports/lapor-YEAR_TODAY.csv or .xlsx)")
    p.set_defaults(func=cmd_export)


# -- wiring -----------------------------------------------------------------------------------
Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """Every command and subcommand takes ``--config`` and ``-v``, so they work before or after
    the command's name; a usage mistake is one line, like every other error of this CLI."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # SUPPRESS: a subcommand that was not given them keeps what the main parser read.
        self.add_argument("--config", default=argparse.SUPPRESS,
                          help="TOML config file (default: $LAPOR_CONFIG or ./config.toml)")
        self.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                          help="debug logging")

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lapor-bot", description="SP4N-LAPOR! Telegram intake bot")
    parser.set_defaults(config=None, verbose=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the bot (long polling, or webhook per [telegram] mode)").set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("check-config", help="validate the configuration and print it").set_defaults(
        func=cmd_check_config
    )
    # Feature modules add their subcommands here (agencies, officers, export, sandbox).
    for register in _feature_commands():
        register(sub)
    return parser


# -- sandbox ----------------------------------------------------------------------------------
def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a server that stops cleanly on either."""
    import contextlib
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def cmd_sandbox(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sandbox.app import Sandbox, SandboxOptions

    options = SandboxOptions(
        host=args.host, port=args.port, citizens=args.citizens, seed_demo=args.seed_demo,
        **({"directory": Path(args.directory)} if args.directory else {}),
    )
    if not options.directory.is_file():
        raise CliError(f"agency directory not found: {options.directory} (pass --directory)")
    sandbox = Sandbox(options)
    # The scheduler logs every job run at INFO: noise next to the one line that matters here.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

    async def go() -> None:
        try:
            url = await sandbox.start()
        except OSError as exc:
            raise CliError(f"cannot listen on {args.host}:{args.port}: {exc} (try --port)") from None
        print(f"LAPOR! sandbox: open {url}/ in a browser (Ctrl+C stops; nothing is kept)", flush=True)
        # SIGTERM too, so a stopped sandbox still removes its throw-away database.
        stop = stop_on_signals()
        try:
            await stop.wait()
        finally:
            await sandbox.stop()

    asyncio.run(go())
    return 0


def _register_sandbox(sub: argparse._SubParsersAction) -> None:
    sb = sub.add_parser(
        "sandbox", help="try the bot in the browser: local Bot API server, the bot and a chat page"
    )
    # 127.0.0.1 by default: the page lets anyone act as any admin or officer.
    sb.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sb.add_argument("--port", type=_int_between(0, 65535), default=8080,
                    help="port of the page and the Bot API (default 8080; 0: any free port)")
    sb.add_argument("--seed-demo", action="store_true", help="add a few dozen reports in every status")
    sb.add_argument("--citizens", type=_int_between(1, 100), default=3,
                    help="simulated citizens Warga 1..N, 1 to 100 (default 3)")
    sb.add_argument("--directory", help="agency directory to import (default examples/agencies-ppu.toml)")
    sb.set_defaults(func=cmd_sandbox)


def _feature_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    from bot.cli_integrations import register as register_integrations

    return [_register_casework_directory, _register_export, _register_sandbox, register_integrations]


def main(argv: list[str] | None = None) -> int:
    # Before any subcommand imports aiogram: its types are built when first used (~9 s of CPU
    # and ~100 MB less at start).
    defer_aiogram_builds()
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"lapor-bot: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
