"""Which status changes a report may make (domain.md, "Lifecycle and deadlines")."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.enums import ReportStatus

S = ReportStatus

# The reporter may withdraw a report while it waits for verification or for the agency; not once
# it is answered (then they accept or dispute the answer, and it closes by itself).
_W = S.WITHDRAWN

_TRANSITIONS: Mapping[ReportStatus, frozenset[ReportStatus]] = {
    S.SUBMITTED: frozenset({S.ASSIGNED, S.REJECTED, S.POSTPONED, S.ARCHIVED, _W}),
    S.POSTPONED: frozenset({S.ASSIGNED, S.REJECTED, S.ARCHIVED, _W}),
    S.RETURNED: frozenset({S.ASSIGNED, S.REJECTED, S.ARCHIVED, _W}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.AWAITING_REPORTER, S.ANSWERED, S.RETURNED, _W}),
    S.IN_PROGRESS: frozenset({S.AWAITING_REPORTER, S.ANSWERED, S.RETURNED, _W}),
    S.AWAITING_REPORTER: frozenset({S.IN_PROGRESS, S.ANSWERED, S.RETURNED, _W}),
    # Back to in_progress when the reporter disputes the answer.
    S.ANSWERED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    # A "is it fixed?" check-in answered "not solved" reopens a closed report.
    S.CLOSED: frozenset({S.IN_PROGRESS}),
    S.REJECTED: frozenset(),
    S.ARCHIVED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Closed counts as finished for backlog (tunggakan) even though a check-in may reopen it.
TERMINAL: frozenset[ReportStatus] = frozenset({S.CLOSED, S.REJECTED, S.ARCHIVED, S.WITHDRAWN})
OPEN_STATUSES: frozenset[ReportStatus] = frozenset(ReportStatus) - TERMINAL
VERIFICATION_QUEUE: frozenset[ReportStatus] = frozenset({S.SUBMITTED, S.POSTPONED, S.RETURNED})
WITH_AGENCY: frozenset[ReportStatus] = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_REPORTER})
# The completion ceiling (deadlines.completion_due) runs while nobody has answered the report yet:
# waiting for the coordinators or with an agency. Answered, it is the reporter's turn; ended, done.
CEILING_RUNS: frozenset[ReportStatus] = VERIFICATION_QUEUE | WITH_AGENCY


class InvalidTransition(ValueError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a report cannot go from {current!s} to {target!s}")
        self.current = current
        self.target = target


def allowed_targets(current: ReportStatus | str) -> frozenset[ReportStatus]:
    # StrEnum members hash like their values, so a raw column string works as a key.
    return _TRANSITIONS.get(current, frozenset())  # type: ignore[call-overload]


def can_transition(current: ReportStatus | str, target: ReportStatus | str) -> bool:
    return target in allowed_targets(current)


def ensure_transition(current: ReportStatus | str, target: ReportStatus | str) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
