"""The composition root: wires settings, the SQLAlchemy adapters and the web application.

Who may touch the schema: `lrs-ws db upgrade`, and `lrs-ws serve` once before any worker starts
(:func:`prepare_database`). Admin commands open an existing, current database only
(:func:`open_database`). Workers never migrate and never connect while they boot
(:func:`build_app`): a worker that starts while the database is down serves faults until the
database is back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from lrs_ws.adapters import migrate
from lrs_ws.adapters.deferred_writes import DeferredWrites
from lrs_ws.adapters.engines import connection_factory, make_engine, redacted, sqlite_path
from lrs_ws.adapters.sandbox import SandboxClock, SandboxState
from lrs_ws.adapters.sqlite_file import SqliteFileGuard, file_identity
from lrs_ws.adapters.unit_of_work import SqlUnitOfWork
from lrs_ws.clock import SYSTEM_CLOCK, Clock
from lrs_ws.config import Settings
from lrs_ws.runtime import Runtime, ServedWorker

if TYPE_CHECKING:
    from lrs_ws.web.hooks import SoapHooks
    from lrs_ws.web.mounts import MountTable

# No statement of a request should take this long; one that does (a lock held elsewhere, a
# server that stalls) ends with WSEC0999 instead of holding a request thread.
REQUEST_STATEMENT_TIMEOUT_S = 10.0


class DatabaseNotReady(Exception):
    """The database cannot be used as it is; the message (one line) says what to do."""


def _checked(database_url: str) -> str | None:
    """The SQLite file of a usable URL (None for a server database); DatabaseNotReady for a URL
    that cannot be parsed or names an in-memory database, which workers could not share."""
    try:
        path = sqlite_path(database_url)
        in_memory = path is None and database_url.startswith("sqlite")
    except Exception as error:  # not a URL SQLAlchemy can read
        raise DatabaseNotReady(f"{redacted(database_url)} is not a database URL ({error})") from None
    if in_memory:
        raise DatabaseNotReady("an in-memory SQLite database cannot be shared by the workers: name a file (sqlite:///lrs-ws.sqlite3)")
    return path


def _engine(database_url: str, *, create: bool) -> Engine:
    try:
        return make_engine(database_url, create=create)
    except Exception as error:  # a missing driver, a bad option
        raise DatabaseNotReady(f"cannot use database {redacted(database_url)}: {error}") from None


def _state(engine: Engine, database_url: str) -> migrate.SchemaState:
    """Where the database stands, or DatabaseNotReady for one lrs-ws must not touch."""
    try:
        state = migrate.schema_state(engine)
    except Exception as error:  # unreachable server, unreadable file
        engine.dispose()
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DatabaseNotReady(f"cannot open database {redacted(database_url)}: {reason}") from None
    shown = redacted(database_url)
    if state.revision is None and state.other_tables:
        engine.dispose()
        raise DatabaseNotReady(
            f"{shown} holds tables ({', '.join(state.other_tables[:5])}) but no lrs-ws schema: "
            "give lrs-ws an empty database of its own"
        )
    if state.revision is not None and state.revision not in migrate.known_revisions():
        engine.dispose()
        raise DatabaseNotReady(f"{shown} has schema revision {state.revision}, unknown to this lrs-ws (a newer release?)")
    return state


@dataclass(frozen=True)
class Prepared:
    engine: Engine
    said: str  # what happened, one sentence
    created: bool  # the schema was created now: a new database


def prepare_database(database_url: str) -> Prepared:
    """Create or upgrade the lrs-ws schema, and say what happened.

    A new SQLite file is created; a database holding other tables and no lrs-ws schema, or a
    schema newer than this lrs-ws knows, is refused (DatabaseNotReady).
    """
    shown = redacted(database_url)
    path = _checked(database_url)
    new_file = path is not None and not os.path.exists(path)
    engine = _engine(database_url, create=True)
    state = _state(engine, database_url)
    if state.current:
        return Prepared(engine, f"{shown} is at the latest schema revision {state.head}; nothing changed.", False)
    migrate.upgrade(engine)
    if state.revision is None:
        where = f"a new database file {path}" if new_file else shown
        return Prepared(engine, f"Created the lrs-ws schema (revision {state.head}) in {where}.", True)
    return Prepared(engine, f"Upgraded {shown} from schema revision {state.revision} to {state.head}.", False)


def prepare_for_serving(database_url: str, *, demo: bool, sandbox: bool = False) -> tuple[list[str], tuple[int, int] | None]:
    """What `lrs-ws serve` does once, before any worker starts: the schema, then the demo data
    into a database it has just created (never into one that was there: the demo organisation's
    password is published), then, in sandbox mode, the baseline a reset puts back (the register
    as it is now). Returns what it did (sentences to print) and, for SQLite, which file the
    workers must keep serving (:func:`database_file_identity`)."""
    from lrs_ws.services import sandbox as sandbox_mode
    from lrs_ws.services.seed import SeedRefused, seed_demo

    prepared = prepare_database(database_url)
    said = [prepared.said]
    try:
        if demo and prepared.created:
            with unit_of_work_factory(prepared.engine)() as uow:
                summary = seed_demo(uow)
            if summary.created:
                said.append(f"Loaded the demo data: organisation {summary.organisation}, {summary.learners} learners.")
        if sandbox:
            with unit_of_work_factory(prepared.engine)() as uow:
                rows = sandbox_mode.mark_baseline(uow, uow.clock.now())
            said.append(f"Sandbox mode: the baseline a reset puts back is the register as it is now ({rows:,} rows).")
    except SeedRefused as refused:
        raise DatabaseNotReady(str(refused)) from None
    finally:
        prepared.engine.dispose()  # workers open their own connections after the fork
    return said, database_file_identity(database_url)


def open_database(database_url: str) -> Engine:
    """An engine on an existing lrs-ws database at the latest schema revision (admin commands);
    never creates a file or a table."""
    shown = redacted(database_url)
    path = _checked(database_url)
    if path is not None and not os.path.exists(path):
        raise DatabaseNotReady(f"there is no database file {path}: create it with `lrs-ws db upgrade --database-url {shown}`")
    engine = _engine(database_url, create=False)
    state = _state(engine, database_url)
    if not state.current:
        engine.dispose()
        found = "no lrs-ws schema" if state.revision is None else f"schema revision {state.revision}, not {state.head}"
        raise DatabaseNotReady(f"{shown} has {found}: run `lrs-ws db upgrade --database-url {shown}` first")
    return engine


def database_file_identity(database_url: str) -> tuple[int, int] | None:
    """Which file a SQLite URL names now (device, inode); None for other databases."""
    path = sqlite_path(database_url)
    return None if path is None else file_identity(path)


def unit_of_work_factory(
    engine: Engine,
    guard: SqliteFileGuard | None = None,
    *,
    find_log_delay: float = 0,
    clock: Clock = SYSTEM_CLOCK,
):
    """Units of work over `engine`, telling the time by `clock`; with `find_log_delay`, what finds
    log (audit rows, the FUL search log) is written by a DeferredWrites of the process within
    that many seconds."""
    deferred = DeferredWrites(engine, find_log_delay) if find_log_delay > 0 else None
    return partial(SqlUnitOfWork, connection_factory(engine), guard, deferred, clock=clock)


def build_runtime(
    settings: Settings,
    engine: Engine | None = None,
    *,
    database_file: tuple[int, int] | None = None,
    threads: int | None = None,
    batch_worker: ServedWorker | None = None,
) -> Runtime:
    """A runtime over `engine`, or over a new engine that connects only when first used.

    `database_file`: the SQLite file the server was started on (its identity); every unit of
    work then refuses to run if that file is no longer at its path. `threads`: how many threads
    run requests in this process; the new engine's pool holds a connection for each and one for
    the writer of what finds log (a request uses one connection at a time), with 10 more for bursts.
    `batch_worker`: the batch worker `serve` runs beside the service (None: none). In sandbox
    mode the time is the sandbox clock's, kept in the database (lrs_ws.adapters.sandbox).
    """
    if engine is None:
        pool = {} if threads is None else {"pool_size": threads + 1, "max_overflow": 10}
        engine = make_engine(settings.database_url, create=False, statement_timeout=REQUEST_STATEMENT_TIMEOUT_S, **pool)
    path = sqlite_path(settings.database_url)
    guard = SqliteFileGuard(path, database_file) if database_file is not None and path is not None else None
    delay = settings.find_log_delay
    sandbox = SandboxState(engine.connect) if settings.sandbox else None
    clock: Clock = SYSTEM_CLOCK if sandbox is None else SandboxClock(sandbox)
    return Runtime(
        settings=settings,
        unit_of_work=unit_of_work_factory(engine, guard, find_log_delay=delay, clock=clock),
        clock=clock,
        sandbox=sandbox,
        # the row's delay, one more turn of the writer's transaction, and a margin
        search_patience=2 * delay + 0.3 if delay > 0 else 0,
        batch_worker=batch_worker,
    )


def web_app(runtime: Runtime, hooks: SoapHooks | None = None) -> MountTable:
    """The WSGI application of a worker: what is served at which path (lrs_ws.web.mounts), the
    SOAP calls of both services shown to `hooks`."""
    # spyne is imported only where SOAP is served
    from lrs_ws.web.hooks import SoapHooks
    from lrs_ws.web.mounts import MountTable
    from lrs_ws.web.root import SiteRoot
    from lrs_ws.web.soap_services import learner_service, learner_service_r9

    hooks = SoapHooks() if hooks is None else hooks
    sandbox_api = _sandbox(runtime, hooks) if runtime.settings.sandbox else None
    learner_register, learning_records = learner_service(runtime, hooks), learner_service_r9(runtime, hooks)
    table = MountTable(
        root=SiteRoot(runtime, [learner_register, learning_records]),
        mounts={
            learner_register.path: learner_register,
            learning_records.path: learning_records,
        },
    )
    if sandbox_api is not None:
        table.mount("/sandbox/", sandbox_api)
    if runtime.settings.sandbox or runtime.settings.console:
        from lrs_ws.console.app import ConsoleApp

        table.mount("/console/", ConsoleApp(runtime))
    return table


def _sandbox(runtime: Runtime, hooks: SoapHooks):
    """Sandbox mode: planted faults before every SOAP call, the journal after it, the control API."""
    from lrs_ws.sandbox.api import SandboxApi
    from lrs_ws.sandbox.faults import FaultPlanter
    from lrs_ws.sandbox.journal import JournalRecorder

    settings = runtime.settings
    if not settings.sandbox_token:
        raise ValueError("sandbox mode needs its token (lrs-ws serve makes one when none is given)")
    assert runtime.sandbox is not None, "a sandbox runtime holds the sandbox's state"
    planter = FaultPlanter(runtime.unit_of_work, runtime.sandbox.faults)
    hooks.before(planter)
    hooks.after(JournalRecorder(runtime.unit_of_work, keep=settings.journal_size, planted=planter.planted))
    return SandboxApi(runtime, settings.sandbox_token, settled=runtime.sandbox.settled)


def build_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    database_file: tuple[int, int] | None = None,
    threads: int | None = None,
    batch_worker: ServedWorker | None = None,
    hooks: SoapHooks | None = None,
) -> MountTable:
    runtime = build_runtime(settings, engine, database_file=database_file, threads=threads, batch_worker=batch_worker)
    return web_app(runtime, hooks)


def build_server_app(
    settings: Settings, server, *, database_file: tuple[int, int] | None = None, batch_worker: ServedWorker | None = None
):
    """What one server worker serves: the WSGI application behind the buffering HTTP front
    (`server`: lrs_ws.server.ServerOptions)."""
    from lrs_ws.web.asgi import BufferedWsgi, TrustedProxies

    wsgi = build_app(settings, database_file=database_file, threads=server.threads, batch_worker=batch_worker)
    return BufferedWsgi(
        wsgi,
        refuse=wsgi.refusal,
        threads=server.threads,
        max_body=settings.max_request_bytes,
        read_timeout=server.read_timeout,
        proxies=TrustedProxies(server.forwarded_allow_ips),
    )
