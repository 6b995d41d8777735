"""``lapor-bot`` subcommands that connect the bot to the world around it: the category tree,
Open311 API keys, the webhook delivery log, and the web server on its own.

Registered by ``bot.cli.build_parser``; failures end with one line and a non-zero exit code,
like every other subcommand.
"""

from __future__ import annotations

import argparse
import asyncio

from bot.cli import CliError, _settings, _with_session, log, run_import, stop_on_signals


# -- categories ---------------------------------------------------------------------------------
def cmd_categories_import(args: argparse.Namespace) -> int:
    from bot.services.category_import import import_categories, parse_file

    return run_import(args, parse_file, import_categories, "categories")


# -- API keys -----------------------------------------------------------------------------------
def cmd_apikeys_create(args: argparse.Namespace) -> int:
    from bot.services.apikeys import ApiKeyError, create_key
    from storage.base import utcnow

    settings = _settings(args, need_token=False)
    try:
        row, key = asyncio.run(_with_session(settings, lambda s: create_key(s, args.name, utcnow())))
    except ApiKeyError as exc:
        raise CliError(str(exc)) from None
    print(f"API key {row.name!r} created. It is shown only this once; give it to the client:")
    print(key)
    return 0


def cmd_apikeys_list(args: argparse.Namespace) -> int:
    from bot.services.apikeys import list_keys

    keys = asyncio.run(_with_session(_settings(args, need_token=False), list_keys))
    if not keys:
        print("no API keys")
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        print(f"  {k.name}  {k.prefix}…  created {k.created_at:%Y-%m-%d}  {state}, {used}")
    return 0


def cmd_apikeys_revoke(args: argparse.Namespace) -> int:
    from bot.services.apikeys import ApiKeyError, revoke_key
    from storage.base import utcnow

    try:
        row = asyncio.run(_with_session(_settings(args, need_token=False),
                                        lambda s: revoke_key(s, args.name, utcnow())))
    except ApiKeyError as exc:
        raise CliError(str(exc)) from None
    print(f"API key {row.name!r} revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    return 0


# -- webhooks -----------------------------------------------------------------------------------
def cmd_webhooks_log(args: argparse.Namespace) -> int:
    from storage.repositories.webhooks import WebhookRepo

    rows = asyncio.run(_with_session(_settings(args, need_token=False),
                                     lambda s: WebhookRepo(s).latest(args.limit, args.target)))
    if not rows:
        print("no webhook deliveries")
    for d in rows:
        code = d.last_status_code if d.last_status_code is not None else "-"
        error = f"  {d.last_error}" if d.last_error else ""
        print(f"#{d.id} {d.created_at:%Y-%m-%d %H:%M:%S} {d.target} {d.event} report {d.report_id}: "
              f"{d.status}, {d.attempts} attempt(s), last HTTP {code}{error}")
    return 0


# -- web ----------------------------------------------------------------------------------------
def cmd_web(args: argparse.Namespace) -> int:
    """The public pages and the Open311 API on their own port, without the bot."""
    from aiohttp import web

    from bot.app import build_web_context
    from bot.cli import _prepare_database
    from bot.services.webhooks import sync_targets
    from bot.web import build_web_app
    from storage.db import create_engine, create_session_factory

    settings = _settings(args, need_token=False)
    host, port = args.host or settings.web.host, args.port or settings.web.port

    async def go() -> None:
        await _prepare_database(settings)
        engine = create_engine(settings.database.url)
        session_factory = create_session_factory(engine)
        # Reports filed through the API queue webhooks; the bot process sends them.
        await sync_targets(session_factory, settings.webhooks.targets)
        ctx = build_web_context(settings, session_factory)
        runner = web.AppRunner(build_web_app(ctx), handle_signals=False)
        await runner.setup()
        stop = stop_on_signals()
        try:
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as exc:
                raise CliError(f"cannot listen on {host}:{port}: {exc}") from None
            log.info("public pages and Open311 API on http://%s:%s/", host, port)
            print(f"serving on http://{host}:{port}/ (Ctrl+C stops)", flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()
            await engine.dispose()

    asyncio.run(go())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    categories = sub.add_parser("categories", help="the category tree").add_subparsers(
        dest="categories_command", required=True, metavar="ACTION")
    imp = categories.add_parser("import", help="create or update categories from a TOML or CSV file")
    imp.add_argument("file", help="e.g. examples/categories.toml")
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.set_defaults(func=cmd_categories_import)

    keys = sub.add_parser("apikeys", help="Open311 API keys (for filing reports)").add_subparsers(
        dest="apikeys_command", required=True, metavar="ACTION")
    create = keys.add_parser("create", help="make a key and print it once")
    create.add_argument("name", help="who uses it, e.g. \"kiosk kecamatan Waru\"")
    create.set_defaults(func=cmd_apikeys_create)
    keys.add_parser("list", help="keys, their state and last use").set_defaults(func=cmd_apikeys_list)
    revoke = keys.add_parser("revoke", help="stop a key from working")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_apikeys_revoke)

    hooks = sub.add_parser("webhooks", help="outbound webhooks").add_subparsers(
        dest="webhooks_command", required=True, metavar="ACTION")
    logp = hooks.add_parser("log", help="the latest deliveries and their outcome")
    logp.add_argument("--target", help="only this target (its name in [[webhooks.targets]])")
    logp.add_argument("--limit", type=int, default=30)
    logp.set_defaults(func=cmd_webhooks_log)

    webp = sub.add_parser("web", help="serve the public status pages and the Open311 API on their own port")
    webp.add_argument("--host", help="default: [web] host")
    webp.add_argument("--port", type=int, help="default: [web] port")
    webp.set_defaults(func=cmd_web)
