"""How the batch workers are: what `/health` and `lrs-ws batch status` say about them.

Every batch worker started by hand (`lrs-ws worker`), and every supervisor that keeps one going
for `lrs-ws serve`, reports itself in the database: when its state changes and every
`HEARTBEAT`, and it removes its report when it stops cleanly. A reader judges a report by its
age and, on the same host, by whether its process is still there: a worker that died without a
word (kill -9, a crashed host) is `failed`, whatever it said last.

Reports carry the real time of the host, never a sandbox's clock: they are about processes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from lrs_ws.services.ports import UnitOfWork, WorkerReport, WorkerState

HEARTBEAT = timedelta(seconds=10)
# A report older than this is from a worker that is gone (three heartbeats missed).
STALE_AFTER = 3 * HEARTBEAT
# Reports of workers gone this long are deleted when another worker reports.
FORGET_AFTER = timedelta(days=7)


def report(uow: UnitOfWork, worker: WorkerReport) -> None:
    """Record what a worker says of itself (one transaction); forget long-gone workers."""
    with uow:
        uow.batch_workers.save(worker)
        uow.batch_workers.forget_older(worker.seen_at - FORGET_AFTER)
        uow.commit()


def withdraw(uow: UnitOfWork, name: str) -> None:
    """A worker that stops cleanly takes its report away."""
    with uow:
        uow.batch_workers.remove(name)
        uow.commit()


def judged(worker: WorkerReport, now: datetime, gone: Callable[[WorkerReport], bool]) -> WorkerReport:
    """The report as a reader should take it: `failed` when its process is `gone` (known on
    its own host only) or it has not been heard from for STALE_AFTER."""
    if gone(worker):
        return replace(worker, state=WorkerState.FAILED, detail=f"its process ({worker.pid} on {worker.host}) is gone")
    silent = now - worker.seen_at
    if silent > STALE_AFTER:
        return replace(worker, state=WorkerState.FAILED, detail=f"not heard from for {int(silent.total_seconds())} s")
    return worker


def state_of(
    uow: UnitOfWork, name: str, now: datetime, gone: Callable[[WorkerReport], bool]
) -> WorkerReport | None:
    """The judged report of one worker (None: it has not reported yet)."""
    found = uow.batch_workers.get(name)
    return None if found is None else judged(found, now, gone)


def every_worker(uow: UnitOfWork, now: datetime, gone: Callable[[WorkerReport], bool]) -> list[WorkerReport]:
    """Every reported worker, judged, in the order they started."""
    return [judged(worker, now, gone) for worker in uow.batch_workers.all()]
