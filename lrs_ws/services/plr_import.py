"""Import learning events from a CSV file (`lrs-ws plr import FILE.csv`).

The heading row names the columns: `ULN` and any `LearningEvent` wire names (any subset, any
order; matched case-insensitively). Every row is checked before anything is written; a file
with any bad row is rejected whole (`ImportRejected` lists every problem), a good one is written
in one transaction. Parsing is pure Python over the unit of work's ports: no SQL here.

Values: empty cell = no value. Dates `YYYY-MM-DD` (real dates); `DateLoaded`
`YYYY-MM-DD HH:MM:SS` (assigned the import time when absent); `Credits` a non-negative integer;
`Restriction` 0 or 1 (0 when absent); `Source` free text (ILR, NPD, AO...; `ILR` when absent);
`ID` a positive integer not already used (assigned when absent). `ULN` must be on the register
(retired ULNs included).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lrs_ws.domain.learner import wire_name
from lrs_ws.domain.learning_event import (
    DATE_FIELDS,
    DATE_TIME_FIELDS,
    EVENT_FIELDS,
    INTEGER_FIELDS,
    MAX_INTEGER,
    TEXT_LENGTHS,
    LearningEvent,
)
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services.ports import UnitOfWork

DEFAULT_SOURCE = "ILR"
DEFAULT_RESTRICTION = "0"
HEADING_ROW = 1  # data rows are numbered from 2, as a spreadsheet shows them

EVENT_WIRE_NAMES: dict[str, str] = {wire_name(name): name for name in EVENT_FIELDS}
_COLUMNS: dict[str, str] = {"uln": "uln", **{wire.lower(): name for wire, name in EVENT_WIRE_NAMES.items()}}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_INTEGER = re.compile(r"\d+")
_RESTRICTIONS = ("0", "1")

ProgressCallback = Callable[[int], object]  # its result is ignored


@dataclass(frozen=True)
class RowError:
    row: int  # 1 is the heading row
    field: str  # wire name, or "" for the row as a whole
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


class ImportRejected(Exception):
    """The file is not imported; `errors` names every problem (row, field, reason)."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        bad_rows = len({e.row for e in errors})
        lines = "\n".join(f"  {error}" for error in errors)
        super().__init__(f"nothing imported: {len(errors)} problem(s) in {bad_rows} row(s)\n{lines}")


@dataclass(frozen=True)
class ImportSummary:
    events: int
    learners: int


def parse_heading(cells: list[str]) -> list[str]:
    """Field names (`uln` and EVENT_FIELDS names) of the columns, or ImportRejected."""
    errors: list[RowError] = []
    fields: list[str] = []
    for position, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff")
        field = _COLUMNS.get(name.lower())
        if field is None:
            known = ", ".join(["ULN", *EVENT_WIRE_NAMES])
            errors.append(RowError(HEADING_ROW, name, f"unknown column {position} {name!r}; known: {known}"))
        elif field in fields:
            errors.append(RowError(HEADING_ROW, name, f"column {name!r} appears twice"))
        fields.append(field or "")
    if "uln" not in fields:
        errors.append(RowError(HEADING_ROW, "ULN", "the heading row has no ULN column"))
    if errors:
        raise ImportRejected(errors)
    return fields


def parse_value(field: str, text: str) -> tuple[Any, str | None]:
    """(value, None), or (None, why the text is not a valid value for the field)."""
    if field == "uln":
        return (text, None) if is_valid_uln(text) else (None, f"{text!r} is not a valid ULN")
    if field in DATE_FIELDS:
        if _DATE.fullmatch(text):
            try:
                return date.fromisoformat(text), None
            except ValueError:
                pass
        return None, f"{text!r} is not a real date YYYY-MM-DD"
    if field in DATE_TIME_FIELDS:
        if _DATE_TIME.fullmatch(text):
            try:
                return datetime.strptime(text, "%Y-%m-%d %H:%M:%S"), None
            except ValueError:
                pass
        return None, f"{text!r} is not a real date and time YYYY-MM-DD HH:MM:SS"
    if field in INTEGER_FIELDS:
        smallest = 1 if field == "id" else 0
        kind = "a positive" if field == "id" else "a non-negative"
        if _INTEGER.fullmatch(text) and smallest <= int(text) <= MAX_INTEGER:
            return int(text), None
        return None, f"{text!r} is not {kind} integer (at most {MAX_INTEGER})"
    if field == "restriction" and text not in _RESTRICTIONS:
        return None, f"{text!r} is not 0 (not sensitive) or 1 (sensitive)"
    limit = TEXT_LENGTHS[field]
    if len(text) > limit:
        return None, f"{len(text)} characters; at most {limit}"
    return text, None


def event_from_values(
    row_number: int, values: Mapping[str, str], now: datetime
) -> tuple[LearningEvent | None, list[RowError]]:
    """One event from field name -> cell text (empty = absent), with the defaults applied."""
    parsed: dict[str, Any] = {}
    errors: list[RowError] = []
    for field, raw in values.items():
        text = (raw or "").strip()
        if not text:
            continue
        value, problem = parse_value(field, text)
        if problem:
            errors.append(RowError(row_number, "ULN" if field == "uln" else wire_name(field), problem))
        else:
            parsed[field] = value
    if "uln" not in parsed and not any(e.field == "ULN" for e in errors):
        errors.append(RowError(row_number, "ULN", "missing"))
    if errors:
        return None, errors
    parsed.setdefault("source", DEFAULT_SOURCE)
    parsed.setdefault("restriction", DEFAULT_RESTRICTION)
    parsed.setdefault("date_loaded", now.replace(microsecond=0))
    return LearningEvent(**parsed), []


def read_events(
    lines: Iterable[str], now: datetime, on_progress: ProgressCallback | None = None
) -> tuple[list[tuple[int, LearningEvent]], list[RowError]]:
    """(row number, event) for every good row, and the problems of the bad ones (format only;
    `import_events` also checks the ULNs and IDs against the database)."""
    reader = csv.reader(lines)
    try:
        heading = next(reader)
    except StopIteration:
        raise ImportRejected([RowError(HEADING_ROW, "", "the file is empty: no heading row")]) from None
    fields = parse_heading(heading)
    events: list[tuple[int, LearningEvent]] = []
    errors: list[RowError] = []
    first_rows: dict[int, int] = {}  # ID -> the first row that gives it
    for row_number, cells in enumerate(reader, start=HEADING_ROW + 1):
        if on_progress is not None:
            on_progress(1)
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
        if len(cells) != len(fields):
            errors.append(RowError(row_number, "", f"{len(cells)} values; the heading has {len(fields)} columns"))
            continue
        values = dict(zip(fields, cells, strict=True))
        event, problems = event_from_values(row_number, values, now)
        if event is None:
            errors.extend(problems)
        else:
            events.append((row_number, event))
        errors.extend(_repeated_id(row_number, values.get("id"), first_rows))
    return events, errors


def _repeated_id(row_number: int, cell: str | None, first_rows: dict[int, int]) -> list[RowError]:
    """Every row that repeats an ID is named, even when the other row has other problems."""
    given, problem = parse_value("id", cell.strip()) if cell and cell.strip() else (None, "")
    if given is None or problem:
        return []
    if given in first_rows:
        return [RowError(row_number, "ID", f"{given} is also the ID of row {first_rows[given]}")]
    first_rows[given] = row_number
    return []


def import_events(
    uow: UnitOfWork, lines: Iterable[str], now: datetime, on_progress: ProgressCallback | None = None
) -> ImportSummary:
    """Validate every row, then write all the events in one transaction; or ImportRejected."""
    events, errors = read_events(lines, now, on_progress)
    known = uow.learners.known_ulns(event.uln for _, event in events)
    given_ids: dict[int, int] = {}
    for row_number, event in events:
        if event.uln not in known:
            errors.append(RowError(row_number, "ULN", f"{event.uln} is not a ULN on the register"))
        if event.id is not None:
            given_ids.setdefault(event.id, row_number)  # repeats were named by read_events
    taken = uow.events.existing_ids(given_ids)
    errors.extend(RowError(row, "ID", f"{event_id} is already used by a stored learning event")
                  for event_id, row in given_ids.items() if event_id in taken)
    errors.extend(_ids_left(uow, events, given_ids))
    if errors:
        errors.sort(key=lambda error: error.row)
        raise ImportRejected(errors)
    batch = [event for _, event in events]
    uow.events.add_many(batch)
    uow.commit()
    return ImportSummary(events=len(batch), learners=len({event.uln for event in batch}))


def _ids_left(uow: UnitOfWork, events: list[tuple[int, LearningEvent]], given_ids: dict[int, int]) -> list[RowError]:
    """IDs are assigned above every stored and given one; they must stay 32-bit (WCF reads an int)."""
    needing = [row for row, event in events if event.id is None]
    if not needing:
        return []
    top = max(uow.events.next_ids(1)[0] - 1, max(given_ids, default=0))
    if top + len(needing) <= MAX_INTEGER:
        return []
    return [RowError(needing[0], "ID", f"no IDs left to assign above {top} (the largest is {MAX_INTEGER}); give IDs in the file")]


def event_values(row: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> text of an event given by wire names (`ULN` and LearningEvent's names, any
    case), as an import row; ValueError naming an unknown one."""
    values: dict[str, str] = {}
    for name, value in row.items():
        field = _COLUMNS.get(name.lower())
        if field is None:
            raise ValueError(f"unknown learning event field {name!r}")
        values[field] = "" if value is None else str(value)
    return values


def event_from_wire(row: Mapping[str, Any], now: datetime) -> LearningEvent:
    """A fixture's event (`ULN` plus wire names, as in `fixtures/demo.json`); ValueError if bad."""
    event, problems = event_from_values(0, event_values(row), now)
    if event is None:
        raise ValueError("; ".join(f"{p.field}: {p.reason}" for p in problems))
    return event
