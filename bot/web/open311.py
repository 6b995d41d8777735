"""Open311 GeoReport v2 under /open311/v2: discovery, services, service definitions, requests
(GET with filters; POST with an API key). ``.json`` or ``.xml`` on every path.

Errors come in the specification's format (a list of ``{code, description}``; ``<errors>`` in
XML) with the matching HTTP status: 400 bad input, 403 a missing, unknown or revoked api_key,
404 an unknown service or request (a confidential one answers exactly the same), 405 a wrong
method.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from bot.domain.categories import OTHER_CODE
from bot.domain.lifecycle import OPEN_STATUSES, TERMINAL
from bot.domain.tracking import normalize_tracking_id
from bot.services import apikeys, public_reports
from bot.services.casework.verification import SubmissionHook
from bot.services.open311_intake import Open311Error, ServiceRequest, file_request
from bot.ui.report_render import status_label
from bot.web import CONTEXT, WebContext, georeport
from bot.web.pages import language
from storage.base import utcnow

log = logging.getLogger(__name__)
PREFIX = "/open311/v2"
FORMAT = r"{fmt:(json|xml)}"
MAX_RESULTS = 1000
MAX_RANGE = timedelta(days=90)
MAX_IDS = 100
# When the API's shape last changed (discovery's changeset).
CHANGESET = "2025-01-01T00:00:00Z"


def setup(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/discovery.{FORMAT}", discovery)
    app.router.add_get(f"{PREFIX}/services.{FORMAT}", services)
    app.router.add_get(f"{PREFIX}/services/{{code}}.{FORMAT}", service_definition)
    app.router.add_get(f"{PREFIX}/requests.{FORMAT}", list_requests)
    app.router.add_post(f"{PREFIX}/requests.{FORMAT}", post_request)
    app.router.add_get(f"{PREFIX}/requests/{{request_id}}.{FORMAT}", get_request)
    app.middlewares.append(errors_in_spec_format)


def _fmt(request: web.Request) -> str:
    return request.match_info.get("fmt") or ("xml" if request.path.endswith(".xml") else "json")


def respond(request: web.Request, root: str, data: Any, status: int = 200) -> web.Response:
    if _fmt(request) == "xml":
        return web.Response(text=georeport.to_xml(root, data), status=status, content_type="text/xml",
                            charset="utf-8")
    return web.Response(text=georeport.to_json(data), status=status, content_type="application/json",
                        charset="utf-8")


def error(request: web.Request, code: int, description: str) -> web.Response:
    return respond(request, "errors", georeport.errors(code, description), status=code)


@web.middleware
async def errors_in_spec_format(request: web.Request, handler):
    """aiohttp's own 404/405 (an unknown path or format, a wrong method) in the spec's format."""
    if not request.path.startswith("/open311/"):
        return await handler(request)
    try:
        return await handler(request)
    except Open311Error as exc:
        return error(request, exc.code, exc.description)
    except web.HTTPException as exc:
        if exc.status in (404, 405, 413):
            return error(request, exc.status, {404: "not found", 405: "method not allowed",
                                               413: "request too large"}[exc.status])
        raise
    except Exception:
        log.exception("open311 %s %s failed", request.method, request.path)
        return error(request, 500, "internal error; try again later")


def _ctx(request: web.Request) -> tuple[WebContext, str]:
    ctx = request.app[CONTEXT]
    return ctx, language(request, ctx.settings.app.default_language)


def _base_url(ctx: WebContext, request: web.Request) -> str:
    return ctx.settings.web.public_base_url or f"{request.scheme}://{request.host}"


async def discovery(request: web.Request) -> web.Response:
    ctx, _lang = _ctx(request)
    body = georeport.discovery(_base_url(ctx, request), ctx.settings.web.contact, CHANGESET)
    return respond(request, "discovery", body)


async def services(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    async with ctx.session_factory() as session:
        categories = list(await public_reports.services(session))
    parents = {c.id: c for c in categories}
    with ctx.i18n.context(), ctx.i18n.use_locale(lang):
        other = georeport.other_service(
            _("Other / not sure"), _("For a report that fits no category; the coordinator sorts it."))
    return respond(request, "services", [georeport.service(c, parents, lang) for c in categories] + [other])


async def service_definition(request: web.Request) -> web.Response:
    ctx, _lang = _ctx(request)
    code = request.match_info["code"]
    async with ctx.session_factory() as session:
        category = await public_reports.service(session, code)
    if category is None:
        if code == OTHER_CODE:
            return respond(request, "service_definition", {"service_code": OTHER_CODE, "attributes": []})
        return error(request, 404, f"service_code {code!r} not found")
    return respond(request, "service_definition", georeport.service_definition(category))


def _requests(ctx: WebContext, request: web.Request, lang: str, reports: list) -> web.Response:
    base = ctx.settings.web.public_base_url
    with ctx.i18n.context(), ctx.i18n.use_locale(lang):
        other = _("Other / not sure")
        data = [georeport.request(r, tz=ctx.calendar.tz, base_url=base, lang=lang, status_notes=status_label(r.status),
                                  other_label=other) for r in reports]
    return respond(request, "service_requests", data)


def _when(raw: str, name: str, ctx: WebContext) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2024-05-21T08:00:00+08:00") from None
    # A date without an offset is local time (the district's time zone).
    return value if value.tzinfo is not None else value.replace(tzinfo=ctx.calendar.tz)


async def list_requests(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    q = request.query
    if ids_raw := q.get("service_request_id"):
        # The specification: with ids given, every other filter is ignored.
        ids = [normalize_tracking_id(i) for i in ids_raw.split(",")[:MAX_IDS + 1]]
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
        async with ctx.session_factory() as session:
            reports = await public_reports.find_many(session, {i for i in ids if i})
        return _requests(ctx, request, lang, reports)

    now = utcnow()
    start = _when(q["start_date"], "start_date", ctx) if q.get("start_date") else None
    end = _when(q["end_date"], "end_date", ctx) if q.get("end_date") else None
    if start is None and end is None:
        end = now
    start = start or end - MAX_RANGE
    end = end or start + MAX_RANGE
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_RANGE:
        raise Open311Error(400, "start_date and end_date may be at most 90 days apart")

    statuses = None
    if raw := q.get("status"):
        wanted = {s.strip().lower() for s in raw.split(",")}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both (open,closed)")
        statuses = set()
        if "open" in wanted:
            statuses |= {s.value for s in OPEN_STATUSES}
        if "closed" in wanted:
            statuses |= {s.value for s in TERMINAL}

    async with ctx.session_factory() as session:
        category_ids = None
        if raw := q.get("service_code"):
            category_ids = set()
            for code in {c.strip() for c in raw.split(",")}:
                if code == OTHER_CODE:
                    category_ids.add(None)
                elif (category := await public_reports.service(session, code)) is not None:
                    category_ids.add(category.id)
                else:
                    raise Open311Error(400, f"service_code {code!r} is not a service here (see services.json)")
        reports = await public_reports.search(session, submitted_from=start, submitted_before=end,
                                              statuses=statuses, category_ids=category_ids, limit=MAX_RESULTS)
    return _requests(ctx, request, lang, reports)


async def get_request(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    tracking_id = normalize_tracking_id(request.match_info["request_id"][:40])
    reports = []
    if tracking_id is not None:
        async with ctx.session_factory() as session:
            reports = await public_reports.find_many(session, [tracking_id])
    if not reports:
        # Unknown, malformed and confidential alike.
        return error(request, 404, "service_request_id not found")
    return _requests(ctx, request, lang, reports)


_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,64})\](\[\])?$")


async def post_request(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    form = await request.post()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    req = ServiceRequest(
        service_code=values.get("service_code"), lat=values.get("lat"), long=values.get("long"),
        address_string=values.get("address_string"), description=values.get("description"),
        media_url=values.get("media_url"), privacy=values.get("privacy"),
        contact={k: values[k] for k in ("first_name", "last_name", "email", "phone", "device_id", "account_id")
                 if k in values},
    )
    for name, value in form.items():
        if isinstance(value, str) and (m := _ATTRIBUTE.match(name)):
            req.attributes.setdefault(m.group(1), []).append(value)
    now = utcnow()
    async with ctx.session_factory() as session:
        key = await apikeys.authenticate(session, values.get("api_key"))
        if key is None:
            return error(request, 403, "api_key is missing, unknown or revoked")
        report = await file_request(session, key, req, ctx.calendar, now,
                                    on_submitted=SubmissionHook(ctx.casework))
    assert report.verify_due is not None
    with ctx.i18n.context(), ctx.i18n.use_locale(lang):
        notice = _("Received. The coordinator verifies it by {date} (3 working days).").format(
            date=report.verify_due.isoformat())
    return respond(request, "service_requests",
                   [{"service_request_id": report.tracking_id, "service_notice": notice, "account_id": None}])
