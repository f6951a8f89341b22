"""The layout of an LRB file (its formats, tags, headings and header) and what reading one
yields: problems, the header, learner rows."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lrs_ws.contract.learner_fields import BATCH_FIELDS
from lrs_ws.contract.namespaces import BATCHMSG

ROOT_TAG = f"{{{BATCHMSG}}}LRBBatchFile"
LEARNER_TAG = f"{{{BATCHMSG}}}BatchLearner"
OUTPUT_ROOT_TAG = f"{{{BATCHMSG}}}LRBBatchOutputFile"
OUTPUT_LEARNER_TAG = f"{{{BATCHMSG}}}OutputBatchLearner"
FORMATS = ("CSV", "XML")

HEADER_FIELDS: tuple[str, ...] = ("FileVersion", "FileName", "UKPRN", "LearnerRecordCount")
# The portal's CSV spells two headings differently from the XML element names.
CSV_SPELLING = {
    "FamilyNameAtAge16": "FamilyNameAt16",
    "LastKnownAddressCountyOrCity": "LastKnownAddressCountyorCity",
}
LEARNER_HEADINGS: tuple[str, ...] = tuple(CSV_SPELLING.get(wire, wire) for wire in BATCH_FIELDS)
CSV_HEADINGS: tuple[str, ...] = HEADER_FIELDS + LEARNER_HEADINGS
OUTPUT_CSV_HEADINGS: tuple[str, ...] = CSV_HEADINGS + ("ReturnCode",)
HEADER_ROW = 2  # CSV row of the header values (and the first learner)

_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One problem: ``row`` as the user numbers it (None for the file as a whole), ``column`` a
    CSV heading, XML element or label such as ``file name`` (None for a whole row), ``reason``
    a short sentence. ``unit`` is what ``row`` counts: ``row`` (CSV) or ``learner`` (XML);
    ``line`` the XML file's line, where one is known."""

    row: int | None
    column: str | None
    reason: str
    unit: str = "row"
    line: int | None = None

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return f"{self.unit} {self.row}, {self.column}: {self.reason}"
        if self.row is not None:
            return f"{self.unit} {self.row}: {self.reason}"
        return f"{self.column or 'file'}: {self.reason}"


@dataclass
class Header:
    """The four header values as read; ``learner_record_count`` is None when not a number."""

    file_version: str
    file_name: str
    ukprn: str
    learner_record_count: int | None

    def values(self) -> tuple[str, str, str, str]:
        count = "" if self.learner_record_count is None else str(self.learner_record_count)
        return (self.file_version or "", self.file_name or "", self.ukprn or "", count)


@dataclass
class LearnerRow:
    row: int
    fields: dict[str, str]  # wire name (BATCH_FIELDS) -> text, supplied (non-empty) values only
    problems: list[Problem] = field(default_factory=list)


def quote(value: str) -> str:
    """A value as a problem quotes it: shortened, control characters shown as escapes."""
    shown = value if len(value) <= 40 else value[:37] + "..."
    return "'" + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown) + "'"


def counted(n: int, noun: str) -> str:
    """``1 learner row``, ``1,000 learner rows``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
