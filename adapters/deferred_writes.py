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

import atexit
import logging
import os
import threading
import time
from collections import deque
from itertools import groupby

from sqlalchemy import Insert, insert
from sqlalchemy.engine import Engine

from lrs_ws.adapters.orm import audit_events, recent_searches

log = logging.getLogger(__name__)
AUDIT_INSERT = insert(audit_events)  # one row, or many (executemany)
SEARCH_INSERT = insert(recent_searches)


class DeferredWrites:
    def __init__(self, engine: Engine, delay: float, max_pending: int = 100_000) -> None:
        self.engine = engine
        self.delay = delay
        self.pending: deque[tuple[Insert, dict]] = deque(maxlen=max_pending)
        self.dropped = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, statement: Insert, row: dict) -> None:
        with self._lock:
            if len(self.pending) == self.pending.maxlen:
                self.dropped += 1
            self.pending.append((statement, row))
            self._start()

    def _start(self) -> None:
        """The writer thread of this process (started on first use: a forked worker has its own)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="lrs-ws deferred writes", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self.delay)
            self.flush()

    def flush(self) -> int:
        """Write every pending row now, in one transaction (rows of one table together, each
        table's in the order given); the number written (0 on failure: the rows stay pending)."""
        with self._lock:
            rows = list(self.pending)
            self.pending.clear()
            dropped, self.dropped = self.dropped, 0
        if dropped:
            log.warning("%d rows logged by finds were dropped: the database was away too long", dropped)
        if not rows:
            return 0
        try:
            with self.engine.begin() as connection:
                for statement, group in groupby(sorted(rows, key=lambda item: id(item[0])), key=lambda item: item[0]):
                    connection.execute(statement, [row for _, row in group])
        except Exception as error:  # kept for the next turn; the requests were answered
            with self._lock:
                self.pending.extendleft(reversed(rows))
            log.warning("could not write %d rows logged by finds yet: %s", len(rows), error)
            return 0
        return len(rows)
