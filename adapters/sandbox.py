"""SQLAlchemy implementation of what sandbox mode keeps (lrs_ws.services.ports.SandboxStore).

The baseline is a copy of each of the register's tables (`sandbox_baseline_<table>`), made by the
database itself: a reset deletes the register's rows and copies the baseline's back in one
transaction, which first locks those tables (PostgreSQL) or takes the write lock (SQLite), so
that a request in flight either finished before it or starts after it.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Connection, Table, delete, func, insert, inspect, or_, select, text, update

from lrs_ws.adapters.mapping import CANDIDATE_COLUMNS, RowByName, from_naive_utc, to_naive_utc
from lrs_ws.adapters.orm import (
    NO_OP_WRITE,
    Base,
    learners,
    sandbox_faults,
    sandbox_requests,
    sandbox_settings,
)
from lrs_ws.clock import SYSTEM_CLOCK, Clock
from lrs_ws.domain.matching import MatchCandidate, SearchKey, candidate_birth_dates, name_codes
from lrs_ws.domain.normalise import post_code_key
from lrs_ws.services.ports import JournalEntry, JournalFilter, PlantedFault, PlantedFaultKind
from lrs_ws.services.sandbox import CLOCK, ClockSetting

# What a reset puts back: the register, its logs and the backoff. Not the batch workers'
# reports (they are about processes) nor sandbox mode's own tables.
_NOT_REGISTER = {"batch_workers", "alembic_version"}
REGISTER_TABLES: tuple[Table, ...] = tuple(
    table for table in Base.metadata.sorted_tables if table.name not in _NOT_REGISTER and not table.name.startswith("sandbox_")
)


def _baseline_of(table: Table) -> str:
    """The table that holds `table`'s rows as at the baseline: a copy the database makes itself
    (CREATE TABLE ... AS SELECT), made again at each mark, so it always has the columns of the
    schema it was marked under."""
    return f"sandbox_baseline_{table.name}"


def _columns(table: Table) -> str:
    return ", ".join(column.name for column in table.columns)


def _entry(row: RowByName) -> JournalEntry:
    return JournalEntry(
        id=row["id"], at=from_naive_utc(row["at"]), endpoint=row["endpoint"], operation=row["operation"],
        soap_action=row["soap_action"], ukprn=row["ukprn"], user=row["username"], outcome=row["outcome"],
        http_status=row["http_status"], duration_ms=row["duration_ms"], request=row["request"], response=row["response"],
        problem=row["problem"], near_misses=tuple(json.loads(row["near_misses"] or "[]")), fault_id=row["fault_id"],
    )


def _fault(row: RowByName) -> PlantedFault:
    return PlantedFault(
        id=row["id"], operation=row["operation"], ukprn=row["ukprn"], kind=PlantedFaultKind(row["kind"]),
        seconds=row["seconds"], code=row["code"], status=row["status"], times=row["times_left"], probability=row["probability"],
    )


class SqlSandboxStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # --- the journal

    def record_requests(self, entries: Iterable[JournalEntry], keep: int) -> None:
        rows = [
            {
                "at": to_naive_utc(entry.at), "endpoint": entry.endpoint, "operation": entry.operation[:64],
                "soap_action": (entry.soap_action or None) and entry.soap_action[:255], "ukprn": entry.ukprn and entry.ukprn[:64],
                "username": entry.user and entry.user[:128], "outcome": entry.outcome[:32], "http_status": entry.http_status,
                "duration_ms": entry.duration_ms, "request": entry.request, "response": entry.response, "problem": entry.problem,
                "near_misses": json.dumps(list(entry.near_misses)) if entry.near_misses else None, "fault_id": entry.fault_id,
            }
            for entry in entries
        ]
        if not rows:
            return
        self.connection.execute(insert(sandbox_requests), rows)
        newest = self.connection.execute(select(func.max(sandbox_requests.c.id))).scalar_one()
        self.connection.execute(delete(sandbox_requests).where(sandbox_requests.c.id <= newest - keep))

    def requests(self, where: JournalFilter) -> list[JournalEntry]:
        # By time: each process writes the calls it served, so ids follow the writes, not the calls.
        query = select(sandbox_requests).order_by(sandbox_requests.c.at.desc(), sandbox_requests.c.id.desc()).limit(where.limit)
        for column, value in (
            (sandbox_requests.c.operation, where.operation), (sandbox_requests.c.outcome, where.outcome),
            (sandbox_requests.c.ukprn, where.ukprn), (sandbox_requests.c.username, where.user),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.since_id is not None:
            query = query.where(sandbox_requests.c.id > where.since_id)
        return [_entry(row) for row in self.connection.execute(query).mappings()]

    def request(self, entry_id: int) -> JournalEntry | None:
        row = self.connection.execute(select(sandbox_requests).where(sandbox_requests.c.id == entry_id)).mappings().first()
        return None if row is None else _entry(row)

    def forget_requests(self) -> None:
        self.connection.execute(delete(sandbox_requests))

    def near_candidates(self, search: SearchKey, limit: int = 200) -> list[MatchCandidate]:
        """Learners who share a name form, the date of birth (or its swap) or the postcode with
        a search: where its near misses are (a scan where no index helps: sandbox registers are small)."""
        codes = name_codes(search.given_name, search.family_name)
        dates = candidate_birth_dates(search.date_of_birth)
        post_code = post_code_key(search.post_code)
        query = (
            select(*(learners.c[name] for name in CANDIDATE_COLUMNS))
            .where(
                or_(
                    learners.c.code_family == codes.family,
                    learners.c.code_given == codes.given,
                    learners.c.code_family == codes.given,  # names swapped
                    learners.c.date_of_birth.in_(dates),
                    func.replace(func.upper(learners.c.last_known_post_code), " ", "") == post_code,
                )
            )
            .order_by(learners.c.uln)
            .limit(limit)
        )
        return [MatchCandidate(*row) for row in self.connection.execute(query)]

    # --- planted faults

    def add_fault(self, fault: PlantedFault) -> int:
        values = {
            "operation": fault.operation, "ukprn": fault.ukprn, "kind": fault.kind.value, "seconds": fault.seconds,
            "code": fault.code, "status": fault.status, "times_left": fault.times, "probability": fault.probability,
        }
        return int(self.connection.execute(insert(sandbox_faults).values(**values).returning(sandbox_faults.c.id)).scalar_one())

    def faults(self) -> list[PlantedFault]:
        query = select(sandbox_faults).order_by(sandbox_faults.c.id)
        return [_fault(row) for row in self.connection.execute(query).mappings()]

    def remove_fault(self, fault_id: int) -> bool:
        return self.connection.execute(delete(sandbox_faults).where(sandbox_faults.c.id == fault_id)).rowcount == 1

    def remove_faults(self) -> None:
        self.connection.execute(delete(sandbox_faults))

    def take_fault(self, fault_id: int) -> bool:
        # One statement: two processes taking the last firing cannot both have it.
        taken = self.connection.execute(
            update(sandbox_faults)
            .where(sandbox_faults.c.id == fault_id, sandbox_faults.c.times_left > 0)
            .values(times_left=sandbox_faults.c.times_left - 1)
        ).rowcount
        if taken:
            self.connection.execute(delete(sandbox_faults).where(sandbox_faults.c.id == fault_id, sandbox_faults.c.times_left <= 0))
            return True
        unlimited = select(sandbox_faults.c.id).where(sandbox_faults.c.id == fault_id, sandbox_faults.c.times_left.is_(None))
        return self.connection.execute(unlimited).first() is not None

    # --- settings

    def setting(self, name: str) -> dict[str, object] | None:
        found = self.connection.execute(select(sandbox_settings.c.value).where(sandbox_settings.c.name == name)).scalar()
        return None if found is None else json.loads(found)

    def put_setting(self, name: str, value: dict[str, object] | None) -> None:
        self.connection.execute(delete(sandbox_settings).where(sandbox_settings.c.name == name))
        if value is not None:
            self.connection.execute(insert(sandbox_settings).values(name=name, value=json.dumps(value)))

    # --- the baseline

    def _lock_register(self) -> None:
        """Every register table to this transaction alone, until it ends."""
        if self.connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in REGISTER_TABLES)
            self.connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
        else:
            self.connection.execute(NO_OP_WRITE)  # SQLite: the one writer from here on

    def mark_baseline(self) -> int:
        self._lock_register()
        count = 0
        for table in REGISTER_TABLES:
            copy = _baseline_of(table)
            self.connection.execute(text(f"DROP TABLE IF EXISTS {copy}"))
            self.connection.execute(text(f"CREATE TABLE {copy} AS SELECT {_columns(table)} FROM {table.name}"))
            count += self.connection.execute(text(f"SELECT count(*) FROM {copy}")).scalar_one()
        return count

    def restore_baseline(self) -> int:
        if not self.has_baseline():
            raise LookupError("no baseline has been marked (POST /sandbox/baseline)")
        self._lock_register()
        for table in reversed(REGISTER_TABLES):
            self.connection.execute(delete(table))
        count = 0
        for table in REGISTER_TABLES:
            columns = _columns(table)
            count += self.connection.execute(
                text(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {_baseline_of(table)}")
            ).rowcount
        self.forget_requests()
        self.remove_faults()
        self.connection.execute(delete(sandbox_settings).where(sandbox_settings.c.name != "baseline"))
        return count

    def has_baseline(self) -> bool:
        return all(inspect(self.connection).has_table(_baseline_of(table)) for table in REGISTER_TABLES)


# How stale a process's view of the planted faults and the clock may be. The API answers a change
# only this long after it committed, so that by then every process sees it.
SETTLE_SECONDS = 0.05


class SandboxState:
    """A process's view of what every SOAP call consults in sandbox mode, the planted faults and
    the clock, read from the database (one read for both) at most every `settle` seconds: a call
    costs no query, and a fault only the write that takes its firing."""

    def __init__(self, connect: Callable[[], Connection], settle: float = SETTLE_SECONDS) -> None:
        self.connect = connect
        self.settle = settle
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._faults: list[PlantedFault] = []
        self._clock: ClockSetting | None = None

    def faults(self) -> list[PlantedFault]:
        self._fresh()
        return self._faults

    def clock(self) -> ClockSetting | None:
        self._fresh()
        return self._clock

    def _fresh(self) -> None:
        with self._lock:
            started = time.monotonic()  # before the read: a commit after it may be missing from the view
            if self._read_at is not None and started - self._read_at < self.settle:
                return
            with self.connect() as connection:
                store = SqlSandboxStore(connection)
                faults, clock = store.faults(), store.setting(CLOCK)
            self._faults, self._clock = faults, None if clock is None else ClockSetting.from_setting(clock)
            self._read_at = started

    def settled(self) -> None:
        """Wait until every process's view is at least as new as what was just committed."""
        time.sleep(self.settle)


class SandboxClock:
    """Sandbox mode's clock: the host's, unless a test set it (PUT /sandbox/clock); every process
    tells the same time (SandboxState)."""

    def __init__(self, state: SandboxState, real: Clock = SYSTEM_CLOCK) -> None:
        self.state = state
        self.real = real

    def now(self) -> datetime:
        setting = self.state.clock()
        real_now = self.real.now()
        return real_now if setting is None else setting.now(real_now)
