"""What batch workers report of themselves, on a real database (SQLite and PostgreSQL), and how a
reader judges it (lrs_ws.services.batch_workers)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from lrs_ws.bootstrap import unit_of_work_factory
from lrs_ws.services import batch_workers
from lrs_ws.services.ports import WorkerReport, WorkerState

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _report(name: str, state: WorkerState = WorkerState.RUNNING, *, seen: datetime = NOW, pid: int = 4242) -> WorkerReport:
    return WorkerReport(name, "host-a", pid, True, state, "" if state is WorkerState.RUNNING else "why", NOW - timedelta(hours=1), seen)


def never_gone(_worker: WorkerReport) -> bool:
    return False


def test_reports_are_saved_replaced_judged_and_withdrawn(engine: Engine) -> None:
    factory = unit_of_work_factory(engine)
    batch_workers.report(factory(), _report("a", WorkerState.STARTING))
    batch_workers.report(factory(), _report("a"))  # the same worker again: replaced, not added
    batch_workers.report(factory(), _report("b", WorkerState.RESTARTING, seen=NOW - timedelta(seconds=5)))
    with factory() as uow:
        workers = batch_workers.every_worker(uow, NOW, never_gone)
        assert [(w.name, w.state, w.detail) for w in workers] == [("a", WorkerState.RUNNING, ""), ("b", WorkerState.RESTARTING, "why")]
        assert workers[0].seen_at == NOW and workers[0].started_at == NOW - timedelta(hours=1)
        # silent for longer than three heartbeats: failed, whatever it said
        later = NOW + batch_workers.STALE_AFTER + timedelta(seconds=1)
        judged = batch_workers.state_of(uow, "a", later, never_gone)
        assert judged.state is WorkerState.FAILED and "not heard from for 31 s" in judged.detail
        # its process gone (as seen on its own host): failed at once
        gone = batch_workers.state_of(uow, "a", NOW, lambda worker: worker.pid == 4242)
        assert gone.state is WorkerState.FAILED and "is gone" in gone.detail
        assert batch_workers.state_of(uow, "nobody", NOW, never_gone) is None
    batch_workers.withdraw(factory(), "a")
    with factory() as uow:
        assert [w.name for w in batch_workers.every_worker(uow, NOW, never_gone)] == ["b"]


def test_reports_of_workers_gone_long_ago_are_forgotten(engine: Engine) -> None:
    factory = unit_of_work_factory(engine)
    batch_workers.report(factory(), _report("old", seen=NOW - batch_workers.FORGET_AFTER - timedelta(minutes=1)))
    batch_workers.report(factory(), _report("new"))
    with factory() as uow:
        assert [w.name for w in batch_workers.every_worker(uow, NOW, never_gone)] == ["new"]
