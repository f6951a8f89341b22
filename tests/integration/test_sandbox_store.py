"""Sandbox mode's state on a real database (SQLite and PostgreSQL): the baseline and reset, planted
learners and organisations, planted faults firing exactly as often as asked, the clock, the
journal and its bound."""
from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from lrs_ws.adapters.orm import audit_events, batch_jobs, learners, organisations, sandbox_requests
from lrs_ws.adapters.sandbox import SandboxClock, SandboxState
from lrs_ws.bootstrap import unit_of_work_factory
from lrs_ws.clock import UK
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS
from lrs_ws.services import sandbox
from lrs_ws.services.ports import JournalEntry, JournalFilter, PlantedFault, PlantedFaultKind
from lrs_ws.services.seed import seed_demo
from tests.conftest import DEMO, SettableClock

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UK)
DEMO_USERS = DEMO["users"]


@pytest.fixture
def real() -> SettableClock:
    return SettableClock(NOW)


@pytest.fixture
def factory(engine: Engine, real: SettableClock):
    clock = SandboxClock(SandboxState(engine.connect, settle=0), real)  # settle 0: every read is fresh
    factory = unit_of_work_factory(engine, clock=clock)
    with factory() as uow:
        seed_demo(uow, DEMO)
    return factory


def count(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def entry(operation: str = "learnerByULN", outcome: str = "WSRC0004", ukprn: str = "10000001") -> JournalEntry:
    return JournalEntry(None, NOW, "/LearnerService.svc", operation, None, ukprn, "online", outcome, 200, 1.5, "<req/>", "<resp/>")


def test_reset_puts_the_register_back_as_at_the_baseline(factory, engine: Engine) -> None:
    with factory() as uow:
        marked = sandbox.mark_baseline(uow, NOW)
    demo_learners = count(engine, learners)
    assert marked >= demo_learners + 1
    with factory() as uow:
        org = sandbox.new_organisation(uow, "Suite A", DEMO_USERS, random.Random(1))
        planted = sandbox.plant_learners(uow, [{"GivenName": "Ada", "FamilyName": "Quill", "DateOfBirth": "2005-05-05",
                                                "Gender": "2", "LastKnownPostCode": "LS1 4AP"}],
                                         prohibited_words=DEFAULT_PROHIBITED_WORDS, rng=random.Random(2))
        uow.sandbox.record_requests([entry()], keep=100)
        uow.sandbox.add_fault(PlantedFault(None, "*", None, PlantedFaultKind.FAULT, code="WSEC0999"))
        uow.commit()
    with factory() as uow:
        sandbox.set_clock(uow, datetime(2030, 1, 1, 9, 0), frozen=True, real=SettableClock(NOW))
    with factory() as uow:
        assert uow.clock.now() == datetime(2030, 1, 1, 9, 0, tzinfo=UK)
        assert uow.learners.get(planted[0]) is not None and uow.organisations.by_ukprn(org.ukprn) is not None
    with factory() as uow:
        restored = sandbox.reset(uow, SettableClock(NOW))
    assert restored == marked
    assert count(engine, learners) == demo_learners and count(engine, sandbox_requests) == 0
    with factory() as uow:
        assert uow.learners.get(planted[0]) is None and uow.organisations.by_ukprn(org.ukprn) is None
        assert uow.sandbox.faults() == [] and uow.clock.now() == NOW  # the host's time again
        assert uow.learners.get("9105106906").given_name == "Amelia"  # the baseline's rows, dates intact
        assert uow.learners.get("9105106906").date_of_birth == date(2007, 3, 14)


def test_a_reset_waits_for_a_transaction_in_flight(factory, engine: Engine) -> None:
    with factory() as uow:
        sandbox.mark_baseline(uow, NOW)
    writer = factory()
    writer.__enter__()
    writer.learners.merge("2083498614", "9105106906", NOW.date())  # holds its locks, uncommitted
    done = threading.Event()

    def resetting() -> None:
        with factory() as uow:
            sandbox.reset(uow, SettableClock(NOW))
        done.set()

    thread = threading.Thread(target=resetting)
    thread.start()
    assert not done.wait(0.5), "the reset ran beside an uncommitted write"
    writer.commit()
    writer.__exit__(None, None, None)
    thread.join(timeout=30)
    assert done.is_set()
    with factory() as uow:  # the write finished before the reset, and the reset undid it
        assert uow.learners.get("9105106906").master_uln is None


def test_new_organisations_are_each_their_own(factory) -> None:
    with factory() as uow:
        first = sandbox.new_organisation(uow, None, DEMO_USERS, random.Random(3))
        second = sandbox.new_organisation(uow, "B", DEMO_USERS, random.Random(3))  # same draws: still distinct
    assert first.ukprn != second.ukprn and first.organisation_ref != second.organisation_ref
    assert len(first.ukprn) == 8 and first.ukprn.isdigit() and len(first.password) == 16
    assert [name for name, _ in first.users] == [user["username"] for user in DEMO_USERS]


def test_planted_learners_follow_the_register_rules_all_or_nothing(factory, engine: Engine) -> None:
    good = {"GivenName": "Ada", "FamilyName": "Quill", "DateOfBirth": "2005-05-05", "Gender": "2", "LastKnownPostCode": "ls14ap"}
    before = count(engine, learners)
    cases = [
        ([good, {**good, "DateOfBirth": "2022-01-01"}], "learners[1].DateOfBirth"),
        ([{**good, "GivenName": "Test"}], "learners[0].GivenName"),
        ([{**good, "ULN": "9105106906"}], "learners[0].ULN"),  # already issued
        ([{**good, "ULN": "9105106907"}], "learners[0].ULN"),  # bad check digit
        ([{**good, "linked_to": "1026893096"}], "learners[0].linked_to"),
        ([{**good, "Colour": "blue"}], "learners[0].Colour"),
        ([{**good, "events": [{"Grade": "A*", "Subject": "Maths"}, {"Credits": "lots"}]}], "learners[0].events[1].Credits"),
    ]
    for learners_sent, field in cases:
        with factory() as uow, pytest.raises(sandbox.SandboxRefused) as refused:
            sandbox.plant_learners(uow, learners_sent, prohibited_words=DEFAULT_PROHIBITED_WORDS, rng=random.Random(4))
        assert refused.value.field == field, refused.value
    assert count(engine, learners) == before
    with factory() as uow:
        ulns = sandbox.plant_learners(
            uow,
            [{**good, "ULN": "1026893096", "events": [{"Subject": "Maths", "Grade": "A"}]},
             {**good, "GivenName": "Bea", "linked_to": "1026893096"}],
            prohibited_words=DEFAULT_PROHIBITED_WORDS, rng=random.Random(4),
        )
    with factory() as uow:
        ada, bea = uow.learners.get(ulns[0]), uow.learners.get(ulns[1])
        assert ulns[0] == "1026893096" and ada.last_known_post_code == "LS1 4AP" and ada.created_date == NOW.date()
        assert bea.is_retired and bea.master_uln == "1026893096"
        assert [event.subject for event in uow.events.for_learners([ulns[0]])] == ["Maths"]


def test_a_fault_for_n_times_fires_exactly_n_times_across_threads(factory) -> None:
    with factory() as uow:
        fault_id = sandbox.plant_fault(uow, PlantedFault(None, "learnerByULN", None, PlantedFaultKind.FAULT, times=5))
    fired: list[int] = []
    lock = threading.Lock()

    def calls() -> None:
        for _ in range(10):
            with factory() as uow:
                fault = sandbox.fault_for(uow, "learnerByULN", "10000001", random.Random())
            if fault is not None:
                with lock:
                    fired.append(fault.id)

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fired == [fault_id] * 5
    with factory() as uow:
        assert uow.sandbox.faults() == []  # spent


def test_faults_match_operation_and_organisation_and_are_checked(factory) -> None:
    with factory() as uow:
        other_org = sandbox.plant_fault(uow, PlantedFault(None, "*", "10000002", PlantedFaultKind.HTTP, status=503, times=None))
        sandbox.plant_fault(uow, PlantedFault(None, "registerSingleLearner", None, PlantedFaultKind.DROP, times=None))
        for bad, field in (
            (PlantedFault(None, "*", None, PlantedFaultKind.DELAY), "seconds"),
            (PlantedFault(None, "*", None, PlantedFaultKind.FAULT, code="RC001"), "code"),
            (PlantedFault(None, "*", None, PlantedFaultKind.HTTP, status=200), "status"),
            (PlantedFault(None, "*", None, PlantedFaultKind.FAULT, times=0), "times"),
            (PlantedFault(None, "*", None, PlantedFaultKind.FAULT, probability=1.5), "probability"),
        ):
            with pytest.raises(sandbox.SandboxRefused) as refused:
                sandbox.plant_fault(uow, bad)
            assert refused.value.field == field
    with factory() as uow:
        assert sandbox.fault_for(uow, "learnerByULN", "10000001", random.Random()) is None
        assert sandbox.fault_for(uow, "learnerByULN", "10000002", random.Random()).id == other_org
        assert sandbox.fault_for(uow, "registerSingleLearner", "10000001", random.Random()).kind is PlantedFaultKind.DROP
        assert len(uow.sandbox.faults()) == 2  # unlimited ones stay


def test_the_clock_runs_on_from_the_time_set_or_stands_still(factory, real: SettableClock) -> None:
    with factory() as uow:
        sandbox.set_clock(uow, datetime(2031, 6, 1, 12, 0, tzinfo=UTC), frozen=False, real=real)
    real.at += timedelta(minutes=10)
    with factory() as uow:
        assert uow.clock.now() == datetime(2031, 6, 1, 12, 10, tzinfo=UTC)
    with factory() as uow:
        sandbox.set_clock(uow, datetime(2031, 6, 1, 12, 0), frozen=True, real=real)
    real.at += timedelta(hours=5)
    with factory() as uow:
        assert uow.clock.now() == datetime(2031, 6, 1, 12, 0, tzinfo=UK)
        sandbox.clear_clock(uow)
    with factory() as uow:
        assert uow.clock.now() == real.at


def test_the_journal_filters_newest_first_and_keeps_its_bound(factory, engine: Engine) -> None:
    with factory() as uow:
        uow.sandbox.record_requests([entry(), entry("learnerByDemographics", "WSRC0001"), entry(ukprn="10000002")], keep=100)
        uow.commit()
    with factory() as uow:
        assert [e.operation for e in sandbox.journal(uow, JournalFilter())] == ["learnerByULN", "learnerByDemographics", "learnerByULN"]
        assert [e.outcome for e in sandbox.journal(uow, JournalFilter(outcome="WSRC0001"))] == ["WSRC0001"]
        newest = sandbox.journal(uow, JournalFilter(ukprn="10000002"))
        assert len(newest) == 1 and sandbox.journal_entry(uow, newest[0].id) == newest[0]
        assert sandbox.journal(uow, JournalFilter(since_id=newest[0].id)) == []
        uow.sandbox.record_requests([entry() for _ in range(10)], keep=4)
        uow.commit()
    assert count(engine, sandbox_requests) == 4
    with factory() as uow:
        sandbox.forget_journal(uow, SettableClock(NOW))
    assert count(engine, sandbox_requests) == 0
    assert count(engine, audit_events) >= 0 and count(engine, batch_jobs) == 0 and count(engine, organisations) == 1
