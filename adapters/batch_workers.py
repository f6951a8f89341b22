"""SQLAlchemy implementation of the batch worker reports (lrs_ws.services.batch_workers)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from lrs_ws.adapters.mapping import RowByName, from_naive_utc, to_naive_utc
from lrs_ws.adapters.orm import batch_workers
from lrs_ws.services.ports import WorkerReport, WorkerState


def _row(worker: WorkerReport) -> dict[str, Any]:
    return {
        "name": worker.name,
        "host": worker.host[:64],
        "pid": worker.pid,
        "supervised": worker.supervised,
        "state": worker.state.value,
        "detail": worker.detail[:255],
        "started_at": to_naive_utc(worker.started_at),
        "seen_at": to_naive_utc(worker.seen_at),
    }


def _report(row: RowByName) -> WorkerReport:
    return WorkerReport(
        name=row["name"], host=row["host"], pid=row["pid"], supervised=bool(row["supervised"]),
        state=WorkerState(row["state"]), detail=row["detail"],
        started_at=from_naive_utc(row["started_at"]),
        seen_at=from_naive_utc(row["seen_at"]),
    )


class SqlBatchWorkerLog:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def save(self, worker: WorkerReport) -> None:
        row = _row(worker)
        # Each worker writes only its own row: no other writer races this update-or-insert.
        changed = self.connection.execute(update(batch_workers).where(batch_workers.c.name == worker.name).values(**row))
        if changed.rowcount == 0:
            self.connection.execute(insert(batch_workers).values(**row))

    def get(self, name: str) -> WorkerReport | None:
        row = self.connection.execute(select(batch_workers).where(batch_workers.c.name == name)).mappings().first()
        return None if row is None else _report(row)

    def all(self) -> list[WorkerReport]:
        query = select(batch_workers).order_by(batch_workers.c.started_at, batch_workers.c.name)
        return [_report(row) for row in self.connection.execute(query).mappings()]

    def remove(self, name: str) -> None:
        self.connection.execute(delete(batch_workers).where(batch_workers.c.name == name))

    def forget_older(self, seen_before: datetime) -> None:
        self.connection.execute(delete(batch_workers).where(batch_workers.c.seen_at < to_naive_utc(seen_before)))
