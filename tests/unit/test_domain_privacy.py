import itertools

import pytest

from bot.domain.enums import Privacy
from bot.domain.privacy import IdentityPart as P
from bot.domain.privacy import Viewer, reporter_identity

EXPECTED = {
    (Viewer.AGENCY, Privacy.ANONYMOUS): set(),
    (Viewer.AGENCY, Privacy.PUBLIC): {P.NAME},
    (Viewer.AGENCY, Privacy.CONFIDENTIAL): {P.NAME},
    (Viewer.EXPORT, Privacy.ANONYMOUS): set(),
    (Viewer.EXPORT, Privacy.PUBLIC): {P.NAME, P.USERNAME},
    (Viewer.EXPORT, Privacy.CONFIDENTIAL): {P.NAME, P.USERNAME},
    (Viewer.ADMIN, Privacy.ANONYMOUS): set(P),
    (Viewer.ADMIN, Privacy.PUBLIC): set(P),
    (Viewer.ADMIN, Privacy.CONFIDENTIAL): set(P),
}


@pytest.mark.parametrize(("viewer", "privacy"), list(itertools.product(Viewer, Privacy)))
def test_who_sees_what_of_the_reporter(viewer, privacy):
    assert reporter_identity(viewer, privacy) == EXPECTED[viewer, privacy]
    # The column's plain string works the same.
    assert reporter_identity(viewer, privacy.value) == EXPECTED[viewer, privacy]


def test_nobody_outside_the_coordinators_gets_a_way_to_reach_the_reporter():
    for viewer, privacy in itertools.product((Viewer.AGENCY, Viewer.EXPORT), Privacy):
        assert P.TELEGRAM_ID not in reporter_identity(viewer, privacy)
