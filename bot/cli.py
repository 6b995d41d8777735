"""The ``lapor-bot`` command.

Every subcommand is a small function registered in ``build_parser``; configuration problems end
the process with one line naming the key and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable

from bot.config import ConfigError, Settings, load_settings, resolve_config_path

EXIT_CONFIG = 2
log = logging.getLogger("lapor_bot")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(resolve_config_path(args.config))
    except ConfigError as exc:
        raise CliError(f"configuration error: {exc}", EXIT_CONFIG) from None


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiogram logs every handled update at INFO; that is noise in production.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


# -- run ------------------------------------------------------------------------------------
async def _prepare_database(settings: Settings) -> None:
    from storage.migrate import pending, upgrade_head

    if not await pending(settings.database.url):
        return
    if settings.database.is_sqlite:
        log.info("applying database migrations")
        await upgrade_head(settings.database.url)
        return
    raise CliError("the database schema is not up to date: run `lapor-bot migrate` first", EXIT_CONFIG)


async def _run(settings: Settings) -> None:
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    from bot.app import build_app, run_polling

    await _prepare_database(settings)
    app = build_app(settings)
    try:
        me = await app.bot.get_me()
    except TelegramUnauthorizedError:
        await app.close()
        raise CliError("configuration error: telegram.token was rejected by Telegram (Unauthorized)",
                       EXIT_CONFIG) from None
    except TelegramNetworkError as exc:
        await app.close()
        raise CliError(f"cannot reach the Bot API at {settings.telegram.api_base}: {exc}") from None
    log.info("running as @%s (id %s)", me.username, me.id)
    await run_polling(app)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    asyncio.run(_run(settings))
    return 0


# -- migrate / check-config -------------------------------------------------------------------
def cmd_migrate(args: argparse.Namespace) -> int:
    from storage.migrate import current_revision, head_revision, upgrade_head

    settings = _settings(args)

    async def go() -> str | None:
        await upgrade_head(settings.database.url)
        return await current_revision(settings.database.url)

    rev = asyncio.run(go())
    print(f"database at revision {rev} (head {head_revision()})")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    redacted = settings.model_dump(mode="json")
    redacted["telegram"]["token"] = "***"
    if redacted["telegram"].get("webhook_secret"):
        redacted["telegram"]["webhook_secret"] = "***"
    print("configuration OK")
    for section, values in redacted.items():
        for key, value in values.items():
            print(f"  {section}.{key} = {value}")
    return 0


# -- wiring -----------------------------------------------------------------------------------
Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lapor-bot", description="SP4N-LAPOR! Telegram intake bot")
    parser.add_argument("--config", help="TOML config file (default: $LAPOR_CONFIG or ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the bot (long polling)").set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("check-config", help="validate the configuration and print it").set_defaults(
        func=cmd_check_config
    )
    # Feature modules add their subcommands here (agencies, officers, export, sandbox).
    for register in _feature_commands():
        register(sub)
    return parser


def _feature_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    return []


def main(argv: list[str] | None = None) -> int:
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
