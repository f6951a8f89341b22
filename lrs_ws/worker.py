"""The batch worker: claims batch jobs and runs them until it is told to stop.

`lrs-ws worker` runs one; several may run at once (on PostgreSQL they share the work, each job
held by one of them at a time). `lrs-ws serve` runs one beside the service, supervised: a worker
that dies (a kill -9 included) is started again, and its job resumes where its last committed
chunk ended.
"""
from __future__ import annotations

import functools
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TypedDict

from lrs_ws.adapters.unit_of_work import sqlite_path
from lrs_ws.config import Settings
from lrs_ws.runtime import Runtime
from lrs_ws.services.batch import BatchRules, JobRunner
from lrs_ws.services.ports import DatabaseUnavailable

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how soon a job submitted to an idle worker starts
OUTAGE_PAUSE_SECONDS = 5.0  # between attempts while the database is down
PURGE_EVERY_SECONDS = 600.0  # how often jobs past their retention are deleted
RESTART_PAUSE_SECONDS = 1.0  # before a supervised worker that died is started again
# SQLite: chunks of at most 0.1 s, then 2 ms for the next writer in line to take its turn
# (adapters/unit_of_work.py): a request never waits more than about one chunk for a job.
class _Pacing(TypedDict, total=False):
    chunk_seconds: float | None
    pause_between_chunks: float


_ONE_WRITER_AT_A_TIME = _Pacing(chunk_seconds=0.1, pause_between_chunks=0.002)


def worker_name() -> str:
    """Unique among the workers on one database: host, process and a random token (containers
    may share a host name and process numbers)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def dead_on_this_host(name: str) -> bool:
    """A worker of this host whose process is gone (killed, say): its job need not wait for the
    lease. Workers of other hosts are never presumed dead; their leases run out."""
    host, pid, _token = (name.rsplit(":", 2) + ["", ""])[:3]
    if host != socket.gethostname()[:40] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


PROGRESS_EVERY = 10_000  # learners between a big job's progress lines in the log


def _log_progress(job, done_now: int) -> None:
    if job.processed_count // PROGRESS_EVERY > (job.processed_count - done_now) // PROGRESS_EVERY:
        log.info("job %s: %s of %s learners done", job.id, f"{job.processed_count:,}", f"{job.learner_count:,}")


def job_runner(runtime: Runtime, name: str, should_stop: Callable[[], bool] = lambda: False) -> JobRunner:
    rules = BatchRules(runtime.prohibited_words, runtime.settings.possible_match_limit, runtime.rng)
    return JobRunner(
        runtime.unit_of_work, rules, runtime.clock, name, chunk=runtime.settings.batch_chunk,
        should_stop=should_stop, is_dead=dead_on_this_host, on_progress=_log_progress,
        **(_ONE_WRITER_AT_A_TIME if sqlite_path(runtime.settings.database_url) else _Pacing()),
    )


def run(runtime: Runtime, *, stop: threading.Event, until_idle: bool = False) -> int:
    """Claim and run jobs until `stop` is set (or, `until_idle`, until none waits); the number
    of jobs run. An outage pauses the worker; it carries on when the database is back."""
    runner = job_runner(runtime, worker_name(), lambda: stop.is_set() or orphaned())
    retention = runtime.batch_retention
    ran = 0
    next_purge = 0.0
    while not stop.is_set() and not orphaned():
        try:
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS  # a failing purge must not starve the jobs
                purged = runner.purge(retention)
                if purged:
                    log.info("deleted %s batch jobs older than %s days", purged, retention.days)
            job = runner.run_next()
        except DatabaseUnavailable as outage:
            if _transient(outage):  # a deadlock or serialisation failure: try again at once
                log.info("batch worker retries after: %s", outage)
                continue
            log.warning("batch worker paused: %s", outage)
            stop.wait(OUTAGE_PAUSE_SECONDS)
            continue
        if job is not None:
            ran += 1
        elif until_idle:
            break
        else:
            stop.wait(POLL_SECONDS)
    return ran


_TRANSIENT_SQLSTATES = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure


def _transient(outage: DatabaseUnavailable) -> bool:
    """Two workers' transactions that PostgreSQL rolled one of back: not an outage."""
    cause = outage.__cause__
    return getattr(getattr(cause, "orig", None), "sqlstate", None) in _TRANSIENT_SQLSTATES


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT end the worker after its current chunk of learners."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())


def worker_arguments(settings: Settings, log_level: str) -> list[str]:
    """`lrs-ws worker` with the settings a worker uses, for the one `serve` supervises (the
    database URL goes in its environment: a command line is anyone's to read)."""
    arguments = [
        "worker",
        "--possible-match-limit", str(settings.possible_match_limit),
        "--batch-retention-days", str(settings.batch_retention_days),
        "--batch-chunk", str(settings.batch_chunk),
        "--log-level", log_level,
    ]
    if settings.prohibited_words is not None:
        arguments += ["--prohibited-words", ",".join(settings.prohibited_words)]
    return arguments


SUPERVISOR_ENV = "LRS_WS_SUPERVISOR_PID"  # set for the worker `serve` runs: whose child it is


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the worker gets SIGTERM if `serve` itself dies (a kill -9 gives it no chance)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() != parent:  # serve died before prctl took effect
        os._exit(1)


def orphaned() -> bool:
    """A worker that `serve` started, whose `serve` is gone: it must not run on alone."""
    parent = os.environ.get(SUPERVISOR_ENV)
    return parent is not None and str(os.getppid()) != parent


def _spawn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen:
    """`python -m lrs_ws ARGUMENTS`, a child that dies with this process."""
    return subprocess.Popen(
        [sys.executable, "-m", "lrs_ws", *arguments],
        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env, SUPERVISOR_ENV: str(os.getpid())},
    )


def start_supervised(arguments: list[str], database_url: str) -> subprocess.Popen:
    """What `serve` starts beside its server: `lrs-ws worker --supervise`, a process that keeps
    one worker running (gunicorn's arbiter, which forks, must stay a process of one thread). The
    database URL goes by environment: a command line is anyone's to read."""
    return _spawn([*arguments, "--supervise"], {"LRS_WS_DATABASE_URL": database_url})


def stop_supervised(supervisor: subprocess.Popen, timeout: float = 15.0) -> None:
    if supervisor.poll() is not None:
        return
    supervisor.terminate()
    try:
        supervisor.wait(timeout)
    except subprocess.TimeoutExpired:
        supervisor.kill()


def supervise(arguments: list[str]) -> None:
    """Run `lrs-ws worker ARGUMENTS` and start it again whenever it ends (a kill -9 included),
    until SIGTERM or SIGINT, which it passes on. One that keeps failing at once (the database
    down, say) is restarted less and less often."""
    stopping = threading.Event()
    worker: subprocess.Popen | None = None

    def stop(*_: object) -> None:
        stopping.set()
        if worker is not None and worker.poll() is None:
            worker.terminate()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
    pause = RESTART_PAUSE_SECONDS
    while not stopping.is_set() and not orphaned():
        started = time.monotonic()
        worker = _spawn(arguments, {})
        code = worker.wait()
        if stopping.is_set():
            break
        pause = RESTART_PAUSE_SECONDS if time.monotonic() - started > 60 else min(pause * 2, 60.0)
        log.warning("batch worker (pid %s) ended (exit status %s); another in %.0f s", worker.pid, code, pause)
        stopping.wait(pause)
    if worker is not None and worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
