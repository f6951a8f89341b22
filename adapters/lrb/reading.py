"""LRB batch files: the portal's CSV and XML learner upload format, read as a stream, checked,
and written.

An LRB file is named ``LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV`` or ``.XML`` (upper-case extension; the
extension gives the format). It carries four header values (FileVersion ``2A``, FileName,
UKPRN, LearnerRecordCount) and one learner per row or ``BatchLearner`` element, each with the
26 MIAP ``BatchLearner`` fields (``lrs_ws.domain.batch.BATCH_FIELDS``).

* **CSV**: row 1 holds the 30 headings (``CSV_HEADINGS``: the four header names, then the
  BatchLearner names, two of them spelt the portal's way: ``FamilyNameAt16`` and
  ``LastKnownAddressCountyorCity``), case-sensitive and in order. Row 2 holds the header values
  *and* the first learner; on later rows the four header columns are empty. Every row has 30
  cells. UTF-8, with or without a BOM. Blank rows at the end are ignored; a blank row between
  learner rows is a problem.
* **XML** (our reading): root ``{http://api.lrs.miap.gov.uk/batchmsg}LRBBatchFile`` holding
  the unqualified FileVersion, FileName, UKPRN and LearnerRecordCount, then one
  ``batchmsg:BatchLearner`` per learner whose unqualified children are BatchLearner fields in
  schema order (``xsd/batch-messages.xsd``). Read with ``lxml.etree.iterparse``, one learner at
  a time, with no DTD, no entities and no network; a DOCTYPE is refused.

Every learner field is checked against the facets of its simple type in ``xsd/learner.xsd``
(lengths, patterns, enumerations), compiled once to Python regular expressions; date fields
must also be real calendar dates. An empty cell or empty or absent element means "not
supplied" and is fine, except for the mandatory GivenName and FamilyName (our reading: a CSV
cannot tell empty from absent, so an empty AbilityToShare or VerificationType element is
accepted too, although the XSD types do not allow the empty string). The patterns are
translated by elementpath (a dependency of xmlschema), as xmlschema does.

Rows are numbered as the user sees them. In a CSV file that is the spreadsheet row: row 1 is
the headings, row 2 the first learner (a cell holding a line break does not start a new row).
In an XML file learners are numbered 1..n in document order and problems say ``learner N``;
structural problems also give the element's source line.

API
---
``Problem(row, column, reason, unit="row")``
    One problem; ``str()`` gives ``row 5, DateOfBirth: ...`` (``learner 5, ...`` in XML),
    ``row 1: ...`` without a column, ``file name: ...`` or ``UKPRN: ...`` for a file-level
    problem without a row, and ``file: ...`` with neither.
``Header(file_version, file_name, ukprn, learner_record_count)``
    The header values as read (``learner_record_count`` is an int, or None when not a number).
``LearnerRow(row, fields, problems)``
    One learner: ``fields`` maps wire names (BATCH_FIELDS) to the text of the supplied
    (non-empty) cells, valid or not; ``problems`` are that row's cell and structure problems.
``open_lrb(path, *, name=None, ukprn=None) -> LrbReader``
    Opens the file (``OSError`` if it cannot be read) and reads the headings and header.
    ``LrbReader`` is a context manager with ``.format`` ("CSV" or "XML"), ``.name``,
    ``.header`` (``Header``, or None when the headings, the root or the header row are
    missing), ``.rows()`` (a generator of ``LearnerRow``, streaming, once only),
    ``.file_problems`` (a list that grows as the file is read: name, headings or root, header
    values, header cells on later rows, blank rows, unreadable data; the LearnerRecordCount
    check is appended when ``rows()`` runs to its end), ``.learner_rows`` and ``.bytes_read``.
    ``name`` is the file's name as uploaded when ``path`` is a temporary copy; ``ukprn`` is
    the submitting organisation's, checked against the name and the header when given. When
    the file cannot be read as an LRB file at all (headings, root, not UTF-8, not well-formed
    XML), ``rows()`` yields nothing more and ``.fatal`` is true.
``validate(path, *, ukprn=None, name=None, progress=None) -> Validation``
    One streaming pass: iterate the result (once) for every problem in file order; when the
    iteration ends, ``.learner_rows``, ``.rows_with_problems``, ``.file_problem_count``,
    ``.row_problem_count``, ``.problem_count``, ``.ok`` and ``.summary()`` (the report's last
    line) are final. ``progress(bytes_read)`` is called every 1,000 learners (``.size`` is the
    file's size). The file is opened at once (``OSError``); a context manager closes it.
``check_field(wire_name, value) -> str | None``, ``check_ukprn(value) -> str | None``
    The reason a non-empty BatchLearner value breaks its facets (or a UKPRN is malformed), or
    None.
``write_lrb(path, header, learners, *, fmt=None) -> int``
    Write an input file (CSV or XML; by default from the path's extension), streaming; returns
    the number of learners written. Learners are mappings wire name -> text; empty or absent
    fields are left out (XML) or empty (CSV).
``write_output(path, fmt, header, rows) -> int``
    Write a job's output file: rows are ``(fields as sent, ReturnCode)``; CSV gets the 30 input
    headings plus ``ReturnCode`` (header values on the first data row only), XML gets
    ``LRBBatchOutputFile`` with ``OutputBatchLearner`` children. Streaming (``etree.xmlfile``).
``output_file_name(input_name) -> str``
    ``LRB_<UKPRN>_<DDMMYYYYHHMM>_OUTPUT.CSV`` (or ``.XML``) for a valid input name.
``file_name_for(ukprn, moment, fmt) -> str``
    The name of an input file made at ``moment``.
"""
from __future__ import annotations

import csv
import functools
import io
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from elementpath.regex import translate_pattern
from lxml import etree

from lrs_ws.domain.batch import BATCH_FIELDS
from lrs_ws.domain.learner import DATE_FIELDS, WIRE_NAMES
from lrs_ws.soap import contract
from lrs_ws.soap.namespaces import BATCHMSG, LEARNER

__all__ = [
    "BATCHMSG",
    "CSV_HEADINGS",
    "HEADER_FIELDS",
    "LEARNER_HEADINGS",
    "OUTPUT_CSV_HEADINGS",
    "Header",
    "LearnerRow",
    "LrbReader",
    "Problem",
    "Validation",
    "check_field",
    "check_ukprn",
    "file_name_for",
    "open_lrb",
    "output_file_name",
    "validate",
    "write_lrb",
    "write_output",
]

ROOT_TAG = f"{{{BATCHMSG}}}LRBBatchFile"
LEARNER_TAG = f"{{{BATCHMSG}}}BatchLearner"
OUTPUT_ROOT_TAG = f"{{{BATCHMSG}}}LRBBatchOutputFile"
OUTPUT_LEARNER_TAG = f"{{{BATCHMSG}}}OutputBatchLearner"
FORMATS = ("CSV", "XML")

HEADER_FIELDS: tuple[str, ...] = ("FileVersion", "FileName", "UKPRN", "LearnerRecordCount")
# The portal's CSV spells two headings differently from the XML element names.
_CSV_SPELLING = {
    "FamilyNameAtAge16": "FamilyNameAt16",
    "LastKnownAddressCountyOrCity": "LastKnownAddressCountyorCity",
}
LEARNER_HEADINGS: tuple[str, ...] = tuple(_CSV_SPELLING.get(wire, wire) for wire in BATCH_FIELDS)
CSV_HEADINGS: tuple[str, ...] = HEADER_FIELDS + LEARNER_HEADINGS
OUTPUT_CSV_HEADINGS: tuple[str, ...] = CSV_HEADINGS + ("ReturnCode",)
_HEADER_ROW = 2  # CSV row of the header values (and the first learner)
_EMPTY_HEADER = ("",) * len(HEADER_FIELDS)

# The file name rule of the portal's quick reference guide.
_STAMP = r"(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{4}([01][0-9]|2[0-3])[0-5][0-9]"  # DDMMYYYYHHMM
_FILE_NAME = re.compile(rf"LRB_(?P<ukprn>[0-9A-Za-z]{{8}})_(?P<stamp>{_STAMP})\.(?P<ext>CSV|XML)")
_LOOSE_NAME = re.compile(r"LRB_(?P<ukprn>[^_]*)_(?P<stamp>[^.]*)\.(?P<ext>[^.]*)", re.IGNORECASE)

# Characters XML 1.0 cannot carry: a CSV cell holding one could never be stored or sent back.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SPREADSHEET_DATE = re.compile(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")
_XS = "http://www.w3.org/2001/XMLSchema"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Problem:
    """One problem: ``row`` as the user numbers it (None for the file as a whole), ``column`` a
    CSV heading, XML element or label such as ``file name`` (None for a whole row), ``reason``
    a short sentence. ``unit`` is what ``row`` counts: ``row`` (CSV) or ``learner`` (XML)."""

    row: int | None
    column: str | None
    reason: str
    unit: str = "row"

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


# --------------------------------------------------------------------------- facets from our XSD


@dataclass(frozen=True)
class _Facets:
    name: str
    builtin: str  # local name of the XML Schema type at the root of the derivation
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: int | None = None
    max_inclusive: int | None = None
    enumeration: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()  # one per derivation step: its patterns OR-ed; all must hold
    doc: str = ""


_INTEGER_TYPES = frozenset({"int", "integer", "long", "short", "positiveInteger", "nonNegativeInteger"})
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _qname(value: str, context: etree._Element) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{context.nsmap.get(prefix or None, '')}}}{local}"


@functools.lru_cache(maxsize=1)
def _schema_documents() -> tuple[etree._Element, ...]:
    return tuple(etree.parse(str(path), contract.parser()).getroot() for path in sorted(contract.XSD_DIR.glob("*.xsd")))


@functools.lru_cache(maxsize=1)
def _simple_type_elements() -> dict[str, etree._Element]:
    found: dict[str, etree._Element] = {}
    for root in _schema_documents():
        tns = root.get("targetNamespace", "")
        for st in root.iterfind(f"{{{_XS}}}simpleType"):
            found[f"{{{tns}}}{st.get('name')}"] = st
    return found


@functools.cache
def _facets(type_name: str) -> _Facets:
    """The facets of one of our named simple types, its restriction chain folded in."""
    st = _simple_type_elements().get(type_name)
    if st is None:
        raise RuntimeError(f"lrb_files: simple type {type_name} is not in xsd/")
    restriction = st.find(f"{{{_XS}}}restriction")
    if restriction is None:
        raise RuntimeError(f"lrb_files: {type_name} is not a restriction")
    base = _qname(restriction.get("base", ""), restriction)
    if base.startswith(f"{{{_XS}}}"):
        parent = _Facets(name="", builtin=base.split("}")[1])
    else:
        parent = _facets(base)
    if parent.builtin != "string" and parent.builtin not in _INTEGER_TYPES:
        raise RuntimeError(f"lrb_files: {type_name} derives from xs:{parent.builtin}, which is not supported")
    values: dict[str, list[str]] = {}
    for facet in restriction:
        if isinstance(facet.tag, str) and facet.tag != f"{{{_XS}}}annotation":
            values.setdefault(facet.tag.split("}")[1], []).append(facet.get("value", ""))
    unknown = set(values) - {"length", "minLength", "maxLength", "minInclusive", "maxInclusive", "enumeration", "pattern", "whiteSpace"}
    if unknown:
        raise RuntimeError(f"lrb_files: {type_name} uses facets {sorted(unknown)}, which are not supported")

    def number(name: str, default: int | None) -> int | None:
        return int(values[name][0]) if name in values else default

    patterns = parent.patterns
    if "pattern" in values:
        # Each translated pattern is anchored as a whole, so an alternation of them is their OR.
        translated = [translate_pattern(p, back_references=False, lazy_quantifiers=False, anchors=False) for p in values["pattern"]]
        patterns = patterns + (re.compile("|".join(translated)),)
    return _Facets(
        name=st.get("name", ""),
        builtin=parent.builtin,
        length=number("length", parent.length),
        min_length=number("minLength", parent.min_length),
        max_length=number("maxLength", parent.max_length),
        min_inclusive=number("minInclusive", parent.min_inclusive),
        max_inclusive=number("maxInclusive", parent.max_inclusive),
        enumeration=tuple(values["enumeration"]) if "enumeration" in values else parent.enumeration,
        patterns=patterns,
        doc=_documentation(type_name),
    )


def _documentation(type_name: str) -> str:
    """The type's documentation, first sentence, as contract.py reads it."""
    simple = contract._type_index().simple.get(type_name)
    return simple.doc if simple is not None else ""


def _what_it_must_be(type_name: str, seen: frozenset[str] = frozenset()) -> str:
    """What a value of the type is, from its xs:documentation: 'a ULN (10 digits, the first
    not 0)'; a type documented as 'A MIAPX, or ...' borrows MIAPX's; clauses about the empty
    string or after a top-level ';' are dropped."""
    doc = _documentation(type_name)
    ns = type_name[1:].split("}")[0]
    borrowed = re.match(r"An? (MIAP\w+)\b(.*)", doc)
    if borrowed and f"{{{ns}}}{borrowed.group(1)}" not in seen and f"{{{ns}}}{borrowed.group(1)}" in _simple_type_elements():
        return _what_it_must_be(f"{{{ns}}}{borrowed.group(1)}", seen | {type_name})
    doc = re.sub(r",? or the empty string.*$", "", doc)
    depth = 0
    for index, char in enumerate(doc):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            doc = doc[:index]
            break
    return doc.strip()


def _quote(value: str) -> str:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return "'" + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown) + "'"


def _characters(n: int) -> str:
    return f"{n:,} character" + ("" if n == 1 else "s")


Check = Callable[[str], "str | None"]


def _compile_check(type_name: str, *, calendar_date: bool = False) -> Check:
    """A function giving the reason a non-empty value breaks the type's facets, or None."""
    facets = _facets(type_name)
    length, min_length, max_length = facets.length, facets.min_length, facets.max_length
    low, high = facets.min_inclusive, facets.max_inclusive
    integer = facets.builtin in _INTEGER_TYPES
    enumeration = frozenset(facets.enumeration)
    if facets.enumeration:
        allowed = facets.enumeration[0] if len(facets.enumeration) == 1 else "one of " + ", ".join(facets.enumeration)
    patterns = tuple(p.match for p in facets.patterns)
    what = _what_it_must_be(type_name)
    if what[:2] in ("A ", "a ") or what[:3] in ("An ", "an "):
        mismatch = "is not " + what[0].lower() + what[1:]
    elif what:
        mismatch = f"is not valid ({what})"
    else:
        mismatch = f"does not match the pattern of {facets.name}"

    def check(value: str) -> str | None:
        n = len(value)
        if max_length is not None and n > max_length:
            return f"is {_characters(n)} long; at most {_characters(max_length)} allowed"
        if min_length is not None and n < min_length:
            return f"is {_characters(n)} long; at least {_characters(min_length)} needed"
        if length is not None and n != length:
            return f"is {_characters(n)} long; it must be exactly {_characters(length)}"
        if integer:
            text = value.strip()
            if not _INTEGER.fullmatch(text):
                return f"{_quote(value)} is not a whole number"
            number = int(text)
            if low is not None and number < low:
                return f"{number} is too small: at least {low}"
            if high is not None and number > high:
                return f"{number} is too large: at most {high}"
        if enumeration and value not in enumeration:
            return f"{_quote(value)} is not allowed: must be {allowed}"
        for match in patterns:
            if match(value) is None:
                hint = " (a spreadsheet may have rewritten it)" if calendar_date and _SPREADSHEET_DATE.fullmatch(value) else ""
                return f"{_quote(value)} {mismatch}{hint}"
        if calendar_date:
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"{_quote(value)} is not a date in the calendar"
        return None

    return check


@dataclass(frozen=True)
class _Field:
    wire: str  # BatchLearner element name
    heading: str  # CSV heading
    check: Check
    mandatory: bool


@dataclass(frozen=True)
class _Rules:
    fields: tuple[_Field, ...]  # in BATCH_FIELDS order
    by_wire: dict[str, _Field]
    index: dict[str, int]  # wire name -> position
    header: dict[str, Check]  # header name -> check
    ukprn: Check


@functools.lru_cache(maxsize=1)
def _rules() -> _Rules:
    """The checks of every field, derived once from xsd/ (fails loudly if the XSD drifts)."""
    children = contract._type_index().children.get(f"{{{LEARNER}}}BatchLearner")
    if children is None or tuple(c.tag for c in children) != BATCH_FIELDS:
        raise RuntimeError("lrb_files: the BatchLearner type of xsd/learner.xsd no longer matches BATCH_FIELDS")
    date_fields = {WIRE_NAMES[name] for name in DATE_FIELDS}
    fields = tuple(
        _Field(
            wire=child.tag,
            heading=_CSV_SPELLING.get(child.tag, child.tag),
            check=_compile_check(child.type, calendar_date=child.tag in date_fields),
            mandatory=child.mandatory,
        )
        for child in children
    )
    header_types: dict[str, str] = {}
    for root in _schema_documents():
        if root.get("targetNamespace") != BATCHMSG:
            continue
        for el in root.iterfind(f"{{{_XS}}}element[@name='LRBBatchFile']/{{{_XS}}}complexType/{{{_XS}}}sequence/{{{_XS}}}element"):
            if name := el.get("name"):
                header_types[name] = _qname(el.get("type", ""), el)
    if tuple(header_types) != HEADER_FIELDS:
        raise RuntimeError("lrb_files: the LRBBatchFile header of xsd/batch-messages.xsd no longer matches HEADER_FIELDS")
    header = {name: _compile_check(type_name) for name, type_name in header_types.items()}
    return _Rules(
        fields=fields,
        by_wire={f.wire: f for f in fields},
        index={f.wire: i for i, f in enumerate(fields)},
        header=header,
        ukprn=header["UKPRN"],
    )


def check_ukprn(value: str) -> str | None:
    """Why a UKPRN is malformed (MIAPUKPRN), or None."""
    return _rules().ukprn(value)


def check_field(wire_name: str, value: str) -> str | None:
    """Why a non-empty value of a BatchLearner field breaks its facets, or None when it is fine."""
    return _rules().by_wire[wire_name].check(value)


# --------------------------------------------------------------------------- file names


def _name_problems(name: str) -> tuple[list[str], str | None]:
    """Reasons the name breaks the LRB rule, and the UKPRN it names (None unless well formed)."""
    match = _FILE_NAME.fullmatch(name)
    if match:
        return [], match.group("ukprn")
    reasons: list[str] = []
    stem, dot, ext = name.rpartition(".")
    if dot and ext.upper() in FORMATS:
        reasons.append(f"the extension must be upper case: .{ext.upper()}, not .{ext}")
        match = _FILE_NAME.fullmatch(f"{stem}.{ext.upper()}")
        if match:
            return reasons, match.group("ukprn")
    else:
        reasons.append("the name must end in .CSV or .XML")
    loose = _LOOSE_NAME.fullmatch(name)
    if loose and stem.startswith("LRB_"):
        if not re.fullmatch(r"[0-9A-Za-z]{8}", loose.group("ukprn")):
            reasons.append(f"the UKPRN in the name, {_quote(loose.group('ukprn'))}, is not 8 letters or digits")
        if not re.fullmatch(_STAMP, loose.group("stamp")):
            reasons.append(f"{_quote(loose.group('stamp'))} in the name is not a date and time written DDMMYYYYHHMM")
    else:
        reasons.append(f"{_quote(name)} is not named LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML")
    return reasons, None


def file_name_for(ukprn: str, moment: datetime, fmt: str = "CSV") -> str:
    """The LRB name of a file of ``ukprn`` made at ``moment``: ``LRB_10000001_150920250930.CSV``."""
    name = f"LRB_{ukprn}_{moment:%d%m%Y%H%M}.{fmt.upper()}"
    if not _FILE_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid LRB file name")
    return name


def output_file_name(input_name: str) -> str:
    """``LRB_<UKPRN>_<DDMMYYYYHHMM>_OUTPUT.CSV`` (or ``.XML``) for a valid input file name."""
    name = os.path.basename(input_name)
    match = _FILE_NAME.fullmatch(name)
    if not match:
        raise ValueError(f"{name!r} is not an LRB file name (LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML)")
    return f"LRB_{match.group('ukprn')}_{match.group('stamp')}_OUTPUT.{match.group('ext')}"


# --------------------------------------------------------------------------- reading


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
            reasons, self._name_ukprn = _name_problems(self.name)
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

    def _problem(self, row: int | None, column: str | None, reason: str) -> None:
        self.file_problems.append(Problem(row, column, reason, self.unit))

    def _stop(self, row: int | None, reason: str) -> _Fatal:
        self.fatal = True
        self._problem(row, None, reason)
        return _Fatal()

    def _check_header_values(self, values: Mapping[str, str | None], row: int | None, lines: Mapping[str, int] | None = None) -> None:
        rules = _rules()
        lines = lines or {}
        for name in HEADER_FIELDS:
            value = values.get(name)
            at = f" (line {lines[name]})" if name in lines else ""
            if value is None:
                continue  # absent XML element: already reported
            if not value.strip():
                self._problem(row, name, f"is mandatory{at}")
                continue
            reason = rules.header[name](value)
            if reason:
                self._problem(row, name, reason + at)
        count = values.get("LearnerRecordCount") or ""
        self.header = Header(
            file_version=values.get("FileVersion") or "",
            file_name=values.get("FileName") or "",
            ukprn=values.get("UKPRN") or "",
            learner_record_count=int(count.strip()) if _INTEGER.fullmatch(count.strip()) else None,
        )

    def _check_ukprns(self) -> None:
        if self.header is None:
            if self.ukprn and self._name_ukprn and self._name_ukprn != self.ukprn:
                self._problem(None, "file name", f"the UKPRN in the name, {self._name_ukprn}, is not your organisation's ({self.ukprn})")
            return
        header_ukprn = self.header.ukprn
        if not header_ukprn or _rules().ukprn(header_ukprn):
            header_ukprn = ""  # missing or malformed: reported already
        row = self._header_row
        if self.ukprn:
            if self._name_ukprn and self._name_ukprn != self.ukprn:
                self._problem(None, "file name", f"the UKPRN in the name, {self._name_ukprn}, is not your organisation's ({self.ukprn})")
            if header_ukprn and header_ukprn != self.ukprn:
                self._problem(row, "UKPRN", f"{_quote(header_ukprn)} is not your organisation's UKPRN ({self.ukprn})")
        elif self._name_ukprn and header_ukprn and self._name_ukprn != header_ukprn:
            self._problem(row, "UKPRN", f"{_quote(header_ukprn)} is not the UKPRN in the file name ({self._name_ukprn})")

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
                    raise self._stop(None, f"has no learner rows: row {_HEADER_ROW} must hold the header values and the first learner")
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
            reasons.append(f"has {_counted(len(headings), 'heading')}; an LRB file has {expected}")
        for position, (got, want) in enumerate(zip(headings, CSV_HEADINGS, strict=False), start=1):
            if got == want:
                continue
            if got.lower() == want.lower():
                reasons.append(f"heading {position} is {_quote(got)}: write {want!r} (headings are case-sensitive)")
            elif _CSV_SPELLING.get(got) == want:
                reasons.append(f"heading {position} is {_quote(got)}: a CSV file spells it {want!r}")
            elif got in CSV_HEADINGS:
                reasons.append(f"heading {position} is {_quote(got)}: expected {want!r} (the headings must be in the LRB order)")
            else:
                reasons.append(f"heading {position} is {_quote(got)}: expected {want!r}")
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
            why = f"has {_counted(len(record), 'cell')}; every row has {len(CSV_HEADINGS)}, one per heading"
            return LearnerRow(row, {}, [Problem(row, None, why)])
        fields: dict[str, str] = {}
        problems: list[Problem] = []
        for spec, value in zip(_rules().fields, itertools.islice(record, len(HEADER_FIELDS), None), strict=True):
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
                raise self._stop(None, f"not well-formed XML: {error.msg}") from None
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
                self._problem(None, tag, f"appears more than once (line {line})")
            elif len(element):
                self._problem(None, tag, f"must hold text only, not elements (line {line})")
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
        self._problem(None, None, reason)

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
        rules = _rules()
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
                problems.append(Problem(number, local, why, "learner"))
                continue
            if tag in seen:
                problems.append(Problem(number, tag, f"appears more than once (line {line})", "learner"))
                continue
            seen.add(tag)
            if position < last:
                before = rules.fields[last].wire
                problems.append(Problem(number, tag, f"is out of order: it must come before {before} (line {line})", "learner"))
            else:
                last = position
            if len(child):
                problems.append(Problem(number, tag, f"must hold text only, not elements (line {line})", "learner"))
                unreadable.add(tag)
                continue
            value = child.text or ""
            if value == "":
                continue
            fields[tag] = value
            reason = rules.fields[position].check(value)
            if reason:
                problems.append(Problem(number, tag, reason, "learner"))
        for spec in rules.fields:
            if spec.mandatory and spec.wire not in fields and spec.wire not in unreadable:
                problems.append(Problem(number, spec.wire, "is mandatory", "learner"))
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


class Validation:
    """One streaming pass over an LRB file: iterate it (once) for every problem, in file order.

    The file is opened at once (OSError if it cannot be); the counts are final when the
    iteration has ended. Usable as a context manager, which closes the file.
    """

    PROGRESS_EVERY = 1000  # learner rows between calls of ``progress``

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        ukprn: str | None = None,
        name: str | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> None:
        self.reader = open_lrb(path, name=name, ukprn=ukprn)
        self.progress = progress
        self.name = self.reader.name
        self.format = self.reader.format
        self.header = self.reader.header
        self.size = self.reader.size
        self.learner_rows = 0
        self.rows_with_problems = 0
        self.file_problem_count = 0
        self.row_problem_count = 0

    def __enter__(self) -> Validation:
        return self

    def __exit__(self, *exc) -> None:
        self.reader.close()

    @property
    def bytes_read(self) -> int:
        return self.reader.bytes_read

    @property
    def problem_count(self) -> int:
        return self.file_problem_count + self.row_problem_count

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def __iter__(self) -> Iterator[Problem]:
        reader = self.reader
        shown = 0

        def new_file_problems() -> list[Problem]:
            nonlocal shown
            fresh = reader.file_problems[shown:]
            shown = len(reader.file_problems)
            self.file_problem_count += len(fresh)
            return fresh

        try:
            yield from new_file_problems()
            for row in reader.rows():
                yield from new_file_problems()
                self.learner_rows += 1
                if row.problems:
                    self.rows_with_problems += 1
                    self.row_problem_count += len(row.problems)
                    yield from row.problems
                if self.progress is not None and self.learner_rows % self.PROGRESS_EVERY == 0:
                    self.progress(reader.bytes_read)
            yield from new_file_problems()
            if self.progress is not None:
                self.progress(self.size)
        finally:
            reader.close()

    def summary(self) -> str:
        """One line for the end of a report: ``LRB_...CSV valid: 1,000 learner rows`` or
        ``LRB_...CSV: 3 problems in 2 of 1,000 learner rows`` (final once iterated)."""
        noun = "learner row" if self.format == "CSV" else "learner"
        rows = _counted(self.learner_rows, noun)
        if self.ok:
            return f"{self.name} valid: {rows}"
        in_rows = f"{_counted(self.row_problem_count, 'problem')} in {self.rows_with_problems:,} of {rows}"
        if not self.file_problem_count:
            return f"{self.name}: {in_rows}"
        with_file = f"{self.file_problem_count:,} with the file"
        if not self.row_problem_count:
            return f"{self.name}: {_counted(self.problem_count, 'problem')} with the file; {rows}"
        return f"{self.name}: {_counted(self.problem_count, 'problem')}: {with_file}, {self.row_problem_count:,} in {self.rows_with_problems:,} of {rows}"


def _counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def validate(
    path: str | os.PathLike,
    *,
    ukprn: str | None = None,
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Validation:
    """Check a whole LRB file in one streaming pass; iterate the result for the problems.
    ``progress``, when given, is called with the bytes read so far every 1,000 learners."""
    return Validation(path, ukprn=ukprn, name=name, progress=progress)


# --------------------------------------------------------------------------- writing


def _format(fmt: str | None, path: str | os.PathLike) -> str:
    chosen = (fmt or Path(path).suffix.lstrip(".")).upper()
    if chosen not in FORMATS:
        raise ValueError(f"format must be CSV or XML, not {fmt or Path(path).suffix!r}")
    return chosen


def _learner_cells(learner: Mapping[str, str]) -> list[str]:
    unknown = learner.keys() - _FIELD_SET
    if unknown:
        raise ValueError(f"not BatchLearner fields: {', '.join(sorted(unknown))}")
    return [learner.get(name) or "" for name in BATCH_FIELDS]


_FIELD_SET = frozenset(BATCH_FIELDS)


def _return_code(code: object) -> str:
    return str(code.value if isinstance(code, Enum) else code or "")


def _write_csv(path, headings, header: Header, rows: Iterable[list[str]], width: int) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headings)
        header_cells = list(header.values())
        for cells in rows:
            writer.writerow((header_cells if count == 0 else list(_EMPTY_HEADER)) + cells)
            count += 1
        if count == 0:
            writer.writerow(header_cells + [""] * width)
    return count


def _write_xml(path, root_tag: str, learner_tag: str, header: Header, rows: Iterable[tuple[Mapping[str, str], str | None]]) -> int:
    count = 0
    with open(path, "wb") as handle:
        with etree.xmlfile(handle, encoding="UTF-8") as xf:
            xf.write_declaration()
            with xf.element(root_tag, nsmap={"batch": BATCHMSG}):
                for name, text in zip(HEADER_FIELDS, header.values(), strict=True):
                    xf.write("\n  ")
                    xf.write(_text_element(name, text))
                for fields, code in rows:
                    xf.write("\n  ")
                    with xf.element(learner_tag):
                        for name in BATCH_FIELDS:
                            value = fields.get(name)
                            if value:
                                xf.write("\n    ")
                                xf.write(_text_element(name, value))
                        if code is not None:
                            xf.write("\n    ")
                            xf.write(_text_element("ReturnCode", code))
                        xf.write("\n  ")
                    count += 1
                xf.write("\n")
        handle.write(b"\n")  # after the root element, where xmlfile writes nothing
    return count


def _text_element(name: str, text: str) -> etree._Element:
    element = etree.Element(name)
    element.text = text
    return element


def write_lrb(path: str | os.PathLike, header: Header, learners: Iterable[Mapping[str, str]], *, fmt: str | None = None) -> int:
    """Write an LRB input file, streaming; the format is ``fmt`` or the path's extension.
    Returns the number of learners written (``header`` is written as given)."""
    chosen = _format(fmt, path)
    if chosen == "CSV":
        return _write_csv(path, CSV_HEADINGS, header, (_learner_cells(learner) for learner in learners), len(BATCH_FIELDS))

    def checked() -> Iterator[tuple[Mapping[str, str], None]]:
        for learner in learners:
            _learner_cells(learner)
            yield learner, None

    return _write_xml(path, ROOT_TAG, LEARNER_TAG, header, checked())


def write_output(
    path: str | os.PathLike, fmt: str, header: Header, rows: Iterable[tuple[Mapping[str, str], object]]
) -> int:
    """Write a job's output file, streaming: each row is (the fields as sent, its ReturnCode,
    a string or a ReturnCode). Returns the number of learners written."""
    chosen = _format(fmt, path)
    if chosen == "CSV":
        cells = (_learner_cells(fields) + [_return_code(code)] for fields, code in rows)
        return _write_csv(path, OUTPUT_CSV_HEADINGS, header, cells, len(BATCH_FIELDS) + 1)

    def checked() -> Iterator[tuple[Mapping[str, str], str]]:
        for fields, code in rows:
            _learner_cells(fields)
            yield fields, _return_code(code)

    return _write_xml(path, OUTPUT_ROOT_TAG, OUTPUT_LEARNER_TAG, header, checked())
