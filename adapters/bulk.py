"""Fast loading of many learners (`seed synthetic --learners N`), chunk by chunk.

Each chunk is its own transaction, so a million rows never sit in one huge transaction and an
interrupted load keeps what it committed. Rows are plain dicts, never ORM objects. The portable
path is a Core INSERT executemany; on PostgreSQL (psycopg 3) COPY does the same about twice as
fast, so `method="auto"` picks it there.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping

from sqlalchemy import Connection, Engine, insert, select

from adapters.mapping import LEARNER_COLUMNS
from adapters.orm import learners
from adapters.synthetic import generate_learners
from lrs_ws.domain.learner import LearnerStatus

DEFAULT_CHUNK_SIZE = 5_000

ProgressCallback = Callable[[int], None]  # called with the number of rows just committed
LoadMethod = Literal["auto", "executemany", "copy"]


def complete_learner_row(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Every learner column present (executemany needs the same keys in every row)."""
    complete = {name: row.get(name) for name in LEARNER_COLUMNS}
    complete["created_date"] = row.get("created_date") or today
    complete["last_updated_date"] = row.get("last_updated_date") or complete["created_date"]
    complete["version_number"] = row.get("version_number") or 1
    complete["learner_status"] = LearnerStatus(row.get("learner_status") or LearnerStatus.ACTIVE).value
    complete["tier_level"] = row.get("tier_level") or "0"
    complete["verification_type"] = row.get("verification_type") or "0"
    complete["ability_to_share"] = row.get("ability_to_share") or "0"
    return complete


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
    today: date | None = None,
    on_progress: ProgressCallback | None = None,
    method: LoadMethod = "auto",
) -> int:
    """Insert learner rows (uln plus details; the LRS fields get defaults); returns the count."""
    today = today or date.today()
    use_copy = method == "copy" or (method == "auto" and _copy_supported(engine))
    if method == "copy" and not _copy_supported(engine):
        raise ValueError("COPY needs PostgreSQL through psycopg 3")
    statement = insert(learners)
    total = 0
    for chunk in _chunked((complete_learner_row(row, today) for row in rows), chunk_size):
        with engine.begin() as connection:
            if use_copy:
                _copy_chunk(connection, chunk)
            else:
                connection.execute(statement, chunk)
        total += len(chunk)
        if on_progress is not None:
            on_progress(len(chunk))
    return total


def _copy_supported(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


def _copy_chunk(connection: Connection, chunk: list[dict[str, Any]]) -> None:
    columns = ", ".join(LEARNER_COLUMNS)  # fixed identifiers from our own table, not input
    driver_connection = connection.connection.driver_connection
    with driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY learners ({columns}) FROM STDIN") as copy:
            for row in chunk:
                copy.write_row([row[name] for name in LEARNER_COLUMNS])


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
    today: date | None = None,
    on_progress: ProgressCallback | None = None,
    method: LoadMethod = "auto",
) -> int:
    """Generate `count` synthetic learners and load them, avoiding ULNs already present."""
    taken = existing_ulns(engine)
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
    today: date | None = None,
) -> int:
    """`bulk_insert_learners` under the name and keyword the CLI uses."""
    return bulk_insert_learners(engine, rows, chunk_size=chunk_size, today=today, on_progress=progress)
