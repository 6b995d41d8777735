"""What of a report may be public: its page (/r/<tracking id>), the Open311 API, the webhooks.

One table of rules, so the page, the API and the integrators cannot disagree:

- a confidential (rahasia) report is not public at all: it answers exactly like an unknown id;
- the reporter's identity is never public, whatever the privacy;
- title, description and place are published once an admin verified the report (assigned it at
  least once), as LAPOR! publishes forwarded reports; before that a report may be abuse or
  spam, so only its status shows;
- the place (address and coordinates) of an anonymous report is never published: a home
  address or a point on the map can name the reporter as surely as their name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.enums import Privacy


@dataclass(frozen=True)
class Disclosure:
    listed: bool  # the report exists publicly at all (status, agency, category, dates)
    content: bool  # title and description
    place: bool  # address and coordinates


HIDDEN = Disclosure(listed=False, content=False, place=False)


def disclosure(privacy: str, assigned_at: datetime | None) -> Disclosure:
    if privacy == Privacy.CONFIDENTIAL or privacy not in set(Privacy):
        return HIDDEN
    verified = assigned_at is not None
    return Disclosure(listed=True, content=verified, place=verified and privacy == Privacy.PUBLIC)


def integrator_disclosure(privacy: str) -> Disclosure:
    """What an integrator's webhook receives (a district dashboard, OpenSID): unverified content
    too, since they serve the coordinators rather than the public, but never a confidential
    report's content and never the place of an anonymous one. Identity never goes out."""
    if privacy not in set(Privacy):
        return HIDDEN
    return Disclosure(
        listed=True,
        content=privacy != Privacy.CONFIDENTIAL,
        place=privacy == Privacy.PUBLIC,
    )


def page_url(public_base_url: str, tracking_id: str) -> str:
    return f"{public_base_url}/r/{tracking_id}"


def report_page_url(public_base_url: str | None, tracking_id: str, privacy: str) -> str | None:
    """The report's public page, or None when there is no public address or the report is not
    public (a confidential report's page answers like an unknown one: no link to it)."""
    if not public_base_url or not disclosure(privacy, None).listed:
        return None
    return page_url(public_base_url, tracking_id)
