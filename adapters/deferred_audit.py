"""The audit rows of finds, written a moment later in batches, off the request.

A find changes nothing, yet writing its audit row made it a write transaction: on SQLite a turn
at the single writer and a commit, on PostgreSQL two more round trips. Finds hand their rows to
the process's DeferredAudit instead, and a thread of its own writes what has gathered every
`delay` seconds in one transaction. Reads of the Personal Learning Record and every change keep
writing their rows in the request's own transaction (docs/our-readings.md, "Audit").

What this gives up: rows of the last `delay` seconds of finds are lost if the process is killed
outright (a graceful stop writes them first). Rows that cannot be written (the database is away)
are kept and tried again, up to `max_pending`; beyond that the oldest are dropped and counted in
the log.
"""
from __future__ import annotations

import atexit
import logging
import threading
from collections import deque

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from lrs_ws.adapters.orm import audit_events

log = logging.getLogger(__name__)
AUDIT_INSERT = insert(audit_events)  # one audit row, or many (executemany)


class DeferredAudit:
    def __init__(self, engine: Engine, delay: float, max_pending: int = 100_000) -> None:
        self.engine = engine
        self.delay = delay
        self.pending: deque[dict] = deque(maxlen=max_pending)
        self.dropped = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, row: dict) -> None:
        with self._lock:
            if len(self.pending) == self.pending.maxlen:
                self.dropped += 1
            self.pending.append(row)
            self._start()

    def _start(self) -> None:
        """The writer thread of this process (started on first use: a forked worker has its own)."""
        import os

        if self._thread is not None and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="lrs-ws deferred audit", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.delay)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Write every pending row now, in one transaction; the number written (0 on failure:
        the rows stay pending)."""
        with self._lock:
            rows = list(self.pending)
            self.pending.clear()
            dropped, self.dropped = self.dropped, 0
        if dropped:
            log.warning("%d audit rows of finds were dropped: the database was away too long", dropped)
        if not rows:
            return 0
        try:
            with self.engine.begin() as connection:
                connection.execute(AUDIT_INSERT, rows)
        except Exception as error:  # kept for the next turn; the requests were answered
            with self._lock:
                self.pending.extendleft(reversed(rows))
            log.warning("could not write %d audit rows of finds yet: %s", len(rows), error)
            return 0
        return len(rows)
