"""process_learner: one batch learner's ReturnCode (RC001-RC013), on the in-memory unit of work.

The specification is the table of per-learner return codes in docs/our-readings.md, section
"Batch registration". Every test checks the code, the ULN returned with it, and what was (or
was not) written to the register.
"""
from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from lrs_ws.domain.batch import Count, JobType, LearnerOutcome, ReturnCode
from lrs_ws.domain.learner import Learner, LearnerStatus
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS
from lrs_ws.domain.uln import check_digit, is_valid_uln, new_uln
from lrs_ws.services.batch_learner import BatchRules, process_learner, read_ahead
from lrs_ws.services.register import lock_registration

from .fakes import FakeLearnerRepository, FakeUnitOfWork

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=ZoneInfo("Europe/London"))
TODAY = date(2026, 11, 23)
FUL, CHK = JobType.FULL, JobType.CHECK

AMELIA = "9105106906"  # active, shares (AbilityToShare 1)
HARRY = "2083498614"  # active master of HARRY_OLD
HARRY_OLD = "5558175256"  # retired into HARRY
GRACE = "6302822970"  # active, AbilityToShare 0
BAD_CHECK_DIGIT = "9105106907"
NEVER_ISSUED = "1026893096"  # valid check digit, not on the register


def learner(uln: str, given: str, family: str, born: date, gender: str, post_code: str, **extra) -> Learner:
    values = dict(
        uln=uln, given_name=given, family_name=family, date_of_birth=born, gender=gender,
        last_known_post_code=post_code, created_date=date(2020, 1, 6), last_updated_date=date(2020, 1, 6),
        version_number=1, verification_type="1", ability_to_share="1",
    )
    values.update(extra)
    return Learner(**values)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.learners.add(learner(AMELIA, "Amelia", "Hughes", date(2007, 3, 14), "2", "B15 2TT",
                             email_address="amelia@example.org", notes="keep me"))
    uow.learners.add(learner(HARRY, "Harry", "Patel", date(2003, 8, 21), "1", "LS1 4AP"))
    uow.learners.add(learner(HARRY_OLD, "Harold", "Patel", date(2003, 8, 21), "1", "B15 2TT",
                             learner_status=LearnerStatus.RETIRED, master_uln=HARRY))
    uow.learners.add(learner(GRACE, "Grace", "O'Neil", date(2004, 5, 9), "2", "M1 1AE", ability_to_share="0"))
    return uow


def rules(limit: int = 10, seed: int = 11) -> BatchRules:
    return BatchRules(DEFAULT_PROHIBITED_WORDS, limit, random.Random(seed))


def run(uow: FakeUnitOfWork, sent: dict[str, str], job_type: JobType = FUL, **rule_options) -> LearnerOutcome:
    return process_learner(uow, job_type, sent, now=NOW, rules=rules(**rule_options))


def snapshot(uow: FakeUnitOfWork) -> dict[str, Learner]:
    return {uln: row.copy() for uln, row in uow.learners.rows.items()}


def amelia(**fields: str) -> dict[str, str]:
    """A batch row naming Amelia by ULN with her five key fields as stored (wire names)."""
    row = {"ULN": AMELIA, "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14",
           "Gender": "2", "LastKnownPostCode": "B15 2TT"}
    row.update(fields)
    return row


def newcomer(**fields: str) -> dict[str, str]:
    """A batch row without a ULN for a learner nobody on the register resembles."""
    row = {"GivenName": "Olivia", "FamilyName": "Brennan", "DateOfBirth": "2008-06-02", "Gender": "2",
           "LastKnownPostCode": "CV1 2GT", "EmailAddress": "olivia@example.org"}
    row.update(fields)
    return row


def assert_unchanged(uow: FakeUnitOfWork, before: dict[str, Learner]) -> None:
    assert uow.learners.rows == before


# --------------------------------------------------------------------------- RC001


def test_rc001_uln_with_agreeing_names_and_nothing_different_changes_nothing(uow) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(EmailAddress="amelia@example.org")) == LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)
    assert_unchanged(uow, before)


def test_rc001_uln_and_names_only(uow) -> None:
    before = snapshot(uow)
    outcome = run(uow, {"ULN": AMELIA, "GivenName": "Amelia", "FamilyName": "Hughes"})
    assert outcome == LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)
    assert_unchanged(uow, before)


def test_rc001_values_in_another_spacing_or_postcode_case_are_no_difference(uow) -> None:
    before = snapshot(uow)
    outcome = run(uow, amelia(GivenName="  Amelia ", LastKnownPostCode="b152tt", ULN=f" {AMELIA} "))
    assert outcome == LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)
    assert_unchanged(uow, before)


def test_close_given_name_with_nothing_else_different_is_one_key_field_changed_rc005(uow) -> None:
    # A one-typo given name agrees (find by ULN's close rules), so it is not RC010; but the given
    # name differs, so "nothing differs" (RC001) does not hold: exactly one key field differs,
    # which is RC005, and the learner is updated with the name sent.
    outcome = run(uow, amelia(GivenName="Amelya"))
    assert outcome == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert stored.given_name == "Amelya"
    assert (stored.family_name, stored.last_known_post_code) == ("Hughes", "B15 2TT")
    assert stored.version_number == 2


# --------------------------------------------------------------------------- RC002


def test_rc002_no_uln_exact_five_field_match(uow) -> None:
    before = snapshot(uow)
    sent = {"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "Gender": "2",
            "LastKnownPostCode": "B15 2TT"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.MATCHED, AMELIA)
    assert_unchanged(uow, before)


def test_rc002_matches_after_normalising_and_updates_nothing_else_sent(uow) -> None:
    before = snapshot(uow)
    sent = {"GivenName": " AMELIA ", "FamilyName": "hughes", "DateOfBirth": "2007-03-14", "Gender": "2",
            "LastKnownPostCode": "b152tt", "EmailAddress": "new@example.org", "Notes": "other"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.MATCHED, AMELIA)
    assert_unchanged(uow, before)  # a match is not an update


# --------------------------------------------------------------------------- RC003


def test_rc003_no_uln_no_match_registers_a_new_learner(uow) -> None:
    before = snapshot(uow)
    outcome = run(uow, newcomer(GivenName="  Olivia ", LastKnownPostCode="cv12gt", Title="Miss"))
    assert outcome.code is ReturnCode.CREATED
    uln = outcome.uln
    assert uln is not None and is_valid_uln(uln) and uln not in before
    assert set(uow.learners.rows) == set(before) | {uln}
    assert {k: uow.learners.rows[k] for k in before} == before
    stored = uow.learners.rows[uln]
    assert (stored.given_name, stored.family_name, stored.date_of_birth, stored.gender) == (
        "Olivia", "Brennan", date(2008, 6, 2), "2")
    assert stored.last_known_post_code == "CV1 2GT"
    assert (stored.email_address, stored.title) == ("olivia@example.org", "Miss")
    assert stored.version_number == 1
    assert stored.learner_status is LearnerStatus.ACTIVE and stored.master_uln is None
    assert (stored.created_date, stored.last_updated_date) == (TODAY, TODAY)
    assert (stored.verification_type, stored.ability_to_share) == ("0", "0")  # absent: the defaults


@pytest.mark.parametrize("seed", [5, 6])
def test_rc003_issues_the_uln_from_the_rules_generator(uow, seed) -> None:
    expected = new_uln(random.Random(seed), uow.learners.uln_exists)
    assert run(uow, newcomer(), seed=seed) == LearnerOutcome(ReturnCode.CREATED, expected)


def test_two_rows_of_one_new_learner_give_rc003_then_rc002_with_the_same_uln(uow) -> None:
    before = snapshot(uow)
    batch_rules = rules()
    first = process_learner(uow, FUL, newcomer(), now=NOW, rules=batch_rules)
    second = process_learner(uow, FUL, newcomer(GivenName="OLIVIA", LastKnownPostCode="cv1 2gt"), now=NOW,
                             rules=batch_rules)
    assert first.code is ReturnCode.CREATED
    assert second == LearnerOutcome(ReturnCode.MATCHED, first.uln)
    assert len(uow.learners.rows) == len(before) + 1
    assert uow.learners.rows[first.uln].version_number == 1


class LockRecordingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.locks: list[str] = []

    def lock(self, key: str) -> None:
        self.locks.append(key)


def test_rc003_takes_the_same_lock_as_register_single_learner() -> None:
    uow = LockRecordingUnitOfWork()
    outcome = process_learner(uow, FUL, newcomer(GivenName=" olivia", LastKnownPostCode="cv12gt"), now=NOW,
                              rules=rules())
    assert outcome.code is ReturnCode.CREATED
    single = LockRecordingUnitOfWork()
    lock_registration(single, SearchKey("Olivia", "Brennan", date(2008, 6, 2), "2", "CV1 2GT"))
    assert uow.locks == single.locks and len(single.locks) == 1


def test_a_chunk_takes_beforehand_exactly_the_locks_its_learners_take() -> None:
    """read_ahead (a job's chunk) locks what process_learner would lock, learner by learner:
    FUL learners without a ULN and with all five key fields; not CHK, not with a ULN."""
    chunk = [
        newcomer(GivenName=" olivia", LastKnownPostCode="cv12gt"),
        newcomer(GivenName="Zed"),
        newcomer(LastKnownPostCode=""),  # not all five: never registered
        {**newcomer(GivenName="Ann"), "ULN": HARRY},
        newcomer(DateOfBirth="2008-02-30"),  # no such day: RC011
    ]
    one_by_one = LockRecordingUnitOfWork()
    for sent in chunk:
        process_learner(one_by_one, FUL, sent, now=NOW, rules=rules())
    ahead = LockRecordingUnitOfWork()
    assert read_ahead(ahead, FUL, chunk).locked == frozenset(one_by_one.locks)
    assert sorted(ahead.locks) == sorted(one_by_one.locks) and len(ahead.locks) == 2
    checking = LockRecordingUnitOfWork()
    assert read_ahead(checking, CHK, chunk).locked == frozenset() and checking.locks == []


# --------------------------------------------------------------------------- RC004


@pytest.mark.parametrize("given, family", [("Harold", "Patel"), ("Harry", "Patel")])  # retired's or master's
def test_rc004_retired_uln_sent_returns_its_master_and_updates_nothing(uow, given, family) -> None:
    before = snapshot(uow)
    sent = {"ULN": HARRY_OLD, "GivenName": given, "FamilyName": family, "EmailAddress": "harry@example.org"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.MASTER_RETURNED, HARRY)
    assert_unchanged(uow, before)


def test_rc004_exact_demographic_match_on_a_retired_record_returns_its_master(uow) -> None:
    before = snapshot(uow)
    sent = {"GivenName": "Harold", "FamilyName": "Patel", "DateOfBirth": "2003-08-21", "Gender": "1",
            "LastKnownPostCode": "B15 2TT", "EmailAddress": "harold@example.org"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.MASTER_RETURNED, HARRY)
    assert_unchanged(uow, before)


# --------------------------------------------------------------------------- RC005


def test_rc005_one_non_key_field_changed_is_updated(uow) -> None:
    outcome = run(uow, amelia(EmailAddress="amelia.hughes@example.org"))
    assert outcome == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert stored.email_address == "amelia.hughes@example.org"
    assert stored.version_number == 2
    assert stored.last_updated_date == TODAY
    assert (stored.given_name, stored.last_known_post_code, stored.notes) == ("Amelia", "B15 2TT", "keep me")


def test_rc005_exactly_one_key_field_changed_is_updated(uow) -> None:
    others = {uln: row.copy() for uln, row in uow.learners.rows.items() if uln != AMELIA}
    outcome = run(uow, amelia(LastKnownPostCode="m11ae", AbilityToShare="2"))
    assert outcome == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert (stored.last_known_post_code, stored.ability_to_share) == ("M1 1AE", "2")
    assert stored.version_number == 2
    assert {k: v for k, v in uow.learners.rows.items() if k != AMELIA} == others


def test_names_in_capitals_are_no_difference_and_change_nothing(uow) -> None:
    """MIS exports are often in capitals: neither a key field changed nor a reason to rewrite."""
    before = snapshot(uow)
    assert run(uow, amelia(GivenName="AMELIA", FamilyName="HUGHES")) == LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)
    assert_unchanged(uow, before)


def test_names_in_capitals_and_one_key_field_changed_is_rc005(uow) -> None:
    outcome = run(uow, amelia(GivenName="AMELIA", FamilyName="HUGHES", LastKnownPostCode="M1 1AE"))
    assert outcome == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert (stored.given_name, stored.family_name, stored.last_known_post_code) == ("Amelia", "Hughes", "M1 1AE")


def test_rc005_ability_to_share_may_go_from_0_to_1(uow) -> None:
    outcome = run(uow, {"ULN": GRACE, "GivenName": "Grace", "FamilyName": "O'Neil", "AbilityToShare": "1"})
    assert outcome == LearnerOutcome(ReturnCode.UPDATED, GRACE)
    assert uow.learners.rows[GRACE].ability_to_share == "1"
    assert uow.learners.rows[GRACE].version_number == 2


def test_rc005_a_close_family_name_updates_it_and_keeps_the_old_one_as_previous(uow) -> None:
    assert run(uow, amelia(FamilyName="Hughs")) == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert (stored.family_name, stored.previous_family_name, stored.version_number) == ("Hughs", "Hughes", 2)


def test_rc005_a_learner_past_110_stays_updatable_when_no_date_of_birth_is_sent(uow) -> None:
    uln = "1000000019"
    assert is_valid_uln(uln)
    uow.learners.add(learner(uln, "Edith", "Moss", date(1910, 2, 1), "2", "YO1 7HH"))
    sent = {"ULN": uln, "GivenName": "Edith", "FamilyName": "Moss", "LastKnownAddressTown": "York"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.UPDATED, uln)
    assert (uow.learners.rows[uln].last_known_address_town, uow.learners.rows[uln].version_number) == ("York", 2)
    assert run(uow, {**sent, "DateOfBirth": "1910-02-01"}) == LearnerOutcome(ReturnCode.AGE_OUT_OF_RANGE)


class RacedLearnerRepository(FakeLearnerRepository):
    """A single update commits between the batch's read and its write, `races` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    def update(self, learner: Learner, expected_version: int) -> bool:
        if self.races:
            self.races -= 1
            stored = self.rows[learner.uln]
            stored.notes = f"changed elsewhere {stored.version_number}"
            stored.version_number += 1
        return super().update(learner, expected_version)


def raced_uow(races: int) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.learners = RacedLearnerRepository(races)
    uow.learners.add(learner(AMELIA, "Amelia", "Hughes", date(2007, 3, 14), "2", "B15 2TT"))
    return uow


def test_rc005_an_update_raced_by_another_is_read_again_and_keeps_both_changes() -> None:
    uow = raced_uow(races=1)
    assert run(uow, amelia(EmailAddress="a@example.org")) == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert (stored.email_address, stored.notes, stored.version_number) == ("a@example.org", "changed elsewhere 1", 3)


def test_an_update_that_keeps_losing_the_race_fails_rather_than_overwrite() -> None:
    uow = raced_uow(races=99)
    with pytest.raises(RuntimeError):
        run(uow, amelia(EmailAddress="a@example.org"))
    assert uow.learners.rows[AMELIA].email_address is None


# --------------------------------------------------------------------------- RC006


@pytest.mark.parametrize(
    "missing",
    [
        ("DateOfBirth",),
        ("GivenName",),
        ("FamilyName",),
        ("Gender",),  # nothing matches and a key field is missing: nobody can be registered
        ("LastKnownPostCode",),
        ("Gender", "LastKnownPostCode"),
    ],
)
def test_rc006_too_little_to_search_or_register(uow, missing) -> None:
    before = snapshot(uow)
    sent = {k: v for k, v in newcomer().items() if k not in missing}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)
    assert_unchanged(uow, before)


@pytest.mark.parametrize("blank", ["", "   "])
def test_rc006_a_blank_key_field_is_a_missing_one(uow, blank) -> None:
    before = snapshot(uow)
    assert run(uow, newcomer(Gender=blank)) == LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)
    assert run(uow, newcomer(DateOfBirth=blank)) == LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)
    assert_unchanged(uow, before)


def test_a_possible_match_with_gender_missing_is_rc007_not_rc006(uow) -> None:
    before = snapshot(uow)
    sent = {"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "LastKnownPostCode": "B15 2TT"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)
    assert_unchanged(uow, before)


# --------------------------------------------------------------------------- RC007 / RC008


@pytest.mark.parametrize(
    "changes",
    [
        {"LastKnownPostCode": "CV1 2GT"},  # same names and date of birth, another postcode
        {"Gender": "9"},
        {"GivenName": "Amelya"},  # one typo
        {"GivenName": "Hughes", "FamilyName": "Amelia"},  # names swapped
        {"LastKnownPostCode": "B15 2TT", "EmailAddress": "someone@example.org", "Gender": "1"},
    ],
)
def test_rc007_possible_match_creates_nothing(uow, changes) -> None:
    before = snapshot(uow)
    sent = {"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "Gender": "2",
            "LastKnownPostCode": "B15 2TT", **changes}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)
    assert_unchanged(uow, before)


def test_rc007_day_and_month_swapped_creates_nothing(uow) -> None:
    before = snapshot(uow)
    sent = {"GivenName": "Grace", "FamilyName": "O'Neil", "DateOfBirth": "2004-09-05", "Gender": "2",
            "LastKnownPostCode": "M1 1AE"}
    assert run(uow, sent) == LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)
    assert_unchanged(uow, before)


def same_names_elsewhere(uow: FakeUnitOfWork, count: int) -> None:
    ulns = (f"{p}{d}" for p in map(str, range(100_000_000, 100_001_000)) if (d := check_digit(p)) is not None)
    for n in range(count):
        uln = next(ulns)
        assert is_valid_uln(uln) and uln not in uow.learners.rows
        uow.learners.add(learner(uln, "Noah", "Clarke", date(2006, 1, 30), "1", f"S{n + 1} 2AB"))


def test_rc008_more_possible_matches_than_the_limit(uow) -> None:
    same_names_elsewhere(uow, 4)
    before = snapshot(uow)
    sent = {"GivenName": "Noah", "FamilyName": "Clarke", "DateOfBirth": "2006-01-30", "Gender": "1",
            "LastKnownPostCode": "YO1 7HH"}
    assert run(uow, sent, limit=3) == LearnerOutcome(ReturnCode.TOO_MANY_MATCHES)
    assert run(uow, sent, limit=4) == LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)  # at the limit: listed
    assert run(uow, sent, job_type=CHK, limit=3) == LearnerOutcome(ReturnCode.TOO_MANY_MATCHES)
    assert_unchanged(uow, before)


# --------------------------------------------------------------------------- RC009 / RC010


@pytest.mark.parametrize("uln", [BAD_CHECK_DIGIT, NEVER_ISSUED, "9999999999", "12345", "0123456789"])
@pytest.mark.parametrize("job_type", [FUL, CHK])
def test_rc009_uln_fails_its_check_digit_or_was_never_issued(uow, uln, job_type) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(ULN=uln), job_type) == LearnerOutcome(ReturnCode.ULN_NOT_FOUND)
    assert_unchanged(uow, before)


@pytest.mark.parametrize(
    "sent",
    [
        amelia(GivenName="Zoe", FamilyName="Smith"),  # names disagree entirely
        amelia(GivenName="Zoe"),  # the family name alone is not enough
        {"ULN": AMELIA},  # no names at all
        amelia(DateOfBirth="2007-03-15", LastKnownPostCode="CV1 2GT"),  # two key fields differ
        amelia(Gender="1", LastKnownPostCode="CV1 2GT", EmailAddress="x@example.org"),
        amelia(GivenName="Amelya", DateOfBirth="2007-03-15"),  # a close name is a key field too
        amelia(GivenName="Hughes", FamilyName="Amelia"),  # swapped: agree, but both names differ
        {"ULN": HARRY_OLD, "GivenName": "Zoe", "FamilyName": "Smith"},  # retired: neither's names
    ],
)
@pytest.mark.parametrize("job_type", [FUL, CHK])
def test_rc010_uln_exists_but_names_disagree_or_two_key_fields_differ(uow, sent, job_type) -> None:
    before = snapshot(uow)
    assert run(uow, sent, job_type) == LearnerOutcome(ReturnCode.DETAILS_DISAGREE)
    assert_unchanged(uow, before)


# --------------------------------------------------------------------------- RC011


@pytest.mark.parametrize(
    "sent",
    [
        amelia(DateOfBirth="2007-02-30"),
        newcomer(DateOfBirth="2007-02-30"),
        newcomer(DateOfBirth="1900-02-29"),  # the MIAP pattern admits it; the calendar does not
        newcomer(DateOfAddressCapture="2025-02-29"),
        amelia(DateOfAddressCapture="2025-13-01"),
        amelia(ULN=BAD_CHECK_DIGIT, DateOfBirth="2007-02-30"),  # RC011 is checked before RC009
        {"DateOfBirth": "2007-02-30"},  # ... and before RC006
    ],
)
@pytest.mark.parametrize("job_type", [FUL, CHK])
def test_rc011_a_date_the_calendar_does_not_have(uow, sent, job_type) -> None:
    before = snapshot(uow)
    assert run(uow, sent, job_type) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


@pytest.mark.parametrize(
    "field, value",
    [("GivenName", "Test"), ("FamilyName", "Unknown"), ("MiddleOtherName", "not  known"), ("Title", "TBC"),
     ("PreferredGivenName", "dummy"), ("PreviousFamilyName", "xxx"), ("FamilyNameAtAge16", "Prisoner")],
)
def test_rc011_prohibited_word_in_a_name_on_register(uow, field, value) -> None:
    before = snapshot(uow)
    assert run(uow, newcomer(**{field: value})) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


def test_a_prohibited_word_only_inside_a_longer_word_is_allowed(uow) -> None:
    assert run(uow, newcomer(MiddleOtherName="Celeste")).code is ReturnCode.CREATED


@pytest.mark.parametrize("field, value", [("PreferredGivenName", "Anon"), ("MiddleOtherName", "XXX")])
def test_rc011_prohibited_word_in_a_name_on_update(uow, field, value) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(**{field: value})) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


def test_rc011_verification_type_999_without_description_on_register(uow) -> None:
    before = snapshot(uow)
    assert run(uow, newcomer(VerificationType="999")) == LearnerOutcome(ReturnCode.INVALID)
    assert run(uow, newcomer(VerificationType="999", OtherVerificationDescription=" ")) == LearnerOutcome(
        ReturnCode.INVALID)
    assert_unchanged(uow, before)
    described = run(uow, newcomer(VerificationType="999", OtherVerificationDescription="College ID card"))
    assert described.code is ReturnCode.CREATED
    assert uow.learners.rows[described.uln].verification_type == "999"


def test_rc011_verification_type_999_without_description_on_update(uow) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(VerificationType="999")) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


@pytest.mark.parametrize("field, value", [("Gender", "7"), ("AbilityToShare", "3"), ("VerificationType", "8")])
def test_rc011_a_value_outside_its_list_on_register(uow, field, value) -> None:
    before = snapshot(uow)
    assert run(uow, newcomer(**{field: value})) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


def test_rc011_ability_to_share_back_from_1_to_0_on_update(uow) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(AbilityToShare="0", EmailAddress="new@example.org")) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


# --------------------------------------------------------------------------- RC013


@pytest.mark.parametrize(
    "born, code",
    [
        ("2013-11-24", ReturnCode.AGE_OUT_OF_RANGE),  # 12, thirteen tomorrow
        ("2020-01-01", ReturnCode.AGE_OUT_OF_RANGE),
        ("2027-01-01", ReturnCode.AGE_OUT_OF_RANGE),  # not born yet
        ("1915-11-23", ReturnCode.AGE_OUT_OF_RANGE),  # 111 today
        ("1900-01-01", ReturnCode.AGE_OUT_OF_RANGE),
        ("2013-11-23", ReturnCode.CREATED),  # 13 today
        ("1915-11-24", ReturnCode.CREATED),  # 110, 111 tomorrow
    ],
)
def test_rc013_age_outside_13_to_110_on_the_day(uow, born, code) -> None:
    before = snapshot(uow)
    outcome = run(uow, newcomer(DateOfBirth=born))
    assert outcome.code is code
    if code is ReturnCode.AGE_OUT_OF_RANGE:
        assert outcome == LearnerOutcome(ReturnCode.AGE_OUT_OF_RANGE)
        assert_unchanged(uow, before)
    else:
        assert uow.learners.rows[outcome.uln].date_of_birth == date.fromisoformat(born)


@pytest.mark.parametrize(
    "sent",
    [
        amelia(DateOfBirth="2014-03-14", EmailAddress="x@example.org"),  # on update: too young
        amelia(DateOfBirth="1907-03-14"),  # too old
        amelia(ULN=BAD_CHECK_DIGIT, DateOfBirth="2020-01-01"),  # RC013 is checked before RC009
        {"GivenName": "Zoe", "DateOfBirth": "1900-01-01"},  # ... and before RC006
    ],
)
@pytest.mark.parametrize("job_type", [FUL, CHK])
def test_rc013_whatever_else_the_row_says(uow, sent, job_type) -> None:
    before = snapshot(uow)
    assert run(uow, sent, job_type) == LearnerOutcome(ReturnCode.AGE_OUT_OF_RANGE)
    assert_unchanged(uow, before)


def test_rc013_is_rc011_on_the_web_service() -> None:
    assert ReturnCode.AGE_OUT_OF_RANGE.for_web_service() is ReturnCode.INVALID
    for code in ReturnCode:
        if code is not ReturnCode.AGE_OUT_OF_RANGE:
            assert code.for_web_service() is code


# --------------------------------------------------------------------------- CHK jobs


def test_chk_rc012_instead_of_rc003_and_nothing_written(uow) -> None:
    before = snapshot(uow)
    assert run(uow, newcomer(), CHK) == LearnerOutcome(ReturnCode.NOT_FOUND)
    assert run(uow, newcomer(), CHK) == LearnerOutcome(ReturnCode.NOT_FOUND)  # a second row: still not found
    assert_unchanged(uow, before)


@pytest.mark.parametrize("changes", [{"EmailAddress": "new@example.org"}, {"LastKnownPostCode": "CV1 2GT"}])
def test_chk_rc001_instead_of_rc005_and_nothing_written(uow, changes) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(**changes), CHK) == LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)
    assert_unchanged(uow, before)


@pytest.mark.parametrize(
    "sent, expected",
    [
        (amelia(), LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)),
        ({"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "Gender": "2",
          "LastKnownPostCode": "B15 2TT"}, LearnerOutcome(ReturnCode.MATCHED, AMELIA)),
        ({"ULN": HARRY_OLD, "GivenName": "Harold", "FamilyName": "Patel"},
         LearnerOutcome(ReturnCode.MASTER_RETURNED, HARRY)),
        ({"GivenName": "Harold", "FamilyName": "Patel", "DateOfBirth": "2003-08-21", "Gender": "1",
          "LastKnownPostCode": "B15 2TT"}, LearnerOutcome(ReturnCode.MASTER_RETURNED, HARRY)),
        (amelia(ULN="", LastKnownPostCode="CV1 2GT"), LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)),
        (newcomer(Gender=""), LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)),
    ],
)
def test_chk_every_other_code_is_the_ful_code(uow, sent, expected) -> None:
    before = snapshot(uow)
    assert run(uow, sent, CHK) == expected
    assert run(uow, sent, FUL) == expected
    assert_unchanged(uow, before)


@pytest.mark.parametrize(
    "sent",
    [
        amelia(AbilityToShare="0"),  # FUL: RC011 (back to 0)
        amelia(PreferredGivenName="Anon"),  # FUL: RC011 (prohibited text)
        amelia(VerificationType="999"),  # FUL: RC011 (no description)
        newcomer(GivenName="Test"),  # FUL: RC011 (prohibited text on register)
        newcomer(VerificationType="999"),
    ],
)
def test_chk_a_row_that_is_rc011_in_a_ful_job_is_rc011_too(uow, sent) -> None:
    before = snapshot(uow)  # the FUL outcome (RC011) is asserted by the RC011 tests above
    assert run(uow, sent, CHK) == LearnerOutcome(ReturnCode.INVALID)
    assert_unchanged(uow, before)


# --------------------------------------------------------------------------- blank cells


def test_a_blank_cell_on_update_is_not_supplied_not_cleared(uow) -> None:
    outcome = run(uow, amelia(EmailAddress="", Notes="new note", Nationality="  "))
    assert outcome == LearnerOutcome(ReturnCode.UPDATED, AMELIA)
    stored = uow.learners.rows[AMELIA]
    assert (stored.email_address, stored.notes, stored.nationality) == ("amelia@example.org", "new note", None)
    assert stored.version_number == 2


def test_only_blank_cells_beside_the_uln_change_nothing(uow) -> None:
    before = snapshot(uow)
    sent = amelia(EmailAddress="", Notes=" ", Gender="", LastKnownPostCode="", DateOfBirth="", AbilityToShare="",
                  VerificationType="")
    assert run(uow, sent) == LearnerOutcome(ReturnCode.ULN_CONFIRMED, AMELIA)
    assert_unchanged(uow, before)


def test_a_blank_uln_is_no_uln(uow) -> None:
    before = snapshot(uow)
    assert run(uow, amelia(ULN="  ")) == LearnerOutcome(ReturnCode.MATCHED, AMELIA)
    assert_unchanged(uow, before)


def test_blank_optional_cells_on_register_are_left_out(uow) -> None:
    outcome = run(uow, newcomer(EmailAddress="", Title=" ", VerificationType="", AbilityToShare=""))
    assert outcome.code is ReturnCode.CREATED
    stored = uow.learners.rows[outcome.uln]
    assert (stored.email_address, stored.title) == (None, None)
    assert (stored.verification_type, stored.ability_to_share) == ("0", "0")


# --------------------------------------------------------------------------- counts


def test_every_return_code_falls_into_its_count() -> None:
    expected = {
        "RC001": Count.EXISTS_UPDATED, "RC002": Count.EXISTS_UPDATED, "RC003": Count.NEW,
        "RC004": Count.EXISTS_UPDATED, "RC005": Count.EXISTS_UPDATED, "RC006": Count.REJECTED,
        "RC007": Count.POSSIBLE_MATCH, "RC008": Count.REJECTED, "RC009": Count.NOT_FOUND,
        "RC010": Count.REJECTED, "RC011": Count.REJECTED, "RC012": Count.NOT_FOUND, "RC013": Count.REJECTED,
    }
    assert {code.value: code.count for code in ReturnCode} == expected
    assert {count.value for count in Count} == {
        "NewLearnersCount", "ExistsUpdatedLearnersCount", "PossibleMatchLearnersCount", "LearnersNotFoundCount",
        "RejectedLearnersCount"}
    assert {code.count for code in ReturnCode} == set(Count)


def test_only_rc001_to_rc005_identify_a_learner() -> None:
    identifying = {code.value for code in ReturnCode if code.identifies_learner}
    assert identifying == {"RC001", "RC002", "RC003", "RC004", "RC005"}
