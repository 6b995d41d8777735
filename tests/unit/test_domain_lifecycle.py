import itertools

import pytest

from bot.domain.enums import (
    ActorRole,
    AgencyKind,
    Classification,
    EventKind,
    Privacy,
)
from bot.domain.enums import (
    ReportStatus as S,
)
from bot.domain.lifecycle import (
    OPEN_STATUSES,
    TERMINAL,
    VERIFICATION_QUEUE,
    WITH_AGENCY,
    InvalidTransition,
    allowed_targets,
    can_transition,
    ensure_transition,
)

ALLOWED = {
    (S.SUBMITTED, S.ASSIGNED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.POSTPONED),
    (S.SUBMITTED, S.ARCHIVED),
    (S.POSTPONED, S.ASSIGNED), (S.POSTPONED, S.REJECTED), (S.POSTPONED, S.ARCHIVED),
    (S.RETURNED, S.ASSIGNED), (S.RETURNED, S.REJECTED), (S.RETURNED, S.ARCHIVED),
    (S.ASSIGNED, S.IN_PROGRESS), (S.ASSIGNED, S.AWAITING_REPORTER), (S.ASSIGNED, S.ANSWERED),
    (S.ASSIGNED, S.RETURNED),
    (S.IN_PROGRESS, S.AWAITING_REPORTER), (S.IN_PROGRESS, S.ANSWERED), (S.IN_PROGRESS, S.RETURNED),
    (S.AWAITING_REPORTER, S.IN_PROGRESS), (S.AWAITING_REPORTER, S.ANSWERED),
    (S.AWAITING_REPORTER, S.RETURNED),
    (S.ANSWERED, S.CLOSED), (S.ANSWERED, S.IN_PROGRESS),
    (S.CLOSED, S.IN_PROGRESS),
    # The reporter withdraws: before the answer only.
    (S.SUBMITTED, S.WITHDRAWN), (S.POSTPONED, S.WITHDRAWN), (S.RETURNED, S.WITHDRAWN),
    (S.ASSIGNED, S.WITHDRAWN), (S.IN_PROGRESS, S.WITHDRAWN), (S.AWAITING_REPORTER, S.WITHDRAWN),
}  # fmt: skip


@pytest.mark.parametrize(("a", "b"), list(itertools.product(S, S)))
def test_transition_table_matches_domain(a, b):
    assert can_transition(a, b) is ((a, b) in ALLOWED)


def test_plain_strings_from_the_database_work():
    assert can_transition("submitted", "assigned")
    assert not can_transition("closed", "answered")
    assert not can_transition("no_such_status", "assigned")
    ensure_transition("answered", "closed")


def test_ensure_transition_raises_with_both_states():
    with pytest.raises(InvalidTransition) as info:
        ensure_transition(S.REJECTED, S.ASSIGNED)
    assert info.value.current == S.REJECTED
    assert info.value.target == S.ASSIGNED
    with pytest.raises(InvalidTransition):
        ensure_transition(S.SUBMITTED, S.ANSWERED)


def test_status_sets():
    assert TERMINAL == {S.CLOSED, S.REJECTED, S.ARCHIVED, S.WITHDRAWN}
    assert OPEN_STATUSES == set(S) - TERMINAL
    assert VERIFICATION_QUEUE == {S.SUBMITTED, S.POSTPONED, S.RETURNED}
    assert WITH_AGENCY == {S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_REPORTER}
    assert VERIFICATION_QUEUE <= OPEN_STATUSES and WITH_AGENCY <= OPEN_STATUSES
    assert allowed_targets(S.REJECTED) == frozenset()


def test_a_report_is_withdrawn_only_while_open_and_not_yet_answered():
    withdrawable = {s for s in S if can_transition(s, S.WITHDRAWN)}
    assert withdrawable == OPEN_STATUSES - {S.ANSWERED}
    assert allowed_targets(S.WITHDRAWN) == frozenset()


def test_every_verification_queue_status_can_be_assigned_and_agency_can_return():
    assert all(can_transition(s, S.ASSIGNED) for s in VERIFICATION_QUEUE)
    assert all(can_transition(s, S.RETURNED) for s in WITH_AGENCY)


def test_enum_values_are_the_stored_strings():
    assert [s.value for s in S] == [
        "submitted", "postponed", "assigned", "in_progress", "awaiting_reporter", "answered",
        "returned", "closed", "rejected", "archived", "withdrawn",
    ]  # fmt: skip
    assert {c.value for c in Classification} == {"complaint", "aspiration", "information"}
    assert {p.value for p in Privacy} == {"public", "anonymous", "confidential"}
    assert {k.value for k in AgencyKind} == {"opd", "bumd", "kecamatan", "kelurahan", "desa"}
    assert {r.value for r in ActorRole} == {"citizen", "admin", "officer", "system"}
    assert {e.value for e in EventKind} == {
        "submitted", "assigned", "rerouted", "rejected", "postponed", "archived", "taken",
        "info_requested", "reporter_replied", "reporter_added", "answered", "returned", "accepted", "disputed",
        "auto_closed", "checkin_reopened", "lapor_recorded", "withdrawn", "note",
    }  # fmt: skip
    assert S("in_progress") is S.IN_PROGRESS and str(S.IN_PROGRESS) == "in_progress"
