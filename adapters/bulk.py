"""Fast loading of many learners (`seed synthetic --learners N`), chunk by chunk.

Each chunk is its own transaction, so a million rows never sit in one huge transaction and an
interrupted load keeps what it committed. Rows are plain dicts, never ORM objects. The portable
path is a Core INSERT executemany; on PostgreSQL (psycopg 3) COPY does the same about twice as
fast, so `method="auto"` picks it there.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, func, insert, select

from lrs_ws.adapters.mapping import (
    EVENT_COLUMNS,
    LEARNER_COLUMNS,
    LEARNER_ROW_COLUMNS,
    with_name_codes,
)
from lrs_ws.adapters.orm import learners, learning_events
from lrs_ws.adapters.synthetic import generate_learners, generate_learning_events
from lrs_ws.domain.learner import LearnerStatus

DEFAULT_CHUNK_SIZE = 5_000

ProgressCallback = Callable[[int], object]  # called with the number of rows just committed; its result is ignored
LoadMethod = Literal["auto", "executemany", "copy"]


def complete_learner_row(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Every learner column present, name codes included (executemany needs the same keys in every row)."""
    complete = {name: row.get(name) for name in LEARNER_COLUMNS}
    complete["created_date"] = row.get("created_date") or today
    complete["last_updated_date"] = row.get("last_updated_date") or complete["created_date"]
    complete["version_number"] = row.get("version_number") or 1
    complete["learner_status"] = LearnerStatus(row.get("learner_status") or LearnerStatus.ACTIVE).value
    complete["tier_level"] = row.get("tier_level") or "0"
    complete["verification_type"] = row.get("verification_type") or "0"
    complete["ability_to_share"] = row.get("ability_to_share") or "0"
    return with_name_codes(complete)


def _chunked(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def bulk_insert_learners(
    engine: Engine,
    rows: Iterable[Mapping[str, Any]],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    today: date,
    on_progress: ProgressCallback | None = None,
    method: LoadMethod = "auto",
) -> int:
    """Insert learner rows (uln plus details; the LRS fields get defaults, `today` their record
    dates); returns the count."""
    complete = (complete_learner_row(row, today) for row in rows)
    return _load(engine, learners, LEARNER_ROW_COLUMNS, complete, chunk_size, on_progress, method)


def _load(
    engine: Engine,
    table: Table,
    columns: tuple[str, ...],
    rows: Iterable[dict[str, Any]],
    chunk_size: int,
    on_progress: ProgressCallback | None,
    method: LoadMethod,
) -> int:
    """Complete rows into `table`, one transaction per chunk (COPY on PostgreSQL with psycopg)."""
    use_copy = method == "copy" or (method == "auto" and _copy_supported(engine))
    if method == "copy" and not _copy_supported(engine):
        raise ValueError("COPY needs PostgreSQL through psycopg 3")
    statement = insert(table)
    total = 0
    for chunk in _chunked(rows, chunk_size):
        with engine.begin() as connection:
            if use_copy:
                _copy_rows(connection, table.name, columns, chunk)
            else:
                connection.execute(statement, chunk)
        total += len(chunk)
        if on_progress is not None:
            on_progress(len(chunk))
    return total


def _copy_supported(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


def existing_ulns(engine: Engine) -> set[str]:
    """Every ULN on the register (retired too): new ULNs must never reuse one."""
    with engine.connect() as connection:
        return set(connection.execute(select(learners.c.uln)).scalars())


def seed_synthetic_learners(
    engine: Engine,
    count: int,
    *,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    today: date,
    on_progress: ProgressCallback | None = None,
    method: LoadMethod = "auto",
    reserved: Iterable[str] = (),
) -> int:
    """Generate `count` synthetic learners and load them, avoiding ULNs already present and the
    `reserved` ones (the demo learners' ULNs, so the demo data can still be loaded later)."""
    taken = existing_ulns(engine) | set(reserved)
    rows = generate_learners(count, seed=seed, taken=taken.__contains__)
    return bulk_insert_learners(
        engine, rows, chunk_size=chunk_size, today=today, on_progress=on_progress, method=method
    )


def insert_learners(
    engine: Engine,
    rows: Iterable[Mapping[str, Any]],
    *,
    progress: ProgressCallback | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    today: date,
) -> int:
    """`bulk_insert_learners` under the name and keyword the CLI uses."""
    return bulk_insert_learners(engine, rows, chunk_size=chunk_size, today=today, on_progress=progress)


# --- learning events -----------------------------------------------------------------------------


def bulk_insert_learning_events(
    engine: Engine,
    rows: Iterable[Mapping[str, Any]],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
    method: LoadMethod = "auto",
) -> int:
    """Insert learning event rows (`id`, `uln` and EVENT_FIELDS keys; missing keys are NULL,
    Restriction 0), chunk by chunk, each chunk its own transaction; returns the count."""
    complete = ({**{name: row.get(name) for name in EVENT_COLUMNS}, "restriction": row.get("restriction") or "0"} for row in rows)
    return _load(engine, learning_events, EVENT_COLUMNS, complete, chunk_size, on_progress, method)


def _copy_rows(connection: Connection, table: str, columns: tuple[str, ...], chunk: list[dict[str, Any]]) -> None:
    names = ", ".join(columns)  # fixed identifiers from our own tables, not input
    # The driver's connection is None only once closed; this one is open.
    driver_connection = connection.connection.driver_connection
    with (
        driver_connection.cursor() as cursor,  # type: ignore[union-attr]  # not None: see above
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in chunk:
            copy.write_row([row[name] for name in columns])


def next_learning_event_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(learning_events.c.id))).scalar() or 0) + 1


def seed_synthetic_learning_events(
    engine: Engine,
    *,
    per_learner: int,
    exclude: set[str] | frozenset[str] = frozenset(),
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
    method: LoadMethod = "auto",
) -> int:
    """Up to `per_learner` synthetic events for every active learner whose ULN is not in
    `exclude` (in ULN order, so the same learners and seed give the same events); IDs continue
    above the stored ones. Returns the number of events added."""
    with engine.connect() as connection:
        query = (
            select(learners.c.uln, learners.c.date_of_birth)
            .where(learners.c.learner_status != LearnerStatus.RETIRED.value)
            .order_by(learners.c.uln)
        )
        targets = [(uln, born) for uln, born in connection.execute(query) if uln not in exclude]
    rows = generate_learning_events(targets, per_learner, seed=seed, first_id=next_learning_event_id(engine))
    return bulk_insert_learning_events(engine, rows, chunk_size=chunk_size, on_progress=on_progress, method=method)
