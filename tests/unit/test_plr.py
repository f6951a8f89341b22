"""get_learning_events: every outcome, on the in-memory unit of work."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learner import Learner, LearnerStatus
from lrs_ws.domain.learning_event import EVENT_FIELDS, LearningEvent
from lrs_ws.domain.roles import Role
from lrs_ws.services.plr import BRIEF_FIELDS, OPERATION, PlrQuery, get_learning_events
from lrs_ws.services.ports import Caller

from .fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 10, 0, 0)
CALLER = Caller(1, "Demo College", 7, "online", frozenset({Role.LEARNER_RECORD}))
AMELIA, HARRY, HARRY_OLD, GRACE, NOSHARE0 = "9105106906", "2083498614", "5558175256", "6302822970", "7018082853"


def learner(uln: str, given: str, family: str, born: date, gender: str, share: str = "1", **extra) -> Learner:
    return Learner(uln=uln, given_name=given, family_name=family, date_of_birth=born, gender=gender,
                   last_known_post_code="B15 2TT", ability_to_share=share, created_date=date(2020, 1, 6),
                   last_updated_date=date(2020, 1, 6), **extra)


def event(id: int, uln: str, awarded: date | None, subject: str = "GCSE in Mathematics", **extra) -> LearningEvent:
    values = dict(id=id, uln=uln, source="NPD", achievement_award_date=awarded, subject=subject,
                  subject_code="50079116", qualification_type="GCSE", grade="7", level="Level 2",
                  awarding_organisation_name="AQA", achievement_provider_name="King Edward VI High School",
                  achievement_provider_ukprn="10003614", credits=0, collection_type="A", return_number="01",
                  date_loaded=datetime(2023, 9, 1, 9, 30), status="F", under_data_challenge="N",
                  participation_start_date=date(2021, 9, 1), participation_end_date=date(2023, 6, 30),
                  language_for_assessment="English")
    values.update(extra)
    return LearningEvent(**values)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.learners.add(learner(AMELIA, "Amelia", "Hughes", date(2007, 3, 14), "2", previous_family_name="Hewitt"))
    uow.learners.add(learner(HARRY, "Harry", "Patel", date(2003, 8, 21), "1"))
    uow.learners.add(learner(HARRY_OLD, "Harold", "Patel", date(2003, 8, 21), "1",
                             learner_status=LearnerStatus.RETIRED, master_uln=HARRY))
    uow.learners.add(learner(GRACE, "Grace", "O'Neil", date(2004, 5, 9), "2", share="2"))
    uow.learners.add(learner(NOSHARE0, "Jack", "Taylor", date(2005, 6, 1), "1", share="0"))
    uow.events.add_many([
        event(3, AMELIA, date(2025, 8, 14), "A level Chemistry"),
        event(1, AMELIA, date(2023, 8, 24), "GCSE in Mathematics"),
        event(2, AMELIA, date(2023, 8, 24), "GCSE in English Language"),
        event(4, AMELIA, date(2024, 1, 10), "Counselling", restriction="1"),
        event(10, HARRY, date(2022, 7, 1), "BTEC Level 3 Extended Diploma in Engineering", source="ILR"),
        event(11, HARRY_OLD, date(2019, 8, 22), "GCSE in Science", source="NPD"),
        event(12, GRACE, date(2020, 8, 20)),
        event(13, NOSHARE0, date(2021, 8, 12)),
    ])
    return uow


def read(uow: FakeUnitOfWork, uln: str, given: str, family: str, **extra) -> object:
    return get_learning_events(uow, CALLER, PlrQuery(uln=uln, given_name=given, family_name=family, **extra), NOW)


def test_exact_match_returns_the_shareable_events_oldest_first_without_sensitive_ones(uow) -> None:
    result = read(uow, AMELIA, "amelia ", "HUGHES", date_of_birth=date(2007, 3, 14), gender="2")
    assert result.code is ResponseCode.EXACT_MATCH
    assert (result.incoming_uln, result.found_uln) == (AMELIA, AMELIA)
    assert [e.id for e in result.events] == [1, 2, 3]  # 4 is sensitive
    assert all(e.restriction == "0" for e in result.events)
    assert result.events[0].achievement_provider_name == "King Edward VI High School"


def test_invalid_uln_is_wsec0136_without_found_uln(uow) -> None:
    result = read(uow, "9105106907", "Amelia", "Hughes")
    assert (result.code, result.found_uln, result.events) == (ResponseCode.INVALID_ULN, None, ())
    assert result.incoming_uln == "9105106907"


@pytest.mark.parametrize(
    "uln, given, family, extra",
    [
        ("1026893096", "Amelia", "Hughes", {}),  # valid but never issued
        (AMELIA, "Amelia", "Hughs", {}),  # one typo: a close match does not verify
        (AMELIA, "Hughes", "Amelia", {}),  # swapped names
        (AMELIA, "Amelia", "Hewitt", {}),  # previous family name
        (AMELIA, "Amelia", "Hughes", {"date_of_birth": date(2007, 3, 15)}),
        (AMELIA, "Amelia", "Hughes", {"gender": "1"}),
        (GRACE, "Grace", "ONeil", {}),  # not verified comes before not shared
    ],
)
def test_names_birth_date_or_gender_that_do_not_agree_are_wsec0208(uow, uln, given, family, extra) -> None:
    result = read(uow, uln, given, family, **extra)
    assert result.code is ResponseCode.LEARNER_NOT_VERIFIED
    assert result.found_uln is None and result.events == ()
    assert result.incoming_uln == uln


@pytest.mark.parametrize("uln", [GRACE, NOSHARE0])
def test_ability_to_share_0_or_2_is_wsec0206_with_found_uln_and_no_events(uow, uln) -> None:
    names = {GRACE: ("Grace", "O'Neil"), NOSHARE0: ("Jack", "Taylor")}[uln]
    result = read(uow, uln, *names)
    assert result.code is ResponseCode.NOT_SHARED
    assert result.found_uln == uln and result.events == ()


@pytest.mark.parametrize("given", ["Harry", "Harold"])  # the master's names or the retired record's
def test_retired_uln_gives_the_master_and_the_events_of_every_linked_uln(uow, given) -> None:
    result = read(uow, HARRY_OLD, given, "Patel", date_of_birth=date(2003, 8, 21))
    assert result.code is ResponseCode.MASTER_SUBSTITUTED
    assert (result.incoming_uln, result.found_uln) == (HARRY_OLD, HARRY)
    assert [(e.id, e.uln) for e in result.events] == [(11, HARRY_OLD), (10, HARRY)]


def test_the_master_uln_itself_also_returns_the_retired_ulns_events(uow) -> None:
    result = read(uow, HARRY, "Harry", "Patel")
    assert result.code is ResponseCode.EXACT_MATCH
    assert {e.id for e in result.events} == {10, 11}


def test_retired_uln_of_a_master_that_does_not_share_is_wsec0206(uow) -> None:
    uow.learners.rows[HARRY].ability_to_share = "2"
    result = read(uow, HARRY_OLD, "Harry", "Patel")
    assert (result.code, result.found_uln, result.events) == (ResponseCode.NOT_SHARED, HARRY, ())


def test_a_learner_with_no_events_is_an_exact_match_with_an_empty_record(uow) -> None:
    uow.learners.add(learner("1026893096", "Sam", "Taylor", date(2006, 1, 2), "9"))
    result = read(uow, "1026893096", "Sam", "Taylor")
    assert (result.code, result.events) == (ResponseCode.EXACT_MATCH, ())


def test_brief_keeps_only_the_essential_fields(uow) -> None:
    full = read(uow, AMELIA, "Amelia", "Hughes").events
    brief = read(uow, AMELIA, "Amelia", "Hughes", brief=True).events
    assert [e.id for e in brief] == [e.id for e in full]
    for short, long in zip(brief, full, strict=True):
        for name in EVENT_FIELDS:
            expected = getattr(long, name) if name in BRIEF_FIELDS else None
            assert getattr(short, name) == expected, name
    assert brief[0].achievement_provider_name is None and brief[0].subject == "GCSE in Mathematics"


def test_brief_makes_a_new_event_and_leaves_the_one_it_was_given_alone() -> None:
    from lrs_ws.services.plr import brief

    event = LearningEvent(
        uln=AMELIA, source="NPD", id=1, subject="GCSE in Mathematics", achievement_provider_name="King Edward VI High School"
    )
    short = brief(event)
    assert short.achievement_provider_name is None and short.subject == "GCSE in Mathematics"
    assert event.achievement_provider_name == "King Edward VI High School"


@pytest.mark.parametrize(
    "uln, names, code, audited",
    [
        (AMELIA, ("Amelia", "Hughes"), "WSRC0004", AMELIA),
        (HARRY_OLD, ("Harry", "Patel"), "WSRC0022", HARRY),
        (GRACE, ("Grace", "O'Neil"), "WSEC0206", GRACE),
        (AMELIA, ("Nobody", "Hughes"), "WSEC0208", AMELIA),
        ("9105106907", ("Amelia", "Hughes"), "WSEC0136", "9105106907"),
        ("12345", ("Amelia", "Hughes"), "WSEC0136", None),
    ],
)
def test_every_read_is_audited_and_committed(uow, uln, names, code, audited) -> None:
    result = read(uow, uln, *names)
    assert result.code.value == code
    assert uow.audit.rows == [
        dict(at=NOW, organisation_id=1, username="online", operation=OPERATION, uln=audited, outcome=code, address=None,
             deferred=False)  # a PLR read is audited in its own transaction, never later
    ]
    assert uow.commits == 1
