"""The one table of what may be public (bot/domain/publication.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.publication import disclosure, integrator_disclosure, report_page_url

VERIFIED = datetime(2024, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(("privacy", "assigned_at", "listed", "content", "place"), [
    ("public", VERIFIED, True, True, True),
    ("public", None, True, False, False),  # not verified yet: status only
    ("anonymous", VERIFIED, True, True, False),  # the place could name the reporter
    ("anonymous", None, True, False, False),
    ("confidential", VERIFIED, False, False, False),  # as if it did not exist
    ("confidential", None, False, False, False),
    ("something-new", VERIFIED, False, False, False),  # an unknown privacy is the strictest
])
def test_public_disclosure(privacy, assigned_at, listed, content, place):
    d = disclosure(privacy, assigned_at)
    assert (d.listed, d.content, d.place) == (listed, content, place)


@pytest.mark.parametrize(("privacy", "content", "place"), [
    ("public", True, True),
    ("anonymous", True, False),
    ("confidential", False, False),
    ("something-new", False, False),
])
def test_integrators_get_unverified_content_but_never_what_privacy_withholds(privacy, content, place):
    d = integrator_disclosure(privacy)
    assert (d.content, d.place) == (content, place)


def test_page_links_only_for_public_reports_and_a_known_address():
    assert report_page_url("https://x.go.id", "LPR-AAAA-BBBB", "anonymous") == "https://x.go.id/r/LPR-AAAA-BBBB"
    assert report_page_url("https://x.go.id", "LPR-AAAA-BBBB", "confidential") is None
    assert report_page_url(None, "LPR-AAAA-BBBB", "public") is None
