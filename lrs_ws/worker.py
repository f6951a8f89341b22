"""The batch worker: claims batch jobs and runs them until it is told to stop.

`lrs-ws worker` runs one; several may run at once (on PostgreSQL they share the work, each job
held by one of them at a time). `lrs-ws serve` runs one beside the service, supervised: a worker
that dies (a kill -9 included) is started again, and its job resumes where its last committed
chunk ended.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TypedDict

from lrs_ws.adapters.engines import sqlite_path
from lrs_ws.clock import SYSTEM_CLOCK
from lrs_ws.config import Settings
from lrs_ws.runtime import Runtime, ServedWorker
from lrs_ws.services import batch_workers
from lrs_ws.services.batch_learner import BatchRules
from lrs_ws.services.job_runner import JobRunner
from lrs_ws.services.ports import DatabaseUnavailable, UnitOfWork, WorkerReport, WorkerState
from lrs_ws.startup import READY_FD_ENV

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
    return pid.isdigit() and process_gone(host, int(pid))


PROGRESS_EVERY = 10_000  # learners between a big job's progress lines in the log


def _log_progress(job, done_now: int) -> None:
    if job.processed_count // PROGRESS_EVERY > (job.processed_count - done_now) // PROGRESS_EVERY:
        log.info("job %s: %s of %s learners done", job.id, f"{job.processed_count:,}", f"{job.learner_count:,}")


def job_runner(
    runtime: Runtime, name: str, should_stop: Callable[[], bool] = lambda: False, between_chunks: Callable[[], None] = lambda: None
) -> JobRunner:
    rules = BatchRules(runtime.prohibited_words, runtime.settings.possible_match_limit, runtime.rng)

    def on_progress(job, done_now: int) -> None:
        _log_progress(job, done_now)
        between_chunks()

    return JobRunner(
        runtime.unit_of_work, rules, name, chunk=runtime.settings.batch_chunk,
        should_stop=should_stop, is_dead=dead_on_this_host, on_progress=on_progress,
        **(_ONE_WRITER_AT_A_TIME if sqlite_path(runtime.settings.database_url) else _Pacing()),
    )


def run(runtime: Runtime, *, stop: threading.Event, until_idle: bool = False, board: StatusBoard | None = None) -> int:
    """Claim and run jobs until `stop` is set (or, `until_idle`, until none waits); the number
    of jobs run. An outage pauses the worker; it carries on when the database is back. With a
    `board`, the worker reports itself running there (lrs_ws.services.batch_workers)."""
    name = board.name if board is not None else worker_name()
    heartbeat = board.heartbeat if board is not None else lambda: None
    runner = job_runner(runtime, name, lambda: stop.is_set() or orphaned(), heartbeat)
    retention = runtime.batch_retention
    ran = 0
    next_purge = 0.0
    if board is not None:
        board.say(WorkerState.RUNNING)
    while not stop.is_set() and not orphaned():
        heartbeat()
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
    if board is not None:
        board.withdraw()
    return ran


_TRANSIENT_SQLSTATES = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure


def _transient(outage: DatabaseUnavailable) -> bool:
    """Two workers' transactions that PostgreSQL rolled one of back: not an outage."""
    cause = outage.__cause__
    return getattr(getattr(cause, "orig", None), "sqlstate", None) in _TRANSIENT_SQLSTATES


def on_signals(action: Callable[[], None]) -> None:
    """Run `action` when SIGTERM or SIGINT comes, in a thread of its own. Never in the handler:
    a handler runs between two bytecodes of the main thread, which may be holding the very lock
    the action takes (an Event's, while it waits on it) and would then wait for ever. The
    handler only writes a byte to a pipe."""
    wake_read, wake_write = os.pipe()

    def watch() -> None:
        while os.read(wake_read, 1):
            action()

    threading.Thread(target=watch, name="signal watcher", daemon=True).start()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: os.write(wake_write, b"\0"))


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT end the worker after its current chunk of learners."""
    on_signals(stop.set)


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
    if settings.sandbox:
        arguments.append("--sandbox")  # the sandbox's clock: job times and retention by it
    return arguments


SUPERVISOR_ENV = "LRS_WS_SUPERVISOR_PID"  # set for a supervised process: whose child it is
WORKER_NAME_ENV = "LRS_WS_WORKER_NAME"  # the name serve gives its supervisor (its report's key)
# A supervised worker that never got ready this many times running is `failed` (it keeps being
# started again, less and less often).
FAILED_AFTER_STARTS = 3
MAX_RESTART_PAUSE_SECONDS = 60.0


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


def _spawn(arguments: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    """`lrs-ws ARGUMENTS` in a child that dies with this process.

    Isolated (`-I`): the child imports the installed lrs_ws whatever the current directory or
    PYTHONPATH hold (`-m` alone puts the current directory first, and a checkout's `lrs_ws/`
    there has no `adapters/` inside).
    """
    return subprocess.Popen(
        [sys.executable, "-I", "-m", "lrs_ws", *arguments],
        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env, SUPERVISOR_ENV: str(os.getpid())},
        pass_fds=pass_fds,
    )


def process_gone(host: str, pid: int) -> bool:
    """A process of this host that no longer runs; processes of other hosts are never known gone."""
    if host != socket.gethostname()[:40]:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """Ended, not yet reaped by its parent: gone, though `kill -0` still finds it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def report_gone(worker: WorkerReport) -> bool:
    return process_gone(worker.host, worker.pid)


def served_worker_state(uow: UnitOfWork, served: ServedWorker | None) -> WorkerState:
    """The state of the batch worker `serve` runs (/health): what its supervisor last reported,
    judged; `failed` when the supervisor is gone before reporting anything."""
    if served is None:
        return WorkerState.OFF
    found = batch_workers.state_of(uow, served.name, SYSTEM_CLOCK.now(), report_gone)
    if found is not None:
        return found.state
    pid = served.supervisor_pid()
    return WorkerState.FAILED if pid <= 0 or process_gone(socket.gethostname()[:40], pid) else WorkerState.STARTING


class StatusBoard:
    """Where a worker or supervisor says how it is: its report in the database
    (lrs_ws.services.batch_workers), on every change and every heartbeat. A database that
    cannot be reached loses the report, said once in the log, never the worker."""

    def __init__(self, unit_of_work: Callable[..., UnitOfWork], name: str, *, supervised: bool) -> None:
        self.unit_of_work = unit_of_work
        self.name = name
        self.supervised = supervised
        self.started_at = SYSTEM_CLOCK.now()  # process reports tell the host's real time
        self.state = WorkerState.STARTING
        self.detail = ""
        self.next_heartbeat = 0.0
        self.failing = False

    def say(self, state: WorkerState, detail: str = "") -> None:
        self.state, self.detail = state, detail
        self._write()

    def heartbeat(self) -> None:
        if time.monotonic() >= self.next_heartbeat:
            self._write()

    def _write(self) -> None:
        self.next_heartbeat = time.monotonic() + batch_workers.HEARTBEAT.total_seconds()
        report = WorkerReport(
            name=self.name, host=socket.gethostname()[:40], pid=os.getpid(), supervised=self.supervised,
            state=self.state, detail=self.detail, started_at=self.started_at, seen_at=SYSTEM_CLOCK.now(),
        )
        try:
            batch_workers.report(self.unit_of_work(), report)
        except Exception as error:  # an outage: tried again every second until it is written
            if not self.failing:
                log.warning("could not report the batch worker's state (%s): %s", self.state.value, error)
            self.failing = True
            self.next_heartbeat = time.monotonic() + 1.0
        else:
            self.failing = False

    def withdraw(self) -> None:
        try:
            batch_workers.withdraw(self.unit_of_work(), self.name)
        except Exception as error:
            log.warning("could not withdraw the batch worker's report: %s", error)


def _ending(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class _Started:
    """A worker just started, and what it said on its ready pipe."""

    def __init__(self, arguments: list[str], env: dict[str, str]) -> None:
        read_end, write_end = os.pipe()
        try:
            self.process = _spawn(arguments, {**env, READY_FD_ENV: str(write_end)}, pass_fds=(write_end,))
        finally:
            os.close(write_end)
        self.pipe: int | None = read_end
        self.said = b""
        self.started = time.monotonic()

    def listen(self, seconds: float) -> None:
        """Wait up to `seconds` for a word on the pipe or the process's end."""
        if self.pipe is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(seconds)
            return
        readable, _, _ = select.select([self.pipe], [], [], seconds)
        if readable:
            chunk = os.read(self.pipe, 4096)
            self.said += chunk
            if not chunk:  # the worker closed its end (said its word, or ended)
                os.close(self.pipe)
                self.pipe = None

    @property
    def ready(self) -> bool:
        return self.said.startswith(b"ready")

    @property
    def error(self) -> str | None:
        line = self.said.decode("utf-8", "replace").strip()
        return line[len("error "):] if line.startswith("error ") else None

    def close(self) -> None:
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None


def supervise(arguments: list[str], board: StatusBoard, database_url: str) -> None:
    """Run `lrs-ws worker ARGUMENTS` on `database_url` and start it again whenever it ends (a
    kill -9 included), until SIGTERM or SIGINT, which it passes on. One that keeps failing at
    once (the database down, say) is restarted less and less often. Each change is said in the
    log (an ERROR line when the worker ended) and on `board`."""
    env = {"LRS_WS_DATABASE_URL": database_url}  # by environment: a command line is anyone's to read
    stopping = threading.Event()
    worker: _Started | None = None

    def stop() -> None:
        stopping.set()
        if worker is not None and worker.process.poll() is None:
            worker.process.terminate()

    on_signals(stop)
    board.say(WorkerState.STARTING)
    pause = RESTART_PAUSE_SECONDS
    failed_starts = 0
    while not stopping.is_set() and not orphaned():
        worker = _Started(arguments, env)
        announced = False
        while worker.process.poll() is None:
            worker.listen(1.0)
            if worker.ready and not announced:
                announced = True
                failed_starts = 0
                board.say(WorkerState.RUNNING)
            board.heartbeat()
            if orphaned():
                worker.process.terminate()
        worker.listen(0)  # what it said just before it ended
        worker.close()
        if stopping.is_set():
            break
        ran = time.monotonic() - worker.started
        pause = RESTART_PAUSE_SECONDS if ran > 60 else min(pause * 2, MAX_RESTART_PAUSE_SECONDS)
        if not worker.ready:
            failed_starts += 1
        what = "ended" if worker.ready else "could not start"
        reason = worker.error or _ending(worker.process.returncode)
        log.error("the batch worker (pid %s) %s: %s; another starts in %.0f s", worker.process.pid, what, reason, pause)
        state = WorkerState.FAILED if failed_starts >= FAILED_AFTER_STARTS else WorkerState.RESTARTING
        board.say(state, f"the batch worker {what} ({reason}); another starts in {pause:.0f} s")
        _wait(stopping, pause, board)
    if worker is not None and worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(15)
        except subprocess.TimeoutExpired:
            worker.process.kill()
    board.withdraw()


def _wait(stopping: threading.Event, seconds: float, board: StatusBoard) -> None:
    deadline = time.monotonic() + seconds
    while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
        stopping.wait(min(left, batch_workers.HEARTBEAT.total_seconds()))
        board.heartbeat()


class ServedBatchWorker:
    """The batch worker `serve` runs beside its web workers: a supervisor process (`lrs-ws worker
    --supervise`, which keeps a worker going), itself started again by serve's main loop
    (`check`, about once a second) should it end. gunicorn's arbiter, which forks the web
    workers, must stay a process of one thread: hence a process, not a thread, and no waiting."""

    def __init__(self, arguments: list[str], database_url: str) -> None:
        self.arguments = [*arguments, "--supervise"]
        self.database_url = database_url  # by environment: a command line is anyone's to read
        self.name = worker_name()
        # Memory the web workers share once forked: they ask which process is the supervisor now.
        self.supervisor_pid = multiprocessing.RawValue("i", 0)
        self.served = ServedWorker(self.name, lambda: self.supervisor_pid.value)
        self.process: subprocess.Popen | None = None
        self.restart_at: float | None = None
        self.pause = RESTART_PAUSE_SECONDS

    def start(self) -> None:
        self.process = _spawn(self.arguments, {"LRS_WS_DATABASE_URL": self.database_url, WORKER_NAME_ENV: self.name})
        self.supervisor_pid.value = self.process.pid
        self.started = time.monotonic()

    def check(self) -> None:
        """Start the supervisor again if it ended (its exit status read before anyone reaps it)."""
        if self.process is None:
            return
        if self.restart_at is None:
            code = self.process.poll()
            if code is None:
                return
            if time.monotonic() - self.started > 60:
                self.pause = RESTART_PAUSE_SECONDS
            log.error(
                "the batch worker's supervisor (pid %s) ended (%s); it starts again in %.0f s",
                self.process.pid, _ending(code), self.pause,
            )
            self.restart_at = time.monotonic() + self.pause
            self.pause = min(self.pause * 2, MAX_RESTART_PAUSE_SECONDS)
        elif time.monotonic() >= self.restart_at:
            self.restart_at = None
            self.start()

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
