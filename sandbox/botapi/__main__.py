"""Run the fake Bot API on its own: ``python -m sandbox.botapi --port 8081``."""

from __future__ import annotations

import argparse
import asyncio

from sandbox.botapi.models import Limits
from sandbox.botapi.server import DEFAULT_TOKEN, BotApiServer


async def _serve(args: argparse.Namespace) -> None:
    server = BotApiServer(
        token=args.token,
        bot_username=args.username,
        limits=Limits() if args.rate_limits else Limits.off(),
    )
    port = await server.start(args.host, args.port)
    print(f"fake Bot API on http://{args.host}:{port} (token {args.token})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default="lapor_bot")
    parser.add_argument("--no-rate-limits", dest="rate_limits", action="store_false")
    try:
        asyncio.run(_serve(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
