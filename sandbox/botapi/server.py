"""The fake Bot API HTTP server: routing, token check, faults, blocking, and the request log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from aiohttp import web

from sandbox.botapi import methods
from sandbox.botapi.control import add_control_routes
from sandbox.botapi.limits import GATEWAY_PAGE, Faults, RateLimiter
from sandbox.botapi.methods import METHODS, SEND_METHODS
from sandbox.botapi.models import ApiError, Chat, Limits, SentRequest, SimUser, Violation
from sandbox.botapi.params import Params, read_params
from sandbox.botapi.state import BotApiState
from sandbox.botapi.users import UserSimulation
from sandbox.botapi.webhook import WebhookForwarder

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTheLocalBotApiServer00"


class BotApiServer(UserSimulation):
    """A local stand-in for api.telegram.org that a real aiogram ``Bot`` can talk to.

    Point the bot at it with ``TelegramAPIServer.from_base(server.base_url)``.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "lapor_bot",
        bot_first_name: str = "LAPOR! Bot",
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.limits = limits or Limits()
        bot_id = int(token.split(":", 1)[0])
        self.state = BotApiState(
            {"id": bot_id, "is_bot": True, "first_name": bot_first_name, "username": bot_username}
        )
        self.faults = Faults()
        self.rate_limiter = RateLimiter(self.limits, clock)
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_control_routes(self.app, self)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closed = asyncio.Event()
        self.webhook_forwarder: WebhookForwarder | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = int(self._runner.addresses[0][1])
        self._base_url = f"http://{host}:{bound}"
        return bound

    async def stop(self) -> None:
        if self.webhook_forwarder is not None:
            await self.webhook_forwarder.stop()
            self.webhook_forwarder = None
        self.state.closing = True
        self._closed.set()
        self.state.bump()  # releases long polls so shutdown does not wait for their timeout
        for cq in self.state.callbacks.values():
            if cq.timer is not None:
                cq.timer.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the server is not started")
        return self._base_url

    def forward_webhook(self, targets: list[str], **options: object) -> WebhookForwarder:
        """Call the bot's webhook as Telegram does, once one is set: each update POSTed to the
        next of ``targets`` (the processes behind the registered HTTPS URL's load balancer) until
        one answers 2xx. ``options`` go to ``WebhookForwarder`` (retry_delay, per_chat_order)."""
        if self.webhook_forwarder is not None:
            raise RuntimeError("webhook forwarding is already on")
        self.webhook_forwarder = WebhookForwarder(self.state, targets, **options)  # type: ignore[arg-type]
        self.webhook_forwarder.start()
        return self.webhook_forwarder

    # -- what tests read ---------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        return self.state.violations

    @property
    def sent_requests(self) -> list[SentRequest]:
        return self.state.sent_requests

    def requests(self, method: str) -> list[SentRequest]:
        return [r for r in self.state.sent_requests if r.method.lower() == method.lower()]

    def add_user(self, user: SimUser) -> SimUser:
        """Make a private chat exist without the user writing first (as if they had /start-ed)."""
        self.state.add_user(user)
        return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        members: list[SimUser],
        *,
        supergroup: bool = False,
        forum: bool = False,
        bot_status: str = "member",
        admins: Sequence[SimUser] = (),
    ) -> None:
        """A group that already has the bot in it (``bot_status="left"``: not yet; then
        ``set_bot_status`` adds it the way a member would, with its my_chat_member update).
        ``admins``: members who administer it (they write in closed topics)."""
        self.state.add_group(chat_id, title, members, supergroup=supergroup, forum=forum, bot_status=bot_status,
                             admins=admins)

    def set_bot_status(self, chat_id: int, status: str, *, by: SimUser) -> None:
        """A member adds the bot to the group ("member"), makes it an admin ("administrator"),
        or removes it ("left" when it leaves, "kicked" when removed): the bot hears of it in a
        my_chat_member update, as from Telegram."""
        chat = self.state.get_chat(chat_id)
        if not chat.is_group:
            raise ValueError("only a group's membership changes this way")
        if status not in ("member", "administrator", "left", "kicked"):
            raise ValueError(f"unknown status {status!r}")
        old, chat.bot_status = chat.bot_status, status
        self._push_my_chat_member(chat, by, old, status)

    def user_creates_topic(self, user: SimUser, chat_id: int, name: str) -> int:
        """A member opens a topic in a forum; returns its message_thread_id."""
        chat = self.state.get_chat(chat_id)
        if not chat.is_forum:
            raise ValueError("only a forum has topics")
        topic = self.state.add_topic(chat, name, 0x6FB9F0, by_bot=False, sender_id=user.id)
        return topic.message_thread_id

    def block_user(self, user_id: int) -> None:
        self.state.blocked.add(user_id)
        self._my_chat_member(user_id, "kicked")

    def unblock_user(self, user_id: int) -> None:
        self.state.blocked.discard(user_id)
        self._my_chat_member(user_id, "member")

    def _my_chat_member(self, user_id: int, status: str) -> None:
        chat = self.state.chats.get(user_id)
        if chat is None or chat.user is None:
            return
        old = "member" if status == "kicked" else "kicked"
        self._push_my_chat_member(chat, chat.user, old, status)

    def _push_my_chat_member(self, chat: Chat, by: SimUser, old: str, new: str) -> None:
        bot = dict(self.state.bot_user)

        def member(status: str) -> dict[str, object]:
            if status == "administrator":
                return methods.bot_member(self.state.bot_user, status)
            return {"user": bot, "status": status, **({"until_date": 0} if status == "kicked" else {})}

        self.state.push_update(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": by.to_api(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._refuse(request, name, None, ApiError(401, "Unauthorized"), None)
        handler = METHODS.get(name.lower())
        if handler is None:
            return self._refuse(request, name, None, ApiError(404, "Not Found: method not found"), None)
        try:
            params = await read_params(request)
        except ApiError as e:
            return self._refuse(request, name, None, e, None)
        chat_id = params.chat_id_or_none()

        fault = self.faults.take(name, chat_id)
        if fault is not None and fault.kind in ("timeout", "network"):
            return await self._misbehave(request, name, params, fault.kind, fault.deliver, fault.hang)
        if fault is not None and fault.kind == "502":
            self.state.record_request(
                SentRequest(name, params.for_log(), False, time.time(), 502, "injected 502 HTML page")
            )
            return web.Response(status=502, text=GATEWAY_PAGE, content_type="text/html")
        if fault is not None and fault.kind == "slow":
            await self._sleep_unless_closing(fault.hang)
        elif fault is not None:
            return self._answer_error(name, params, fault.error(), violation=False, note="injected fault")
        if chat_id in self.state.blocked and name.lower() in SEND_METHODS:
            # The user's doing, not the bot's: logged but not a violation.
            error = ApiError(403, "Forbidden: bot was blocked by the user")
            return self._answer_error(name, params, error, violation=False)

        try:
            result = await handler(self, params)
        except ApiError as e:
            return self._refuse(request, name, chat_id, e, params)
        except Exception:
            log.exception("fake Bot API failed on %s", name)
            error = ApiError(500, "Internal Server Error: the fake Bot API server crashed; see its log")
            return self._answer_error(name, params, error, violation=True)
        self.state.record_request(SentRequest(name, params.for_log(), True, time.time()))
        return web.json_response({"ok": True, "result": result})

    def _refuse(
        self, request: web.Request, name: str, chat_id: int | None, error: ApiError, params: Params | None
    ) -> web.Response:
        # A poll the client already gave up on (a stopped bot) is not the bot's mistake.
        gone = request.transport is None or request.transport.is_closing()
        return self._answer_error(name, params, error, violation=not gone, chat_id=chat_id)

    def _answer_error(
        self,
        name: str,
        params: Params | None,
        error: ApiError,
        *,
        violation: bool,
        chat_id: int | None = None,
        note: str | None = None,
    ) -> web.Response:
        if chat_id is None and params is not None:
            chat_id = params.chat_id_or_none()
        if violation:
            self.state.record_violation(name, chat_id, error.description)
        description = f"{error.description} ({note})" if note else error.description
        self.state.record_request(
            SentRequest(name, params.for_log() if params else {}, False, time.time(), error.code, description)
        )
        return web.json_response(error.payload(), status=error.code)

    async def _misbehave(
        self, request: web.Request, name: str, params: Params, kind: str, deliver: bool, hang: float
    ) -> web.StreamResponse:
        """Fail the way a network does: optionally after the message went out (the dangerous case)."""
        if deliver:
            try:
                await METHODS[name.lower()](self, params)
            except ApiError as e:
                return self._refuse(request, name, params.chat_id_or_none(), e, params)
        self.state.record_request(
            SentRequest(name, params.for_log(), False, time.time(), 0, f"injected {kind} (delivered={deliver})")
        )
        if kind == "timeout":
            await self._sleep_unless_closing(hang)
            return web.json_response(ApiError(500, "Internal Server Error").payload(), status=500)
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    async def _sleep_unless_closing(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closed.wait(), seconds)
        except TimeoutError:
            pass

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = self.state.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")
