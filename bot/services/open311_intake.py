"""Filing a report through the Open311 API (GeoReport v2 ``POST requests``), for kiosks and web
forms filing on a citizen's behalf. Such a report is a complaint like any other: it waits in
the admins' verification queue, and the admins (only they) see who filed it and through which
key. Nobody can be messaged in Telegram about it; its page and the API show its progress.

Refusals are ``Open311Error`` with the HTTP status the specification's error format carries.
Their descriptions are for the client's developer, in English like the specification.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import access
from bot.domain.access import Action, Actor
from bot.domain.categories import OTHER_CODE
from bot.domain.enums import Channel, Classification, Privacy
from bot.domain.text_rules import (
    BODY_MAX,
    LOCATION_MAX,
    TITLE_MAX,
    TITLE_MIN,
    TextRuleError,
    clean_text,
    validate_body,
)
from bot.domain.workdays import WorkCalendar
from bot.services.casework import core
from bot.services.intake import Draft, SubmittedHook, submit_report
from storage.models import ApiKey, ApiSubmission, Category, Report
from storage.repositories.apikeys import ApiKeyRepo
from storage.repositories.categories import CategoryRepo

CONTACT_LIMITS = {"first_name": 128, "last_name": 128, "email": 254, "phone": 32, "device_id": 128,
                  "account_id": 128}
MEDIA_URL_MAX = 500
ATTRIBUTE_VALUE_MAX = 500


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class ServiceRequest:
    """The POST's parameters as sent (strings; None when absent)."""

    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    description: str | None = None
    media_url: str | None = None
    # Not in the specification: public (default), anonymous or confidential.
    privacy: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    contact: dict[str, str] = field(default_factory=dict)


def _coordinate(raw: str, low: float, high: float, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise Open311Error(400, f"{name} must lie between {low:g} and {high:g}")
    return value


def _location(req: ServiceRequest) -> tuple[str | None, float | None, float | None]:
    lat, long = (req.lat or "").strip(), (req.long or "").strip()
    address = clean_text(req.address_string or "", multiline=False)
    if bool(lat) != bool(long):
        raise Open311Error(400, "lat and long go together: give both, or address_string")
    if len(address) > LOCATION_MAX:
        raise Open311Error(400, f"address_string is longer than {LOCATION_MAX} characters")
    if not lat and not address:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    if not lat:
        return address, None, None
    return address or None, _coordinate(lat, -90, 90, "lat"), _coordinate(long, -180, 180, "long")


def _attributes(category: Category | None, given: dict[str, list[str]]) -> list[str]:
    """The answers to the service's attributes, as "question: answer" lines for the admins."""
    defined = {a["code"]: a for a in (category.attributes if category else [])}
    if unknown := set(given) - set(defined):
        raise Open311Error(400, f"unknown attribute(s) for this service: {', '.join(sorted(unknown))}")
    lines = []
    for code, attr in sorted(defined.items(), key=lambda item: item[1]["order"]):
        values = [clean_text(v, multiline=False) for v in given.get(code, []) if v.strip()]
        if not values:
            if attr["required"]:
                raise Open311Error(400, f"attribute[{code}] is required for this service")
            continue
        if any(len(v) > ATTRIBUTE_VALUE_MAX for v in values):
            raise Open311Error(400, f"attribute[{code}] is longer than {ATTRIBUTE_VALUE_MAX} characters")
        if attr["datatype"] in ("singlevaluelist", "multivaluelist"):
            names = {v["key"]: v["name"] for v in attr["values"]}
            if any(v not in names for v in values) or (attr["datatype"] == "singlevaluelist" and len(values) > 1):
                raise Open311Error(400, f"attribute[{code}] must be one of: {', '.join(names)}")
            values = [names[v] for v in values]
        elif attr["datatype"] == "number":
            try:
                [float(v) for v in values]
            except ValueError:
                raise Open311Error(400, f"attribute[{code}] must be a number") from None
        lines.append(f"{attr['description']} {', '.join(values)}")
    return lines


def _title(description: str) -> str:
    """A title from the description's first line, cut at a word within the limit."""
    first = description.split("\n", 1)[0]
    if len(first) < TITLE_MIN:
        first = " ".join(description.split())
    if len(first) <= TITLE_MAX:
        return first
    return first[: TITLE_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


async def file_request(
    session: AsyncSession, key: ApiKey, req: ServiceRequest, calendar: WorkCalendar, now: datetime,
    *, on_submitted: SubmittedHook | None = None,
) -> Report:
    """Validate and file; commits. ``on_submitted`` is the casework hook (notify the admins)."""
    code = (req.service_code or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    category = None
    if code != OTHER_CODE:
        category = await CategoryRepo(session).by_code(code)
        if category is None or not category.active:
            raise Open311Error(400, f"service_code {code!r} is not a service here (see services.json)")
    address, lat, long = _location(req)
    try:
        body = validate_body(req.description or "")
    except TextRuleError as exc:
        what = {"empty": "description is required", "too_short": f"description needs at least {exc.limit} characters",
                "too_long": f"description is longer than {BODY_MAX} characters"}[exc.reason]
        raise Open311Error(400, what) from None
    privacy = (req.privacy or Privacy.PUBLIC.value).strip().lower()
    if privacy not in set(Privacy):
        raise Open311Error(400, "privacy must be public, anonymous or confidential")
    media = (req.media_url or "").strip()
    if media and (len(media) > MEDIA_URL_MAX or not re.match(r"^https?://\S+$", media)):
        raise Open311Error(400, f"media_url must be an http(s) URL of at most {MEDIA_URL_MAX} characters")
    contact = {}
    for name, limit in CONTACT_LIMITS.items():
        value = clean_text(req.contact.get(name) or "", multiline=False)
        if len(value) > limit:
            raise Open311Error(400, f"{name} is longer than {limit} characters")
        contact[name] = value or None
    extra = _attributes(category, req.attributes) + ([f"Media: {media}"] if media else [])
    full_body = body + ("\n\n" + "\n".join(extra) if extra else "")
    if len(full_body) > BODY_MAX:
        raise Open311Error(400, f"description and attributes together exceed {BODY_MAX} characters")

    draft = Draft(
        classification=Classification.COMPLAINT.value,
        category_offered=True, category_chosen=True, category_id=category.id if category else None,
        agency_chosen=True, agency_id=None,
        title=_title(body), body=full_body,
        # The API has no incident date; the day it is filed is the closest we know.
        incident_date=calendar.local_date(now).isoformat(),
        location_text=address, latitude=lat, longitude=long,
        attachments_done=True, privacy=privacy,
    )
    key_id = key.id

    async def hook(s: AsyncSession, report: Report) -> None:
        await ApiKeyRepo(s).add_submission(ApiSubmission(report_id=report.id, api_key_id=key_id, **contact))
        key.last_used_at = now
        if on_submitted is not None:
            await on_submitted(s, report)

    return await submit_report(session, None, draft, calendar, now, on_submitted=hook, channel=Channel.OPEN311)


async def filer(session: AsyncSession, actor: Actor, report_id: int) -> tuple[ApiSubmission, str] | None:
    """Who filed a report through the API and with which key's name: for admins only."""
    if access.check(actor, Action.VIEW_AS_ADMIN, await core.load(session, report_id)) is not None:
        return None
    found = await ApiKeyRepo(session).submission_of(report_id)
    return (found[0], found[1].name) if found else None
