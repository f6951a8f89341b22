"""What finds log, written a moment later in batches, off the request.

A find changes nothing, yet writing its audit row (and, for a FUL demographic search, its row in
the search log that find-before-register reads) made it a write transaction: on SQLite a turn at
the single writer and a commit, on PostgreSQL more round trips and a WAL flush. Finds hand their
rows to the process's DeferredWrites instead, and a thread of its own writes what has gathered
every `delay` seconds in one transaction. Reads of the Personal Learning Record, every change and
every refusal keep writing their rows in the request's own transaction (docs/our-readings.md,
"Audit"); a register that finds no search yet waits for one that may be on its way
(lrs_ws.services.register).

What this gives up: rows of the last `delay` seconds of finds are lost if the process is killed
outright (a graceful stop writes them first). Rows that cannot be written (the database is away)
are kept and tried again, up to `max_pending`; beyond that the oldest are dropped and counted in
the log.
"""
from __future__ import annotations

import logging
from itertools import groupby

from sqlalchemy import Insert, insert
from sqlalchemy.engine import Engine

from lrs_ws.adapters.orm import audit_events, recent_searches
from lrs_ws.background import BatchWriter

log = logging.getLogger(__name__)
AUDIT_INSERT = insert(audit_events)  # one row, or many (executemany)
SEARCH_INSERT = insert(recent_searches)


class DeferredWrites:
    def __init__(self, engine: Engine, delay: float, max_pending: int = 100_000) -> None:
        self.engine = engine
        self.writer: BatchWriter[tuple[Insert, dict]] = BatchWriter(
            self._write, delay, name="rows logged by finds", max_pending=max_pending, log=log
        )
        self.pending = self.writer.pending

    @property
    def dropped(self) -> int:
        return self.writer.dropped

    def add(self, statement: Insert, row: dict) -> None:
        self.writer.add((statement, row))

    def flush(self) -> int:
        """Write every pending row now, in one transaction (rows of one table together, each
        table's in the order given); the number written (0 on failure: the rows stay pending)."""
        return self.writer.flush()

    def _write(self, rows: list[tuple[Insert, dict]]) -> None:
        with self.engine.begin() as connection:
            for statement, group in groupby(sorted(rows, key=lambda item: id(item[0])), key=lambda item: item[0]):
                connection.execute(statement, [row for _, row in group])
