"""SqlLearningEventRepository and the PLR use case on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from lrs_ws.adapters.orm import audit_events
from lrs_ws.adapters.unit_of_work import SqlUnitOfWork
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learner import LearnerStatus
from lrs_ws.domain.learning_event import EVENT_FIELDS, TEXT_LENGTHS, LearningEvent
from lrs_ws.domain.roles import Role
from lrs_ws.services.plr import PlrQuery, get_learning_events
from lrs_ws.services.ports import Caller

from .persistence_builders import simple_learner, valid_ulns

NOW = datetime(2026, 11, 23, 10, 0, 0)


def full_event(uln: str, **overrides) -> LearningEvent:
    """Every field set, text at its longest."""
    values = {name: "x" * length for name, length in TEXT_LENGTHS.items()}
    values.update(
        uln=uln, id=None, source="AO", restriction="0", credits=2**31 - 1,
        achievement_award_date=date(2024, 8, 22), participation_start_date=date(2022, 9, 5),
        participation_end_date=date(2024, 6, 28), date_loaded=datetime(2024, 10, 1, 16, 47, 4),
    )
    values.update(overrides)
    return LearningEvent(**values)


def test_every_field_round_trips(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    event = full_event(uln, id=2931)
    with SqlUnitOfWork(connections) as uow:
        assert uow.events.add_many([event]) == [2931]
        uow.commit()
    with SqlUnitOfWork(connections) as uow:
        (stored,) = uow.events.for_learners([uln])
    assert stored == event
    assert set(EVENT_FIELDS) <= set(vars(stored))


def test_ids_are_assigned_above_stored_and_given_ones(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    with SqlUnitOfWork(connections) as uow:
        assert uow.events.next_ids(2) == [1, 2]
        uow.events.add_many([LearningEvent(uln=uln, source="ILR", id=40)])
        batch = [LearningEvent(uln=uln, source="ILR"), LearningEvent(uln=uln, source="NPD", id=90), LearningEvent(uln=uln, source="ILR")]
        assert uow.events.add_many(batch) == [91, 90, 92]
        assert [e.id for e in batch] == [91, 90, 92]
        assert uow.events.next_ids(3) == [93, 94, 95]
        assert uow.events.existing_ids([40, 41, 90, 92]) == {40, 90, 92}
        uow.commit()


def test_a_duplicate_id_fails_the_transaction(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    with SqlUnitOfWork(connections) as uow:
        uow.events.add_many([LearningEvent(uln=uln, source="ILR", id=1)])
        uow.commit()
    with pytest.raises(IntegrityError), SqlUnitOfWork(connections) as uow:
        uow.events.add_many([LearningEvent(uln=uln, source="ILR", id=1)])
        uow.commit()


def test_for_learners_orders_by_date_then_id_with_undated_last(connections: Callable[[], Connection]) -> None:
    a, b, other = valid_ulns(3)
    with SqlUnitOfWork(connections) as uow:
        uow.events.add_many([
            LearningEvent(uln=a, source="NPD", id=5, achievement_award_date=date(2023, 8, 24)),
            LearningEvent(uln=b, source="ILR", id=3, participation_start_date=date(2020, 9, 1)),
            LearningEvent(uln=a, source="NPD", id=4, achievement_award_date=date(2023, 8, 24)),
            LearningEvent(uln=a, source="AO", id=1),
            LearningEvent(uln=other, source="ILR", id=2, achievement_award_date=date(2019, 1, 1)),
            LearningEvent(uln=a, source="AO", id=6, restriction="1", achievement_award_date=date(2024, 1, 1)),
        ])
        uow.commit()
    with SqlUnitOfWork(connections) as uow:
        assert [e.id for e in uow.events.for_learners([a, b])] == [3, 4, 5, 6, 1]  # sensitive ones too
        assert uow.events.for_learners([]) == []


def test_many_ulns_are_read_in_chunks(connections: Callable[[], Connection]) -> None:
    ulns = valid_ulns(1200)
    with SqlUnitOfWork(connections) as uow:
        uow.events.add_many(LearningEvent(uln=uln, source="ILR") for uln in ulns)
        uow.commit()
    with SqlUnitOfWork(connections) as uow:
        assert len(uow.events.for_learners(ulns)) == 1200
        assert uow.learners.known_ulns(ulns[:3]) == set()


def test_known_ulns_include_retired_ones(connections: Callable[[], Connection]) -> None:
    master, retired, unknown = valid_ulns(3)
    with SqlUnitOfWork(connections) as uow:
        uow.learners.add(simple_learner(master, date(2003, 8, 21)))
        uow.learners.add(simple_learner(retired, date(2003, 8, 21), learner_status=LearnerStatus.RETIRED, master_uln=master))
        assert uow.learners.known_ulns([master, retired, unknown, master]) == {master, retired}


def test_the_plr_use_case_reads_master_and_retired_events_and_audits_in_one_commit(
    engine: Engine, connections: Callable[[], Connection]
) -> None:
    master, retired = valid_ulns(2)
    with SqlUnitOfWork(connections) as uow:
        uow.learners.add(simple_learner(master, date(2003, 8, 21), ability_to_share="1"))
        uow.learners.add(simple_learner(retired, date(2003, 8, 21), learner_status=LearnerStatus.RETIRED, master_uln=master))
        uow.events.add_many([
            LearningEvent(uln=master, source="ILR", achievement_award_date=date(2021, 8, 12)),
            LearningEvent(uln=retired, source="NPD", achievement_award_date=date(2019, 8, 22)),
            LearningEvent(uln=retired, source="NPD", achievement_award_date=date(2019, 8, 22), restriction="1"),
        ])
        uow.commit()
    caller = Caller(1, "College", 2, "online", frozenset({Role.LEARNER_RECORD}))
    with SqlUnitOfWork(connections) as uow:
        result = get_learning_events(uow, caller, PlrQuery(retired, "Sam", "Taylor", date(2003, 8, 21), "1"), NOW)
    assert result.code is ResponseCode.MASTER_SUBSTITUTED and result.found_uln == master
    assert [(e.uln, e.source) for e in result.events] == [(retired, "NPD"), (master, "ILR")]
    with engine.connect() as connection:
        rows = connection.execute(
            select(audit_events.c.operation, audit_events.c.uln, audit_events.c.outcome, audit_events.c.username)
        ).all()
    assert [tuple(r) for r in rows] == [("GetLearnerLearningEvents", master, "WSRC0022", "online")]


def test_with_learner_reads_the_learner_and_its_own_events_together(connections: Callable[[], Connection]) -> None:
    """As get() and for_learners([uln]): a learner with ULNs linked to it (their events are not
    its own), one without events, an unknown ULN."""
    master, first, second, alone = valid_ulns(4)
    with SqlUnitOfWork(connections) as uow:
        for uln in (master, first, second, alone):
            uow.learners.add(simple_learner(uln, date(2005, 5, 6)))
        uow.learners.merge(master, first, date(2025, 1, 2))
        uow.learners.merge(master, second, date(2025, 1, 3))
        uow.events.add_many([
            full_event(master, achievement_award_date=date(2023, 1, 1)), full_event(master, restriction="1"),
            full_event(master, achievement_award_date=None), full_event(first),
        ])
        uow.commit()
    with SqlUnitOfWork(connections) as uow:
        for uln in (master, first, alone):
            learner, events = uow.events.with_learner(uln)
            assert learner == uow.learners.get(uln)
            assert events == uow.events.for_learners([uln])
        assert len(uow.events.with_learner(master)[1]) == 3
        assert uow.events.with_learner(master)[0].linked_ulns == sorted([first, second])
        assert uow.events.with_learner("9999999999") == (None, [])
