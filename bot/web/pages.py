"""HTML of the public pages: Jinja2 templates (autoescaped) with our gettext catalogs.

The pages are Indonesian first with an English switch (``?lang=en``), work without JavaScript
and load nothing from elsewhere: the style sheet is inline and the only image, the chart, is
served by this server.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

import jinja2
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from aiohttp import web
from yarl import URL

from bot.domain.categories import display_name
from bot.domain.deadlines import REPLY_DAYS
from bot.domain.enums import EventKind
from bot.i18n import LANGUAGES
from bot.services.my_reports import DeadlineKind
from bot.services.public_reports import PublicEvent
from bot.ui.formatting import decimal, long_date, percent, short_datetime
from bot.ui.report_render import classification_label, status_label, supporters_label

# What every page answers with: nothing may run or load from elsewhere, and nobody may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _gettext(message: str) -> str:
    return get_i18n().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return get_i18n().gettext(singular, plural, n)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    # newstyle: {{ _("...") }} returns markup-safe text whose .format() escapes its arguments.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def language(request: web.Request, default: str) -> str:
    lang = request.query.get("lang", "")
    return lang if lang in LANGUAGES else default


def render(i18n: I18n, lang: str, template: str, **values: Any) -> str:
    with i18n.context(), i18n.use_locale(lang):
        return environment().get_template(template).render(lang=lang, h=Helpers(lang), **values)


def switch_links(request: web.Request) -> dict[str, str]:
    """This page in each language: the same query with another ``lang``, relative to the page
    (never echoing the path, so a not-found page is the same for every id)."""
    out = {}
    for code in LANGUAGES:
        query = dict(request.query)
        query["lang"] = code
        out[code] = "?" + str(URL.build(query=query).query_string)
    return out


def page(request: web.Request, i18n: I18n, lang: str, template: str, *, status: int = 200,
         cache_seconds: int = 0, **values: Any) -> web.Response:
    text = render(i18n, lang, template, switch=switch_links(request), **values)
    response = web.Response(text=text, status=status,
                            content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)
    response.headers["Cache-Control"] = f"public, max-age={cache_seconds}" if cache_seconds else "no-cache"
    response.headers["Content-Language"] = lang
    return response


class Helpers:
    """Words and dates for the templates, in the page's language (called inside ``render``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def status(self, status: str) -> str:
        return status_label(status)

    def supporters(self, count: int) -> str:
        return supporters_label(count)

    def classification(self, classification: str) -> str:
        return classification_label(classification)

    def category(self, category: Any) -> str:
        return display_name(category.name, category.name_en, self.lang) if category else _("Other / not sure")

    def date(self, value: date | None) -> str:
        return long_date(value, self.lang) if value else "—"

    def datetime(self, value: datetime | None, tz: Any) -> str:
        return short_datetime(value, tz, self.lang) if value else "—"

    def deadline(self, kind: DeadlineKind) -> str:
        return {
            DeadlineKind.VERIFY: _("Verification due by"),
            DeadlineKind.FOLLOWUP: _("The agency's answer is due by"),
            DeadlineKind.REPLY: _("The reporter may reply until"),
        }[kind]

    def event(self, e: PublicEvent) -> str:
        agency = e.agency or _("the agency")
        return {
            EventKind.SUBMITTED: lambda: _("Report received"),
            EventKind.ASSIGNED: lambda: _("Verified and forwarded to {agency}").format(agency=agency),
            EventKind.REROUTED: lambda: _("Forwarded to another agency: {agency}").format(agency=agency),
            EventKind.REJECTED: lambda: _("Not accepted for follow-up"),
            EventKind.POSTPONED: lambda: _("Verification postponed"),
            EventKind.ARCHIVED: lambda: _("Archived"),
            EventKind.WITHDRAWN: lambda: _("Withdrawn by the reporter"),
            EventKind.TAKEN: lambda: _("{agency} started the follow-up").format(agency=agency),
            EventKind.INFO_REQUESTED: lambda: _("{agency} asked the reporter for more information").format(
                agency=agency),
            EventKind.ANSWERED: lambda: _("{agency} answered").format(agency=agency),
            EventKind.RETURNED: lambda: _("{agency} returned it as outside its authority").format(agency=agency),
            EventKind.ACCEPTED: lambda: _("The reporter accepted the answer"),
            EventKind.DISPUTED: lambda: _("The reporter disputed the answer; reopened"),
            EventKind.AUTO_CLOSED: lambda: _("Completed: no reply within {days} working days").format(
                days=REPLY_DAYS),
            EventKind.CHECKIN_REOPENED: lambda: _("Reopened: the problem is not solved yet"),
            EventKind.LAPOR_RECORDED: lambda: _("Entered into SP4N-LAPOR! as number {number}").format(
                number=e.lapor_id or ""),
        }.get(e.kind, lambda: _("Updated"))()

    def percent(self, value: float | None) -> str:
        return percent(value, self.lang)

    def days(self, value: float | None) -> str:
        return "–" if value is None else _("{days} working days").format(days=decimal(value, locale=self.lang))
