"""Reading an LRB file as a stream: its name, headings or root, and header on opening, then
one learner row at a time with the problems of each (see lrs_ws.adapters.lrb for the format).

Rows are numbered as the user sees them. In a CSV file that is the spreadsheet row: row 1 is
the headings, row 2 the first learner (a cell holding a line break does not start a new row).
In an XML file learners are numbered 1..n in document order and problems say ``learner N``;
structural problems also give the element's source line. An XML file is read with
``lxml.etree.iterparse``, one learner at a time, with no DTD, no entities and no network; a
DOCTYPE is refused.
"""
from __future__ import annotations

import csv
import io
import itertools
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from lxml import etree

from lrs_ws.adapters.lrb.checks import INTEGER, rules_from_xsd
from lrs_ws.adapters.lrb.layout import (
    CSV_HEADINGS,
    CSV_SPELLING,
    FORMATS,
    HEADER_FIELDS,
    HEADER_ROW,
    LEARNER_TAG,
    ROOT_TAG,
    Header,
    LearnerRow,
    Problem,
    counted,
    quote,
)
from lrs_ws.adapters.lrb.names import name_problems
from lrs_ws.contract.namespaces import BATCHMSG
from lrs_ws.domain.organisation import is_ukprn

# Characters XML 1.0 cannot carry: a CSV cell holding one could never be stored or sent back.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Fatal(Exception):
    """The rest of the file cannot be read; the reason is already in file_problems."""


class LrbReader:
    """An open LRB file: ``header`` is read on opening, ``rows()`` streams the learners."""

    def __init__(self, path: str | os.PathLike, *, name: str | None = None, ukprn: str | None = None) -> None:
        self.path = Path(path)
        self.name = name if name is not None else self.path.name
        self.ukprn = ukprn
        self.file_problems: list[Problem] = []
        self.header: Header | None = None
        self.learner_rows = 0
        self.fatal = False
        self._started = False
        self._finished = False
        # OSError (missing, directory, no permission) goes to the caller.
        self._binary = open(self.path, "rb")  # noqa: SIM115 - the reader's own, until close()
        try:
            self.size = os.fstat(self._binary.fileno()).st_size
            reasons, self._name_ukprn = name_problems(self.name)
            self.file_problems.extend(Problem(None, "file name", reason) for reason in reasons)
            self.format = self._format_from_name()
            self.unit = "row" if self.format == "CSV" else "learner"
            self._header_row: int | None = None
            self._closer: io.IOBase
            if self.format == "CSV":
                self._text = io.TextIOWrapper(self._binary, encoding="utf-8-sig", newline="")
                self._closer = self._text
                self._open_csv()
            else:
                self._closer = self._binary
                self._open_xml()
            self._check_ukprns()
        except BaseException:
            self._binary.close()
            raise

    # -- common

    def __enter__(self) -> LrbReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closer.close()

    @property
    def bytes_read(self) -> int:
        """How far the file has been read (in bytes, by chunks): for progress bars."""
        try:
            return self._binary.tell()
        except (ValueError, OSError):
            return self.size

    def _format_from_name(self) -> str:
        ext = self.name.rpartition(".")[2].upper() if "." in self.name else ""
        if ext in FORMATS:
            return ext
        start = self._binary.peek(64)[:64].removeprefix(b"\xef\xbb\xbf").lstrip()
        return "XML" if start.startswith(b"<") else "CSV"

    def _problem(self, row: int | None, column: str | None, reason: str, line: int | None = None) -> None:
        self.file_problems.append(Problem(row, column, reason, self.unit, line))

    def _stop(self, row: int | None, reason: str, line: int | None = None) -> _Fatal:
        self.fatal = True
        self._problem(row, None, reason, line)
        return _Fatal()

    def _check_header_values(self, values: Mapping[str, str | None], row: int | None, lines: Mapping[str, int] | None = None) -> None:
        rules = rules_from_xsd()
        lines = lines or {}
        for name in HEADER_FIELDS:
            value = values.get(name)
            at = f" (line {lines[name]})" if name in lines else ""
            if value is None:
                continue  # absent XML element: already reported
            if not value.strip():
                self._problem(row, name, f"is mandatory{at}", lines.get(name))
                continue
            reason = rules.header[name](value)
            if reason:
                self._problem(row, name, reason + at, lines.get(name))
        count = values.get("LearnerRecordCount") or ""
        self.header = Header(
            file_version=values.get("FileVersion") or "",
            file_name=values.get("FileName") or "",
            ukprn=values.get("UKPRN") or "",
            learner_record_count=int(count.strip()) if INTEGER.fullmatch(count.strip()) else None,
        )

    def _check_ukprns(self) -> None:
        if self.header is None:
            if self.ukprn and self._name_ukprn and self._name_ukprn != self.ukprn:
                self._problem(None, "file name", f"the UKPRN in the name, {self._name_ukprn}, is not your organisation's ({self.ukprn})")
            return
        header_ukprn = self.header.ukprn
        if not header_ukprn or not is_ukprn(header_ukprn):
            header_ukprn = ""  # missing or malformed: reported already
        row = self._header_row
        if self.ukprn:
            if self._name_ukprn and self._name_ukprn != self.ukprn:
                self._problem(None, "file name", f"the UKPRN in the name, {self._name_ukprn}, is not your organisation's ({self.ukprn})")
            if header_ukprn and header_ukprn != self.ukprn:
                self._problem(row, "UKPRN", f"{quote(header_ukprn)} is not your organisation's UKPRN ({self.ukprn})")
        elif self._name_ukprn and header_ukprn and self._name_ukprn != header_ukprn:
            self._problem(row, "UKPRN", f"{quote(header_ukprn)} is not the UKPRN in the file name ({self._name_ukprn})")

    def rows(self) -> Iterator[LearnerRow]:
        """The learners, one at a time, in file order. Once only."""
        if self._started:
            raise RuntimeError("rows() can be read once")
        self._started = True
        if self.header is None or self.fatal:
            return
        try:
            yield from (self._csv_rows() if self.format == "CSV" else self._xml_rows())
        except _Fatal:
            return
        self._finish()

    def _finish(self) -> None:
        if self._finished or self.fatal:
            return
        self._finished = True
        if self.learner_rows == 0:
            self._problem(None, None, "has no learners")
            return
        count = self.header.learner_record_count if self.header else None
        if count is not None and count != self.learner_rows:
            noun = "learner row" if self.format == "CSV" else "learner"
            plural = "" if self.learner_rows == 1 else "s"
            self._problem(self._header_row, "LearnerRecordCount", f"is {count}, but the file has {self.learner_rows:,} {noun}{plural}")

    # -- CSV

    def _open_csv(self) -> None:
        self._records = csv.reader(self._text)
        self._rowno = 0
        self._blank_rows: list[int] = []
        try:
            headings = self._next_record()
            if headings is None:
                raise self._stop(None, "is empty")
            self._check_headings(headings)
            while True:
                record = self._next_record()
                if record is None:
                    raise self._stop(None, f"has no learner rows: row {HEADER_ROW} must hold the header values and the first learner")
                if _is_blank(record):
                    self._blank_rows.append(self._rowno)
                    continue
                break
        except _Fatal:
            return
        self._report_blank_rows()
        self._header_row = self._rowno
        self._first: tuple[int, list[str]] | None = (self._rowno, record)
        values = (record + [""] * len(HEADER_FIELDS))[: len(HEADER_FIELDS)]
        self._check_header_values(dict(zip(HEADER_FIELDS, values, strict=True)), self._rowno)

    def _next_record(self) -> list[str] | None:
        try:
            record = next(self._records)
        except StopIteration:
            return None
        except UnicodeDecodeError as error:
            raise self._stop(
                None, f"is not UTF-8 text (byte 0x{error.object[error.start]:02x} near line {self._records.line_num + 1})"
            ) from None
        except csv.Error as error:
            raise self._stop(self._rowno + 1, f"cannot be read as CSV: {error}") from None
        self._rowno += 1
        return record

    def _check_headings(self, headings: list[str]) -> None:
        if headings == list(CSV_HEADINGS):
            return
        expected = len(CSV_HEADINGS)
        if _is_blank(headings):
            raise self._stop(1, f"is empty; it must hold the {expected} LRB headings")
        reasons = []
        if len(headings) != expected:
            reasons.append(f"has {counted(len(headings), 'heading')}; an LRB file has {expected}")
        for position, (got, want) in enumerate(zip(headings, CSV_HEADINGS, strict=False), start=1):
            if got == want:
                continue
            if got.lower() == want.lower():
                reasons.append(f"heading {position} is {quote(got)}: write {want!r} (headings are case-sensitive)")
            elif CSV_SPELLING.get(got) == want:
                reasons.append(f"heading {position} is {quote(got)}: a CSV file spells it {want!r}")
            elif got in CSV_HEADINGS:
                reasons.append(f"heading {position} is {quote(got)}: expected {want!r} (the headings must be in the LRB order)")
            else:
                reasons.append(f"heading {position} is {quote(got)}: expected {want!r}")
            break  # after the first difference the rest usually follows from it
        for reason in reasons[:-1]:
            self._problem(1, None, reason)
        raise self._stop(1, reasons[-1])

    def _report_blank_rows(self) -> None:
        for row in self._blank_rows:
            self._problem(row, None, "is blank; blank rows are allowed only at the end of the file")
        self._blank_rows.clear()

    def _csv_rows(self) -> Iterator[LearnerRow]:
        assert self._first is not None  # read by _open_csv; the rows are read once
        row, first = self._first
        self._first = None
        self.learner_rows += 1
        yield self._csv_learner(row, first)
        while True:
            record = self._next_record()
            if record is None:
                return
            row = self._rowno
            if _is_blank(record):
                self._blank_rows.append(row)
                continue
            self._report_blank_rows()
            for name, value in zip(HEADER_FIELDS, record if len(record) == len(CSV_HEADINGS) else (), strict=False):
                if value != "":  # (in a row of the wrong width the cells may be shifted: its width is the problem)
                    self._problem(row, name, f"must be empty: the header values go on row {self._header_row} only")
            self.learner_rows += 1
            yield self._csv_learner(row, record)

    def _csv_learner(self, row: int, record: list[str]) -> LearnerRow:
        if len(record) != len(CSV_HEADINGS):
            why = f"has {counted(len(record), 'cell')}; every row has {len(CSV_HEADINGS)}, one per heading"
            return LearnerRow(row, {}, [Problem(row, None, why)])
        fields: dict[str, str] = {}
        problems: list[Problem] = []
        for spec, value in zip(rules_from_xsd().fields, itertools.islice(record, len(HEADER_FIELDS), None), strict=True):
            if value == "":
                if spec.mandatory:
                    problems.append(Problem(row, spec.heading, "is mandatory"))
                continue
            fields[spec.wire] = value
            bad = _NOT_XML_CHAR.search(value)
            reason = f"holds the character U+{ord(bad.group()):04X}, which is not allowed" if bad else spec.check(value)
            if reason:
                problems.append(Problem(row, spec.heading, reason))
        return LearnerRow(row, fields, problems)

    # -- XML

    def _open_xml(self) -> None:
        self._events = etree.iterparse(
            self._binary,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        self._depth = 0
        self._pending: list[tuple[str, etree._Element]] = []
        values: dict[str, str] = {}
        lines: dict[str, int] = {}
        order: list[str] = []
        try:
            for event, element in self._xml_events():
                if event == "start":
                    self._depth += 1
                    if self._depth == 1:
                        self._check_root(element)
                    elif self._depth == 2 and element.tag == LEARNER_TAG:
                        self._pending.append((event, element))
                        self._depth -= 1
                        break
                    continue
                if self._depth == 2:
                    self._header_element(element, values, lines, order)
                self._depth -= 1
        except _Fatal:
            return
        if [name for name in dict.fromkeys(order)] != [name for name in HEADER_FIELDS if name in values]:
            self._problem(None, None, "the header elements must come in the order " + ", ".join(HEADER_FIELDS))
        for name in HEADER_FIELDS:
            if name not in values:
                self._problem(None, name, "is missing: the file must start with " + ", ".join(HEADER_FIELDS))
        self._check_header_values({name: values.get(name) for name in HEADER_FIELDS}, None, lines)

    def _xml_events(self) -> Iterator[tuple[str, etree._Element]]:
        try:
            while self._pending:
                yield self._pending.pop(0)
            yield from self._events
        except etree.XMLSyntaxError as error:
            if error.lineno and error.lineno > 0:
                raise self._stop(None, f"not well-formed XML: {error.msg}", error.lineno) from None
            raise self._stop(None, "holds no XML element") from None

    def _check_root(self, root: etree._Element) -> None:
        if root.getroottree().docinfo.doctype:
            raise self._stop(None, "a DOCTYPE is not allowed in an LRB file")
        if root.tag != ROOT_TAG:
            raise self._stop(None, f"the root element is {_tag_text(str(root.tag))}; an LRB file in XML is {ROOT_TAG}")

    def _header_element(self, element: etree._Element, values: dict, lines: dict, order: list) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        line = element.sourceline
        if tag in HEADER_FIELDS:
            order.append(tag)
            if tag in values:
                self._problem(None, tag, f"appears more than once (line {line})", line)
            elif len(element):
                self._problem(None, tag, f"must hold text only, not elements (line {line})", line)
                values[tag], lines[tag] = "", line
            else:
                values[tag], lines[tag] = element.text or "", line
        else:
            self._unexpected_at_top(element)
        _release(element)

    def _unexpected_at_top(self, element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else "?"
        local = etree.QName(tag).localname if tag.startswith("{") else tag
        if local in HEADER_FIELDS and tag != local:
            reason = f"element {_tag_text(tag)} must be unqualified (no namespace) (line {element.sourceline})"
        elif local in HEADER_FIELDS:
            reason = f"element {local} is not allowed after the first BatchLearner (line {element.sourceline})"
        elif local == "BatchLearner":
            reason = f"element {_tag_text(tag)} must be in namespace {BATCHMSG} (line {element.sourceline})"
        else:
            reason = f"unexpected element {_tag_text(tag)} (line {element.sourceline})"
        self._problem(None, None, reason, element.sourceline)

    def _xml_rows(self) -> Iterator[LearnerRow]:
        number = 0
        for event, element in self._xml_events():
            if event == "start":
                self._depth += 1
                continue
            if self._depth == 2:
                if element.tag == LEARNER_TAG:
                    number += 1
                    self.learner_rows += 1
                    learner = self._xml_learner(number, element)
                    _release(element)
                    yield learner
                else:
                    self._unexpected_at_top(element)
                    _release(element)
            self._depth -= 1

    def _xml_learner(self, number: int, element: etree._Element) -> LearnerRow:
        rules = rules_from_xsd()
        fields: dict[str, str] = {}
        problems: list[Problem] = []
        seen: set[str] = set()
        unreadable: set[str] = set()  # fields holding elements: already reported
        last = -1
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            position = rules.index.get(tag)
            line = child.sourceline
            if position is None:
                local = etree.QName(tag).localname
                if local in rules.index:
                    why = f"must be unqualified (no namespace), not in {etree.QName(tag).namespace} (line {line})"
                else:
                    why = f"is not a BatchLearner field (line {line})"
                problems.append(Problem(number, local, why, "learner", line))
                continue
            if tag in seen:
                problems.append(Problem(number, tag, f"appears more than once (line {line})", "learner", line))
                continue
            seen.add(tag)
            if position < last:
                before = rules.fields[last].wire
                problems.append(Problem(number, tag, f"is out of order: it must come before {before} (line {line})", "learner", line))
            else:
                last = position
            if len(child):
                problems.append(Problem(number, tag, f"must hold text only, not elements (line {line})", "learner", line))
                unreadable.add(tag)
                continue
            value = child.text or ""
            if value == "":
                continue
            fields[tag] = value
            reason = rules.fields[position].check(value)
            if reason:
                problems.append(Problem(number, tag, reason, "learner", line))
        for spec in rules.fields:
            if spec.mandatory and spec.wire not in fields and spec.wire not in unreadable:
                problems.append(Problem(number, spec.wire, "is mandatory", "learner", element.sourceline))
        return LearnerRow(number, fields, problems)


def _is_blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


def _tag_text(tag: str) -> str:
    return tag if tag.startswith("{") else f"{tag} (no namespace)"


def _release(element: etree._Element) -> None:
    """Free a processed element and its earlier siblings: memory stays flat however long the file."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def open_lrb(path: str | os.PathLike, *, name: str | None = None, ukprn: str | None = None) -> LrbReader:
    """Open an LRB file and read its header (see the module docstring). Raises OSError when the
    file cannot be opened; everything else wrong with it is in ``file_problems``."""
    return LrbReader(path, name=name, ukprn=ukprn)

