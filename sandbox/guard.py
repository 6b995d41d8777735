"""Who may drive the sandbox page: the page itself, opened on this machine, and nothing else.

Anyone who can reach the control API can act as any admin, so three checks guard it:
- **Host**: an IP literal, ``localhost`` or the ``--host`` given. A web page that rebinds its own
  domain name to 127.0.0.1 (DNS rebinding) sends its own name as Host and is refused.
- **Origin**: a browser names the page that makes a request; one from another site is refused
  (a form or ``fetch`` on any page the operator visits could otherwise post to the sandbox).
- **A token made at each start**, written into the page and sent back with every call
  (``X-Sandbox-Token``, or ``?token=`` where the browser loads a URL itself, as an ``<img>``).
  Another site can neither read the page nor guess it.
The Bot API under ``/bot<token>/`` is the bot's, protected by the bot token as on Telegram.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

TOKEN_HEADER = "X-Sandbox-Token"
TOKEN_QUERY = "token"
CONTROL_PREFIX = "/_sandbox/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def host_allowed(host_header: str | None, configured_host: str) -> bool:
    if not host_header:
        return False
    hostname = urlsplit(f"//{host_header}").hostname or ""
    if hostname in ("localhost", configured_host.lower()):
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def origin_allowed(origin: str | None, host_header: str | None) -> bool:
    """No Origin (a non-browser client, or a same-origin GET) passes; else it must be this page."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == (host_header or "")


def guard_middleware(token: str, configured_host: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/bot"):
            return await handler(request)
        host = request.headers.get("Host")
        if not host_allowed(host, configured_host):
            return web.json_response({"ok": False, "error": "unknown Host"}, status=403)
        if not origin_allowed(request.headers.get("Origin"), host):
            return web.json_response({"ok": False, "error": "cross-site request refused"}, status=403)
        if request.path.startswith(CONTROL_PREFIX):
            given = request.headers.get(TOKEN_HEADER) or request.query.get(TOKEN_QUERY) or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.json_response({"ok": False, "error": "missing or wrong sandbox token"},
                                         status=403)
        return await handler(request)

    return guard
