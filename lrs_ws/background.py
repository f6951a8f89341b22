"""A queue written in batches by a thread of the process, off the request path.

What finds log (lrs_ws.adapters.deferred_writes) and the sandbox's request journal
(lrs_ws.sandbox.journal) are written this way: a request only queues, and a thread writes what
has gathered every `delay` seconds (and at exit). The thread starts on first use, so a forked
worker has its own. What cannot be written yet stays queued for the next turn, up to
`max_pending`: beyond that the oldest are dropped and counted.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(
        self,
        write: Callable[[list[T]], None],
        delay: float,
        *,
        name: str,
        max_pending: int = 100_000,
        log: logging.Logger | None = None,
    ) -> None:
        self.write = write  # raises when the batch could not be written (it is then queued again)
        self.delay = delay
        self.name = name  # of the thread, and of what is queued in the log's lines
        self.log = log or logging.getLogger(__name__)
        self.pending: deque[T] = deque(maxlen=max_pending)
        self.dropped = 0  # queued items dropped since the last turn, the queue being full
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, item: T) -> None:
        with self._lock:
            if len(self.pending) == self.pending.maxlen:
                self.dropped += 1
            self.pending.append(item)
            self._start()

    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self.delay)
            self.flush()

    def flush(self) -> int:
        """Write everything queued now, in one batch; how many (0 on failure: they stay queued,
        first in line, and the log says so)."""
        with self._lock:
            items = list(self.pending)
            self.pending.clear()
            dropped, self.dropped = self.dropped, 0
        if dropped:
            self.log.warning("%d of the %s were dropped: the database was away too long", dropped, self.name)
        if not items:
            return 0
        try:
            self.write(items)
        except Exception as error:  # kept for the next turn; the requests were answered
            with self._lock:
                self.pending.extendleft(reversed(items))
            self.log.warning("could not write %d of the %s yet: %s", len(items), self.name, error)
            return 0
        return len(items)
