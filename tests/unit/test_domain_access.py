"""The whole access matrix: actor × action × status × the reply window, written out here
independently of ``bot/domain/access.py`` (as ``test_domain_lifecycle`` does for transitions)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from bot.domain.access import (
    COMMAND_LINE,
    Action,
    Actor,
    Reason,
    Refused,
    allows,
    check,
    ensure,
    ensure_may_manage_template,
    may_manage_template,
    may_use_template,
)
from bot.domain.enums import ReportStatus as S

TODAY = date(2024, 5, 20)
AGENCY, OTHER_AGENCY = 10, 20  # AGENCY, a desa under KECAMATAN; OTHER_AGENCY under OTHER_KECAMATAN
KECAMATAN, OTHER_KECAMATAN = 30, 40
REPORTER_ID = 4

ACTORS = {
    "admin": Actor(citizen_id=1, is_admin=True),
    "officer": Actor(citizen_id=2, agency_ids=frozenset({AGENCY})),
    "other_officer": Actor(citizen_id=3, agency_ids=frozenset({OTHER_AGENCY})),
    "reporter": Actor(citizen_id=REPORTER_ID),
    "stranger": Actor(citizen_id=5),
    # Watches AGENCY's reports from above; may look and remind, never act.
    "kecamatan_officer": Actor(citizen_id=6, agency_ids=frozenset({KECAMATAN}),
                               overseen_agency_ids=frozenset({AGENCY})),
    "other_kecamatan_officer": Actor(citizen_id=7, agency_ids=frozenset({OTHER_KECAMATAN}),
                                     overseen_agency_ids=frozenset({OTHER_AGENCY})),
    # Officer of the kecamatan and of the desa itself: acts as the desa's officer.
    "kecamatan_and_desa_officer": Actor(citizen_id=8, agency_ids=frozenset({KECAMATAN, AGENCY}),
                                        overseen_agency_ids=frozenset({AGENCY})),
}
OFFICERS_OF_AGENCY = {"officer", "kecamatan_and_desa_officer"}
OVERSEERS_OF_AGENCY = {"kecamatan_officer", "kecamatan_and_desa_officer"}
WINDOWS = {"open": TODAY, "last_day_passed": TODAY - timedelta(days=1), "none": None}
# Statuses in which no agency holds the report.
WITHOUT_AGENCY = {S.SUBMITTED, S.POSTPONED, S.RETURNED}

ADMIN, OFFICER, REPORTER, OTHER_CITIZEN = "admin", "officer", "reporter", "other_citizen"
OVERSEER = "overseer"
WITH_AGENCY = {S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_REPORTER}
# action: (who may, in which statuses, only within the reply window)
EXPECTED: dict[Action, tuple[str, set[S], bool]] = {
    Action.VIEW_AS_ADMIN: (ADMIN, set(S), False),
    Action.ASSIGN: (ADMIN, {S.SUBMITTED, S.POSTPONED, S.RETURNED}, False),
    Action.REJECT: (ADMIN, {S.SUBMITTED, S.POSTPONED, S.RETURNED}, False),
    Action.POSTPONE: (ADMIN, {S.SUBMITTED}, False),
    Action.MARK_DUPLICATE: (ADMIN, {S.SUBMITTED, S.POSTPONED, S.RETURNED}, False),
    Action.ARCHIVE: (ADMIN, {S.SUBMITTED, S.POSTPONED, S.RETURNED}, False),
    Action.MARK_SUPERVISORY: (ADMIN, {S.SUBMITTED, S.POSTPONED, S.RETURNED}, False),
    Action.CATEGORIZE: (ADMIN, set(S), False),
    Action.RECORD_LAPOR_ID: (ADMIN, set(S), False),
    Action.VIEW_AS_OFFICER: (OFFICER, set(S), False),
    Action.TAKE: (OFFICER, {S.ASSIGNED}, False),
    Action.ASK: (OFFICER, {S.ASSIGNED, S.IN_PROGRESS}, False),
    Action.ANSWER: (OFFICER, WITH_AGENCY, False),
    Action.RETURN: (OFFICER, WITH_AGENCY, False),
    Action.REPLY: (REPORTER, {S.AWAITING_REPORTER}, False),
    Action.ADD_TO_REPLY: (REPORTER, {S.IN_PROGRESS}, False),
    Action.RATE: (REPORTER, {S.ANSWERED}, True),
    Action.COMMENT: (REPORTER, {S.CLOSED}, False),
    Action.DISPUTE: (REPORTER, {S.ANSWERED}, True),
    Action.CHECKIN: (REPORTER, {S.CLOSED}, False),
    Action.WITHDRAW: (REPORTER, {S.SUBMITTED, S.POSTPONED, S.RETURNED, S.ASSIGNED, S.IN_PROGRESS,
                                 S.AWAITING_REPORTER}, False),
    Action.FOLLOW: (OTHER_CITIZEN, set(S) - {S.CLOSED, S.REJECTED, S.ARCHIVED, S.WITHDRAWN}, False),
    Action.ADD_INFO: (REPORTER, set(S) - {S.CLOSED, S.REJECTED, S.ARCHIVED, S.WITHDRAWN}, False),
    Action.MUTE_REPORTER: (OFFICER, set(S), False),
    Action.VIEW_AS_OVERSEER: (OVERSEER, WITH_AGENCY, False),
    Action.REMIND_AGENCY: (OVERSEER, WITH_AGENCY, False),
}
CASELESS = {Action.ADMINISTER, Action.WORK_INBOX, Action.USE_TEMPLATES, Action.OVERSEE}


@dataclass(frozen=True)
class Case:
    status: str
    agency_id: int | None
    citizen_id: int | None
    reply_due: date | None
    rating: int | None = None
    rating_comment: str | None = None
    privacy: str = "anonymous"
    relays_muted_at: datetime | None = None


def case_in(status: S, reply_due: date | None) -> Case:
    """A report as it is in ``status``: with the agency unless in the admin's queue, rated once
    closed (by the reporter or, without a rating, by the auto-close)."""
    return Case(status=status, agency_id=None if status in WITHOUT_AGENCY else AGENCY,
                citizen_id=REPORTER_ID, reply_due=reply_due, rating=4 if status == S.CLOSED else None)


def expected(actor_name: str, action: Action, case: Case) -> Reason | None:
    who, statuses, windowed = EXPECTED[action]
    is_who = {
        ADMIN: actor_name == "admin",
        OFFICER: actor_name in OFFICERS_OF_AGENCY and case.agency_id == AGENCY,
        OVERSEER: actor_name in OVERSEERS_OF_AGENCY and case.agency_id == AGENCY,
        REPORTER: actor_name == "reporter",
        # Everyone with a citizen row but the reporter (admins and officers are citizens too).
        OTHER_CITIZEN: actor_name != "reporter",
    }[who]
    if not is_who:
        return Reason.FORBIDDEN
    if case.status not in statuses:
        return Reason.NOT_NOW
    if windowed and case.reply_due is not None and TODAY > case.reply_due:
        return Reason.TOO_LATE
    return None


def test_every_action_on_a_report_is_in_the_table():
    assert set(EXPECTED) | CASELESS == set(Action)


@pytest.mark.parametrize(
    ("actor_name", "action", "status", "window"),
    list(itertools.product(ACTORS, EXPECTED, S, WINDOWS)),
)
def test_matrix(actor_name, action, status, window):
    case = case_in(status, WINDOWS[window])
    assert check(ACTORS[actor_name], action, case, today=TODAY) == expected(actor_name, action, case)


@pytest.mark.parametrize(
    ("actor_name", "action", "allowed"),
    [
        ("admin", Action.ADMINISTER, True), ("officer", Action.ADMINISTER, False),
        ("reporter", Action.ADMINISTER, False),
        ("admin", Action.WORK_INBOX, False), ("officer", Action.WORK_INBOX, True),
        ("other_officer", Action.WORK_INBOX, True), ("reporter", Action.WORK_INBOX, False),
        ("admin", Action.USE_TEMPLATES, True), ("officer", Action.USE_TEMPLATES, True),
        ("stranger", Action.USE_TEMPLATES, False),
        ("kecamatan_officer", Action.OVERSEE, True), ("officer", Action.OVERSEE, False),
        ("admin", Action.OVERSEE, False), ("kecamatan_officer", Action.WORK_INBOX, True),
    ],
)  # fmt: skip
def test_actions_without_a_report(actor_name, action, allowed):
    assert allows(ACTORS[actor_name], action) is allowed


def test_the_console_refusal_says_admins_only_and_the_command_line_is_an_admin():
    assert check(ACTORS["officer"], Action.ADMINISTER) == Reason.ADMINS_ONLY
    assert check(ACTORS["reporter"], Action.WORK_INBOX) == Reason.FORBIDDEN
    assert allows(COMMAND_LINE, Action.ADMINISTER)


def test_a_missing_report_is_refused_like_someone_elses():
    for actor, action in itertools.product(ACTORS.values(), EXPECTED):
        assert check(actor, action, None, today=TODAY) == Reason.FORBIDDEN


def test_an_admin_who_filed_a_report_acts_on_it_as_its_reporter():
    admin_reporter = Actor(citizen_id=REPORTER_ID, is_admin=True)
    assert check(admin_reporter, Action.RATE, case_in(S.ANSWERED, TODAY), today=TODAY) is None
    # ...but is no officer of its agency.
    assert check(admin_reporter, Action.ANSWER, case_in(S.ASSIGNED, None)) == Reason.FORBIDDEN


def test_nobody_is_the_reporter_of_a_report_filed_through_the_api():
    # Open311 reports have no citizen; an actor without a citizen row (the command line) is not
    # their reporter either.
    filed = Case(status=S.ANSWERED, agency_id=AGENCY, citizen_id=None, reply_due=TODAY)
    for actor in (*ACTORS.values(), Actor(), COMMAND_LINE):
        for action in (Action.RATE, Action.DISPUTE):
            assert check(actor, action, filed, today=TODAY) == Reason.FORBIDDEN


def test_an_officer_of_several_agencies_acts_on_each():
    both = Actor(citizen_id=2, agency_ids=frozenset({AGENCY, OTHER_AGENCY}))
    assert check(both, Action.TAKE, case_in(S.ASSIGNED, None)) is None


def test_one_comment_and_only_after_a_rating():
    reporter = ACTORS["reporter"]
    rated = case_in(S.CLOSED, None)
    assert check(reporter, Action.COMMENT, rated) is None
    assert check(reporter, Action.COMMENT, Case(**{**rated.__dict__, "rating_comment": "ok"})) == Reason.NOT_NOW
    # Closed by the auto-close, never rated.
    assert check(reporter, Action.COMMENT, Case(**{**rated.__dict__, "rating": None})) == Reason.NOT_NOW


def test_what_goes_to_the_agency_needs_an_agency():
    reporter = ACTORS["reporter"]
    for action, status in ((Action.REPLY, S.AWAITING_REPORTER), (Action.ADD_TO_REPLY, S.IN_PROGRESS),
                           (Action.DISPUTE, S.ANSWERED)):
        orphan = Case(status=status, agency_id=None, citizen_id=REPORTER_ID, reply_due=TODAY)
        assert check(reporter, action, orphan, today=TODAY) == Reason.NOT_NOW


def test_the_window_needs_today():
    with pytest.raises(TypeError):
        check(ACTORS["reporter"], Action.DISPUTE, case_in(S.ANSWERED, TODAY))


def test_ensure_raises_the_reason():
    with pytest.raises(Refused) as refused:
        ensure(ACTORS["stranger"], Action.RATE, case_in(S.ANSWERED, TODAY), today=TODAY)
    assert refused.value.reason == Reason.FORBIDDEN
    ensure(ACTORS["reporter"], Action.RATE, case_in(S.ANSWERED, TODAY), today=TODAY)


def _assert_question_and_guard_agree(may, ensure_may, actor: Actor, *args, allowed: bool) -> None:
    """``may_…`` answers None when allowed, FORBIDDEN when not; ``ensure_may_…`` refuses exactly then."""
    assert may(actor, *args) == (None if allowed else Reason.FORBIDDEN)
    if allowed:
        ensure_may(actor, *args)
    else:
        with pytest.raises(Refused):
            ensure_may(actor, *args)


def test_templates_global_or_of_ones_own_agency():
    officer = ACTORS["officer"]
    assert may_use_template(officer, None) and may_use_template(officer, AGENCY)
    assert not may_use_template(officer, OTHER_AGENCY)
    assert not may_use_template(ACTORS["admin"], AGENCY)


@pytest.mark.parametrize(
    ("actor_name", "template_agency", "allowed"),
    [
        ("admin", None, True), ("admin", AGENCY, False),
        ("officer", None, False), ("officer", AGENCY, True), ("officer", OTHER_AGENCY, False),
        ("other_officer", AGENCY, False), ("other_officer", OTHER_AGENCY, True),
        ("reporter", None, False), ("reporter", AGENCY, False),
        ("stranger", None, False), ("stranger", AGENCY, False),
    ],
)  # fmt: skip
def test_a_template_is_managed_by_whoever_writes_such_templates(actor_name, template_agency, allowed):
    """Edit, retire, restore: admins the global templates, officers their agencies'."""
    _assert_question_and_guard_agree(may_manage_template, ensure_may_manage_template, ACTORS[actor_name],
                                     template_agency, allowed=allowed)
    # Revoked: no agencies any more, so not their agency's templates either.
    assert may_manage_template(Actor(citizen_id=2), AGENCY) == Reason.FORBIDDEN
    # An admin who is also an officer manages both kinds.
    both = Actor(citizen_id=6, is_admin=True, agency_ids=frozenset({AGENCY}))
    assert may_manage_template(both, None) is None and may_manage_template(both, AGENCY) is None


@pytest.mark.parametrize(
    ("actor_name", "allowed"),
    [("admin", False), ("officer", True), ("other_officer", False), ("reporter", False), ("stranger", False)],
)
def test_linking_a_group_is_for_an_officer_of_that_agency(actor_name, allowed):
    from bot.domain.access import ensure_may_link_group, may_link_group

    _assert_question_and_guard_agree(may_link_group, ensure_may_link_group, ACTORS[actor_name], AGENCY,
                                     allowed=allowed)
    # A revoked officer holds no agencies any more: refused like a stranger.
    assert may_link_group(Actor(citizen_id=2), AGENCY) == Reason.FORBIDDEN


@pytest.mark.parametrize("actor_name", list(ACTORS))
@pytest.mark.parametrize("consented", [True, False])
def test_settings_are_each_ones_own_and_need_consent(actor_name, consented):
    from bot.domain.access import ensure_may_change_settings, may_change_settings

    actor = ACTORS[actor_name]
    # Everyone (staff too: they are citizens as well) on their own row, once they agreed.
    assert may_change_settings(actor, actor.citizen_id, consented=consented) == (
        None if consented else Reason.NOT_NOW)
    # Nobody on someone else's row, an admin included: the admin has /datawarga for requests.
    assert may_change_settings(actor, REPORTER_ID + 100, consented=consented) == Reason.FORBIDDEN
    with pytest.raises(Refused):
        ensure_may_change_settings(actor, REPORTER_ID + 100, consented=True)
    assert may_change_settings(Actor(), REPORTER_ID, consented=True) == Reason.FORBIDDEN


@pytest.mark.parametrize("actor_name", list(ACTORS))
@pytest.mark.parametrize("status", [S.SUBMITTED, S.IN_PROGRESS])
def test_nobody_follows_a_confidential_report(actor_name, status):
    case = Case(**{**case_in(status, None).__dict__, "privacy": "confidential"})
    assert check(ACTORS[actor_name], Action.FOLLOW, case) == Reason.FORBIDDEN
    assert check(ACTORS["stranger"], Action.FOLLOW, Case(**{**case.__dict__, "privacy": "public"})) is None


def test_the_command_line_follows_nothing():
    assert check(COMMAND_LINE, Action.FOLLOW, case_in(S.SUBMITTED, None)) == Reason.FORBIDDEN


def test_muted_relays_stop_the_reporters_additions_but_not_their_answers():
    reporter = ACTORS["reporter"]
    muted = Case(status=S.IN_PROGRESS, agency_id=AGENCY, citizen_id=REPORTER_ID, reply_due=None,
                 relays_muted_at=datetime(2024, 5, 20, 8))
    assert check(reporter, Action.ADD_INFO, muted) == Reason.MUTED
    asked = Case(**{**muted.__dict__, "status": S.AWAITING_REPORTER})
    assert check(reporter, Action.REPLY, asked) is None  # the officer asked: the answer goes
    # A stranger still learns nothing about the report.
    assert check(ACTORS["stranger"], Action.ADD_INFO, muted) == Reason.FORBIDDEN
    assert check(ACTORS["officer"], Action.MUTE_REPORTER, muted) is None


@pytest.mark.parametrize("action", [Action.TAKE, Action.ASK, Action.ANSWER, Action.RETURN,
                                    Action.MUTE_REPORTER, Action.VIEW_AS_OFFICER])
@pytest.mark.parametrize("status", sorted(WITH_AGENCY))
def test_a_kecamatan_officer_sees_its_desa_report_but_may_not_act_on_it(action, status):
    case = case_in(status, None)
    kecamatan = ACTORS["kecamatan_officer"]
    assert check(kecamatan, Action.VIEW_AS_OVERSEER, case) is None
    assert check(kecamatan, Action.REMIND_AGENCY, case) is None
    assert check(kecamatan, action, case, today=TODAY) == Reason.FORBIDDEN
    # Another kecamatan's officer does not even see it.
    assert check(ACTORS["other_kecamatan_officer"], Action.VIEW_AS_OVERSEER, case) == Reason.FORBIDDEN
