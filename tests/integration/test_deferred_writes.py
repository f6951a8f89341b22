"""What finds log (audit rows, the FUL search log), written a moment later in batches
(adapters/deferred_writes.py), on a real database: they arrive, a failed write keeps them, a unit
of work's own rows stay in its transaction."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, create_engine, select

from lrs_ws.adapters.deferred_writes import DeferredWrites
from lrs_ws.adapters.orm import audit_events
from lrs_ws.adapters.unit_of_work import SqlUnitOfWork

NOW = datetime(2026, 11, 25, 10, 0, 0)


def rows(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(audit_events.c.operation, audit_events.c.outcome).order_by(audit_events.c.id))]


def record(uow, operation: str, *, deferred: bool) -> None:
    uow.audit.record(at=NOW, organisation_id=1, username="online", operation=operation, uln="9105106906",
                     outcome="WSRC0004", deferred=deferred)


def test_a_find_row_arrives_within_the_delay_and_a_change_row_with_its_transaction(
    engine: Engine, connections: Callable[[], Connection]
) -> None:
    deferred = DeferredWrites(engine, delay=0.05)
    with SqlUnitOfWork(connections, None, deferred) as uow:
        record(uow, "learnerByULN", deferred=True)
        record(uow, "updateSingleLearner", deferred=False)
        # nothing is committed: the change's row goes with the rollback, the find's does not wait for it
    deadline = time.monotonic() + 5
    while rows(engine) != [("learnerByULN", "WSRC0004")] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows(engine) == [("learnerByULN", "WSRC0004")]


def test_many_finds_are_written_in_one_transaction_in_order(engine: Engine, connections: Callable[[], Connection]) -> None:
    deferred = DeferredWrites(engine, delay=3600)  # no turn of the thread during the test: flush by hand
    for n in range(250):
        with SqlUnitOfWork(connections, None, deferred) as uow:
            record(uow, f"find {n}", deferred=True)
    assert rows(engine) == []
    assert deferred.flush() == 250
    assert [operation for operation, _ in rows(engine)] == [f"find {n}" for n in range(250)]


def test_rows_that_cannot_be_written_are_kept_and_written_later(engine: Engine, connections: Callable[[], Connection]) -> None:
    broken = DeferredWrites(create_engine("sqlite://"), delay=3600)  # a database without the table: writes fail
    with SqlUnitOfWork(connections, None, broken) as uow:
        record(uow, "learnerByULN", deferred=True)
    assert broken.flush() == 0 and len(broken.pending) == 1  # kept
    broken.engine = engine  # the database is back
    assert broken.flush() == 1 and not broken.pending
    assert rows(engine) == [("learnerByULN", "WSRC0004")]


def test_beyond_its_bound_the_oldest_rows_are_dropped_and_counted(engine: Engine, connections: Callable[[], Connection]) -> None:
    deferred = DeferredWrites(engine, delay=3600, max_pending=3)
    for n in range(5):
        with SqlUnitOfWork(connections, None, deferred) as uow:
            record(uow, f"find {n}", deferred=True)
    assert deferred.dropped == 2
    assert deferred.flush() == 3
    assert [operation for operation, _ in rows(engine)] == ["find 2", "find 3", "find 4"]


def test_search_rows_and_audit_rows_are_written_together(engine: Engine, connections: Callable[[], Connection]) -> None:
    deferred = DeferredWrites(engine, delay=3600)
    with SqlUnitOfWork(connections, None, deferred) as uow:
        uow.searches.record(1, "key", "WSRC0001", NOW, deferred=True)
        record(uow, "learnerByDemographics", deferred=True)
        uow.searches.record(1, "key", "WSRC0003", NOW, deferred=True)
    with SqlUnitOfWork(connections, None, deferred) as uow:
        assert uow.searches.recent(1, "key", NOW) == []  # not yet
    assert deferred.flush() == 3
    with SqlUnitOfWork(connections, None, deferred) as uow:
        assert sorted(uow.searches.recent(1, "key", NOW)) == ["WSRC0001", "WSRC0003"]
    assert rows(engine) == [("learnerByDemographics", "WSRC0004")]
