"""The console's Learners use cases (lrs_ws.services.console): who may search and how, a learner's
page (events shown or withheld, the audit trail) and the audit rows each writes, on the in-memory
unit of work."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learner import LearnerStatus
from lrs_ws.domain.matching import MatchRule
from lrs_ws.domain.roles import Role
from lrs_ws.services import console, plr
from lrs_ws.services.console import LearnerSearch, Viewer
from lrs_ws.services.ports import Caller, Organisation
from tests.conftest import TEST_NOW

from .test_plr import AMELIA, GRACE, HARRY, HARRY_OLD, NOSHARE0, event, learner
from .test_plr import uow as uow  # noqa: F401 - the fixture: Amelia, Harry (and his merged ULN), Grace, Jack

SANDBOX = Viewer(None, "192.0.2.1")
LIMIT = 10


def super_user(*roles: Role, organisation_id: int = 1) -> Viewer:
    caller = Caller(organisation_id, "Demo College", 7, "admin", frozenset({Role.SUPER_USER, *roles}), "198.51.100.7")
    return Viewer(caller, caller.address)


FINDER = super_user(Role.VIEW_ONLY)
READER = super_user(Role.ONLINE_USER, Role.LEARNER_RECORD)


def search(uow, viewer, **sent):
    return console.search_learners(uow, viewer, LearnerSearch(**sent), TEST_NOW, possible_match_limit=LIMIT)


def listed(result) -> list[str]:
    return [hit.learner.uln for hit in result.hits]


# --- the search: the sandbox's viewer


def test_the_sandbox_finds_by_uln_alone_a_retired_one_as_it_is(uow):
    assert listed(search(uow, SANDBOX, uln=AMELIA)) == [AMELIA]
    retired = search(uow, SANDBOX, uln=HARRY_OLD).hits[0].learner
    assert (retired.uln, retired.learner_status) == (HARRY_OLD, LearnerStatus.RETIRED)


def test_the_sandbox_finds_by_any_part_of_a_name_in_any_case_with_the_date(uow):
    born = date(2003, 8, 21)
    assert listed(search(uow, SANDBOX, given_name="har", date_of_birth=born)) == [HARRY_OLD, HARRY]
    assert listed(search(uow, SANDBOX, given_name="  HARRY ", date_of_birth=born)) == [HARRY]
    assert listed(search(uow, SANDBOX, family_name="PAT", given_name="old", date_of_birth=born)) == [HARRY_OLD]
    assert listed(search(uow, SANDBOX, family_name="hewit", date_of_birth=date(2007, 3, 14))) == [AMELIA]  # previous name
    assert listed(search(uow, SANDBOX, given_name="Harry", date_of_birth=date(2003, 8, 22))) == []


def test_names_or_a_date_sent_with_a_uln_narrow_it(uow):
    assert listed(search(uow, SANDBOX, uln=AMELIA, given_name="amelia")) == [AMELIA]
    assert listed(search(uow, SANDBOX, uln=AMELIA, given_name="Grace")) == []
    assert listed(search(uow, SANDBOX, uln=AMELIA, date_of_birth=date(2007, 3, 15))) == []


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"uln": "12345"}, "uln"),
        ({"uln": "91051069O6"}, "uln"),
        ({"uln": "9105106907"}, "uln"),  # the check digit
        ({}, "uln"),
        ({"given_name": "Amelia", "family_name": "Hughes"}, "date_of_birth"),
        ({"date_of_birth": date(2007, 3, 14)}, "given_name"),
        ({"family_name": "H" * 101, "date_of_birth": date(2007, 3, 14)}, "family_name"),
    ],
)
def test_a_search_it_cannot_run_names_the_field_and_audits_nothing(uow, sent, field):
    with pytest.raises(console.SearchProblem) as problem:
        search(uow, SANDBOX, **sent)
    assert problem.value.field == field and str(problem.value).startswith(f"{field}: ")
    assert uow.audit.rows == []


def test_a_search_is_audited_as_a_find_one_row_per_learner_listed(uow):
    search(uow, SANDBOX, given_name="har", date_of_birth=date(2003, 8, 21))
    assert [(row["uln"], row["operation"], row["outcome"], row["username"], row["organisation_id"], row["address"], row["deferred"])
            for row in uow.audit.rows] == [
        (HARRY_OLD, console.SEARCH, "2 listed", console.SANDBOX_VIEWER, None, "192.0.2.1", True),
        (HARRY, console.SEARCH, "2 listed", console.SANDBOX_VIEWER, None, "192.0.2.1", True),
    ]
    search(uow, FINDER, uln=AMELIA, given_name="Zara", family_name="Okafor")
    assert [(row["uln"], row["outcome"], row["username"], row["organisation_id"], row["deferred"]) for row in uow.audit.rows[2:]] == [
        (None, "WSRC0001", "admin", 1, True)]


def test_a_sandbox_search_lists_at_most_so_many(uow):
    born = date(2001, 2, 3)
    for n in range(console.LISTED_AT_MOST + 1):
        uow.learners.add(learner(f"X{n:09d}", "Sam", f"Lee{n:03d}", born, "1"))
    result = search(uow, SANDBOX, given_name="sam", date_of_birth=born)
    assert (len(result.hits), result.more) == (console.LISTED_AT_MOST, True)
    assert listed(result)[:2] == ["X000000000", "X000000001"]  # by family name


# --- the search: a super user, by the SOAP finds' rules


def test_a_super_user_without_a_find_role_may_not_search(uow):
    with pytest.raises(console.LearnersNotAllowed, match="online_user or view_only"):
        search(uow, super_user(Role.LEARNER_RECORD), uln=AMELIA, given_name="Amelia", family_name="Hughes")
    assert uow.audit.rows == []


def test_a_super_users_uln_search_needs_both_names_as_learner_by_uln(uow):
    with pytest.raises(console.SearchProblem) as problem:
        search(uow, FINDER, uln=AMELIA, given_name="Amelia")
    assert problem.value.field == "family_name"
    exact = search(uow, FINDER, uln=AMELIA, given_name="amelia", family_name="HUGHES")
    assert (exact.code, listed(exact), exact.hits[0].rule) == (ResponseCode.EXACT_MATCH, [AMELIA], MatchRule.EXACT)
    assert search(uow, FINDER, uln=AMELIA, given_name="Amelia", family_name="Hewitt").hits[0].rule is MatchRule.PREVIOUS_FAMILY_NAME
    merged = search(uow, FINDER, uln=HARRY_OLD, given_name="Harold", family_name="Patel")
    assert (merged.code, listed(merged), merged.hits[0].master_substituted) == (ResponseCode.MASTER_SUBSTITUTED, [HARRY], True)


def test_a_super_users_name_search_is_learner_by_demographics_matching(uow):
    with pytest.raises(console.SearchProblem) as problem:
        search(uow, FINDER, given_name="Amelia", date_of_birth=date(2007, 3, 14))
    assert problem.value.field == "family_name"  # both names, as the SOAP find
    found = search(uow, FINDER, given_name="Hughes", family_name="Amelia", date_of_birth=date(2007, 3, 14))
    assert (found.code, listed(found), found.hits[0].rule) == (ResponseCode.POSSIBLE_MATCHES, [AMELIA], MatchRule.NAMES_SWAPPED)
    # a part of a name is not a match outside the sandbox
    assert search(uow, FINDER, given_name="Ame", family_name="Hughes", date_of_birth=date(2007, 3, 14)).code is ResponseCode.NO_MATCH


# --- a learner's page


def test_the_sandbox_sees_every_event_sensitive_ones_too(uow):
    shown = console.learner_view(uow, SANDBOX, AMELIA, 1, TEST_NOW)
    assert (shown.learner.uln, shown.master, shown.events_withheld) == (AMELIA, None, None)
    assert [e.id for e in shown.events] == [1, 2, 4, 3] and shown.events[2].is_sensitive


def test_a_super_user_sees_events_as_a_plr_read_would(uow):
    assert [e.id for e in console.learner_view(uow, READER, AMELIA, 1, TEST_NOW).events] == [1, 2, 3]  # never sensitive
    no_plr_role = console.learner_view(uow, FINDER, AMELIA, 1, TEST_NOW)
    assert no_plr_role.events == () and "learner_record" in (no_plr_role.events_withheld or "")
    for uln, share in ((GRACE, "2"), (NOSHARE0, "0")):
        withheld = console.learner_view(uow, READER, uln, 1, TEST_NOW)
        assert withheld.events == () and f"AbilityToShare is {share}" in (withheld.events_withheld or "")
    assert uow.audit.rows[-1]["outcome"].startswith("shown; events withheld: the learner's AbilityToShare is 0")


def test_a_retired_ulns_page_shows_its_master_and_the_whole_record(uow):
    shown = console.learner_view(uow, READER, HARRY_OLD, 1, TEST_NOW)
    assert (shown.learner.uln, shown.master and shown.master.uln) == (HARRY_OLD, HARRY)
    assert shown.record_ulns == (HARRY, HARRY_OLD) and [e.id for e in shown.events] == [11, 10]
    master = console.learner_view(uow, READER, HARRY, 1, TEST_NOW)
    assert master.learner.linked_ulns == [HARRY_OLD] and master.record_ulns == (HARRY, HARRY_OLD)


def test_each_view_is_audited_and_committed_and_shows_on_the_next(uow):
    first = console.learner_view(uow, SANDBOX, AMELIA, 1, TEST_NOW)
    assert first.audit_total == 0 and uow.commits == 1
    row = uow.audit.rows[-1]
    assert (row["operation"], row["uln"], row["outcome"], row["organisation_id"], row["username"], row["address"], row["deferred"]) == (
        console.LEARNER_PAGE, AMELIA, "shown", None, console.SANDBOX_VIEWER, "192.0.2.1", False)
    second = console.learner_view(uow, SANDBOX, AMELIA, 1, TEST_NOW + timedelta(minutes=1))
    assert [(e.operation, e.username, e.address, e.outcome) for e in second.audit] == [
        (console.LEARNER_PAGE, console.SANDBOX_VIEWER, "192.0.2.1", "shown")]


def test_a_super_user_sees_the_addresses_of_their_own_organisation_only(uow):
    uow.organisations.add(Organisation(None, "Demo College", "10000001", None, ""))
    uow.organisations.add(Organisation(None, "Other College", "10000002", None, ""))
    console.learner_view(uow, super_user(Role.VIEW_ONLY, organisation_id=2), AMELIA, 1, TEST_NOW)
    console.learner_view(uow, READER, AMELIA, 1, TEST_NOW + timedelta(minutes=1))
    shown = console.learner_view(uow, READER, AMELIA, 1, TEST_NOW + timedelta(minutes=2))
    assert [(e.organisation_name, e.address) for e in shown.audit] == [("Demo College", "198.51.100.7"), ("Other College", None)]
    sandbox = console.learner_view(uow, SANDBOX, AMELIA, 1, TEST_NOW + timedelta(minutes=3))
    assert [e.address for e in sandbox.audit][1:] == ["198.51.100.7", "198.51.100.7"]


def test_the_audit_trail_is_paged_newest_first(uow):
    for minute in range(30):
        uow.audit.record(at=TEST_NOW + timedelta(minutes=minute), organisation_id=1, username="online",
                         operation=plr.OPERATION, uln=AMELIA, outcome="WSRC0004", address="203.0.113.9")
    first = console.learner_view(uow, SANDBOX, AMELIA, 1, TEST_NOW + timedelta(hours=1))
    assert (first.audit_total, first.audit_page_count, len(first.audit)) == (30, 2, console.AUDIT_TRAIL_PAGE_SIZE)
    assert first.audit[0].at == TEST_NOW + timedelta(minutes=29)
    second = console.learner_view(uow, SANDBOX, AMELIA, 2, TEST_NOW + timedelta(hours=1))
    assert (second.audit_total, len(second.audit), second.audit[-1].at) == (31, 6, TEST_NOW)
    assert console.learner_view(uow, SANDBOX, AMELIA, 9, TEST_NOW).audit == ()


@pytest.mark.parametrize(("uln", "audited"), [("1000000004", "1000000004"), ("12345", None), ("abcdefghij", None)])
def test_a_uln_not_on_the_register_is_not_found_and_audited(uow, uln, audited):
    with pytest.raises(console.LearnerNotFound, match=uln):
        console.learner_view(uow, SANDBOX, uln, 1, TEST_NOW)
    assert [(row["uln"], row["outcome"]) for row in uow.audit.rows] == [(audited, "not on the register")]
    assert uow.commits == 1


def test_a_super_user_without_a_find_role_is_refused_the_page_and_audited(uow):
    with pytest.raises(console.LearnersNotAllowed):
        console.learner_view(uow, super_user(Role.BATCH_USER), AMELIA, 1, TEST_NOW)
    assert [(row["uln"], row["outcome"], row["username"]) for row in uow.audit.rows] == [(AMELIA, "refused: no find role", "admin")]


def test_r9_view_audit_lists_console_views(uow):
    console.learner_view(uow, SANDBOX, AMELIA, 1, TEST_NOW)
    caller = Caller(1, "Demo College", 7, "online", frozenset({Role.LEARNER_RECORD}))
    log = plr.view_audit(uow, caller, plr.PlrQuery(AMELIA, "Amelia", "Hughes"), 1, TEST_NOW + timedelta(minutes=1))
    assert console.LEARNER_PAGE in plr.ACCESS_LOG_OPERATIONS
    assert [(e.operation, e.username) for e in log.entries] == [(console.LEARNER_PAGE, console.SANDBOX_VIEWER)]


def test_a_sensitive_event_of_a_merged_uln_shows_on_the_masters_page_to_the_sandbox_only(uow):
    uow.events.add_many([event(20, HARRY_OLD, date(2018, 6, 1), "Level 1 Award", restriction="2")])
    assert 20 in [e.id for e in console.learner_view(uow, SANDBOX, HARRY, 1, TEST_NOW).events]
    assert 20 not in [e.id for e in console.learner_view(uow, READER, HARRY, 1, TEST_NOW).events]
