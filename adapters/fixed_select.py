"""The hottest reads of the request path, compiled by SQLAlchemy once per dialect and run on the
unit of work's DBAPI connection directly.

`Connection.execute` does a great deal per statement besides the statement: the cache key of the
construct, the compiled-cache lookup, an execution context, the before/after execute and cursor
events, a CursorResult and its metadata. For the few fixed SELECTs every request runs (the
caller's organisation and user, a learner by ULN, a learner's events) that cost two to three
times what SQLite takes to answer. A FixedSelect keeps what SQLAlchemy produced for the dialect
once (the SQL, the order of its parameters, the bind and result processors of its types) and
runs only the cursor's execute and fetch per call.

Only SELECTs: a write must go through `Connection.execute` (the write limit and SQLite's write
turns are cursor events). Errors still become SQLAlchemy's (and a lost connection is invalidated)
through the Connection's own handling, so callers see exactly what `execute` would raise. The
SELECT runs in the connection's transaction as `execute` would run it: the DBAPI connection is
the same, and neither driver's implicit transaction depends on which of the two ran it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect


class _Plan:
    """What one dialect makes of the statement."""

    __slots__ = ("sql", "names", "positional", "bind_processors", "result_processors", "keys")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else tuple(compiled.binds)
        for name in self.names:
            if compiled.binds[name].expanding:
                raise ValueError(f"a FixedSelect takes no expanding parameter ({name})")
        self.bind_processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        self.keys: tuple[str, ...] = tuple(str(column.key) for column in statement.selected_columns)
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns]
        self.result_processors: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (index, processor) for index, processor in enumerate(processors) if processor is not None
        )

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processors = self.bind_processors
        processed = {
            name: processors[name](values[name]) if name in processors else values[name] for name in self.names
        }
        return [processed[name] for name in self.names] if self.positional else processed


class FixedSelect:
    """A SELECT with only plain bound parameters (no expanding IN, no literal binds), its rows as
    tuples in `keys` order or as dicts."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, str], _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        key = (dialect.name, dialect.driver)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self.statement, dialect)
        return plan

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, each value as `Connection.execute` would give it."""
        plan = self._plan(connection.dialect)
        parameters = plan.parameters(values)
        cursor = None
        try:
            cursor = connection.connection.cursor()
            cursor.execute(plan.sql, parameters)
            rows: list[tuple[Any, ...]] = list(cursor.fetchall())
        except Exception as error:  # SQLAlchemy's own handling: its exception types, invalidation
            connection._handle_dbapi_exception(error, plan.sql, parameters, cursor, None)
        finally:
            if cursor is not None:
                cursor.close()
        if plan.result_processors and rows:
            processors = plan.result_processors
            converted = []
            for row in rows:
                values_ = list(row)
                for index, processor in processors:
                    values_[index] = processor(values_[index])
                converted.append(tuple(values_))
            return converted
        return rows

    def mappings(self, connection: Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row as a dict by column key (a label's name)."""
        keys = self._plan(connection.dialect).keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(connection, values)]
