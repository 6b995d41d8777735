"""The public pages: a report's status (/r/<tracking id>) and the year's figures (/transparansi).

A confidential report, an unknown id and a malformed one get the very same answer: the same
status, headers and bytes, so nobody can learn that a confidential report exists.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.domain.lapor import lapor_report_url
from bot.domain.tracking import normalize_tracking_id
from bot.services import public_reports
from bot.services.statistics import YearStats, year_statistics
from bot.ui.chart_worker import statistics_png
from bot.web import CONTEXT, WebContext
from bot.web.pages import SECURITY_HEADERS, language, page

FIRST_YEAR = 2000
STATS_TTL = 300.0  # seconds the figures (and their chart) are reused


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/r", find)
    app.router.add_get("/r/{tracking_id}", report_page)
    app.router.add_get("/transparansi", transparency)
    app.router.add_get(r"/transparansi/{year:\d{4}}.png", transparency_chart)


def _ctx(request: web.Request) -> tuple[WebContext, str]:
    ctx = request.app[CONTEXT]
    return ctx, language(request, ctx.settings.app.default_language)


def _not_found(request: web.Request, ctx: WebContext, lang: str) -> web.Response:
    return page(request, ctx.i18n, lang, "not_found.html", status=404)


async def index(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    return page(request, ctx.i18n, lang, "index.html", cache_seconds=3600)


async def find(request: web.Request) -> web.Response:
    """The look-up form's target: on to the report's own address."""
    ctx, lang = _ctx(request)
    tracking_id = normalize_tracking_id(request.query.get("id", "")[:40])
    if tracking_id is None:
        return _not_found(request, ctx, lang)
    raise web.HTTPSeeOther(f"/r/{tracking_id}?lang={lang}")


async def report_page(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    tracking_id = normalize_tracking_id(request.match_info["tracking_id"][:40])
    report = None
    if tracking_id is not None:
        async with ctx.session_factory() as session:
            report = await public_reports.find(session, tracking_id)
    if report is None:
        return _not_found(request, ctx, lang)
    lapor_url = lapor_report_url(ctx.settings.lapor.report_url, report.lapor_id) if report.lapor_id else None
    return page(request, ctx.i18n, lang, "report.html", r=report, tz=ctx.calendar.tz, lapor_url=lapor_url)


def _year(request: web.Request, today: date) -> int | None:
    raw = request.match_info.get("year") or request.query.get("year") or str(today.year)
    year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 4 else 0
    return year if FIRST_YEAR <= year <= today.year else None


async def _stats(ctx: WebContext, year: int) -> YearStats:
    async def make() -> YearStats:
        async with ctx.session_factory() as session:
            return await year_statistics(session, year, ctx.calendar, cache=ctx.stats_cache)

    # The same computation and months as /statistik, so the page and the chat cannot disagree
    # and a month is counted once for both.
    return await ctx.cached(("stats", year), STATS_TTL, make)


async def transparency(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    today = ctx.calendar.today()
    year = _year(request, today)
    if year is None:
        raise web.HTTPNotFound(text="no figures for that year", headers=SECURITY_HEADERS)
    stats = await _stats(ctx, year)
    with ctx.i18n.context(), ctx.i18n.use_locale(lang):
        # The unassigned and uncategorised rows are named in words, in the page's language.
        agencies = sorted(
            ((stats.agency_name(a), f) for a, f in stats.by_agency.items() if f.received or f.backlog),
            key=lambda row: (row[0] == stats.agency_name(None), row[0]),
        )
        categories = [(stats.category_name(c), f) for c, f in stats.categories_by_received()]
    return page(request, ctx.i18n, lang, "transparency.html", cache_seconds=int(STATS_TTL), s=stats,
                agencies=agencies, categories=categories, years=range(max(FIRST_YEAR, today.year - 4), today.year + 1))


async def transparency_chart(request: web.Request) -> web.Response:
    ctx, lang = _ctx(request)
    year = _year(request, ctx.calendar.today())
    if year is None:
        raise web.HTTPNotFound(text="no figures for that year", headers=SECURITY_HEADERS)
    stats = await _stats(ctx, year)

    async def draw() -> bytes:
        with ctx.i18n.context(), ctx.i18n.use_locale(lang):
            # Drawn in the chart worker process: off the event loop and off the bot's GIL.
            return await statistics_png(stats)

    png = await ctx.cached(("chart", year, lang), STATS_TTL, draw)
    return web.Response(body=png, content_type="image/png",
                        headers={**SECURITY_HEADERS, "Cache-Control": f"public, max-age={int(STATS_TTL)}"})
