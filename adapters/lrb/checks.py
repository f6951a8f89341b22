"""The checks of an LRB file's values: each field's facets in our XSD (xsd/learner.xsd and
xsd/batch-messages.xsd, through the contract's type index), compiled once to Python.

Lengths, numeric bounds, enumerations and patterns are checked in that order; the XSD
patterns are translated by elementpath (a dependency of xmlschema), as xmlschema does. Date
fields must also be real calendar dates. A type using anything else fails loudly.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from elementpath.regex import translate_pattern

from lrs_ws.adapters.lrb.layout import CSV_SPELLING, HEADER_FIELDS, quote
from lrs_ws.contract import SimpleType, type_index
from lrs_ws.contract.namespaces import BATCHMSG, LEARNER
from lrs_ws.domain.learner import DATE_FIELDS, WIRE_NAMES

INTEGER = re.compile(r"[+-]?[0-9]+")
_INTEGER_TYPES = frozenset({"int", "integer", "long", "short", "positiveInteger", "nonNegativeInteger"})
_FACETS = frozenset({"length", "minLength", "maxLength", "minInclusive", "maxInclusive", "enumeration", "pattern", "whiteSpace"})
_SPREADSHEET_DATE = re.compile(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")

Check = Callable[[str], "str | None"]


def _simple_type(type_name: str) -> SimpleType:
    """One of our simple types, refused unless its checks can be compiled."""
    facets = type_index().simple.get(type_name)
    if facets is None:
        raise RuntimeError(f"LRB checks: simple type {type_name} is not in xsd/")
    if facets.builtin != "string" and facets.builtin not in _INTEGER_TYPES:
        raise RuntimeError(f"LRB checks: {type_name} derives from xs:{facets.builtin or '?'}, which is not supported")
    unknown = facets.facet_names - _FACETS
    if unknown:
        raise RuntimeError(f"LRB checks: {type_name} uses facets {sorted(unknown)}, which are not supported")
    return facets


@functools.cache
def _python_pattern(step: tuple[str, ...]) -> re.Pattern[str]:
    """The patterns of one derivation step as one Python regular expression (their OR)."""
    # Each translated pattern is anchored as a whole, so an alternation of them is their OR.
    translated = [translate_pattern(p, back_references=False, lazy_quantifiers=False, anchors=False) for p in step]
    return re.compile("|".join(translated))


def _what_it_must_be(type_name: str, seen: frozenset[str] = frozenset()) -> str:
    """What a value of the type is, from its xs:documentation: 'a ULN (10 digits, the first
    not 0)'; a type documented as 'A MIAPX, or ...' borrows MIAPX's; clauses about the empty
    string or after a top-level ';' are dropped."""
    simple = type_index().simple.get(type_name)
    doc = simple.doc if simple is not None else ""
    ns = type_name[1:].split("}")[0]
    borrowed = re.match(r"An? (MIAP\w+)\b(.*)", doc)
    if borrowed and f"{{{ns}}}{borrowed.group(1)}" not in seen and f"{{{ns}}}{borrowed.group(1)}" in type_index().simple:
        return _what_it_must_be(f"{{{ns}}}{borrowed.group(1)}", seen | {type_name})
    doc = re.sub(r",? or the empty string.*$", "", doc)
    depth = 0
    for index, char in enumerate(doc):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            doc = doc[:index]
            break
    return doc.strip()


def _characters(n: int) -> str:
    return f"{n:,} character" + ("" if n == 1 else "s")


def _compile_check(type_name: str, *, calendar_date: bool = False) -> Check:
    """A function giving the reason a non-empty value breaks the type's facets, or None."""
    facets = _simple_type(type_name)
    length, min_length, max_length = facets.length, facets.min_length, facets.max_length
    integer = facets.builtin in _INTEGER_TYPES
    low = None if facets.min_inclusive is None else int(facets.min_inclusive)
    high = None if facets.max_inclusive is None else int(facets.max_inclusive)
    enumeration = frozenset(facets.enumeration)
    if facets.enumeration:
        allowed = facets.enumeration[0] if len(facets.enumeration) == 1 else "one of " + ", ".join(facets.enumeration)
    patterns = tuple(_python_pattern(step).match for step in facets.patterns)
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
            if not INTEGER.fullmatch(text):
                return f"{quote(value)} is not a whole number"
            number = int(text)
            if low is not None and number < low:
                return f"{number} is too small: at least {low}"
            if high is not None and number > high:
                return f"{number} is too large: at most {high}"
        if enumeration and value not in enumeration:
            return f"{quote(value)} is not allowed: must be {allowed}"
        for match in patterns:
            if match(value) is None:
                hint = " (a spreadsheet may have rewritten it)" if calendar_date and _SPREADSHEET_DATE.fullmatch(value) else ""
                return f"{quote(value)} {mismatch}{hint}"
        if calendar_date:
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"{quote(value)} is not a date in the calendar"
        return None

    return check


@dataclass(frozen=True)
class FieldRule:
    wire: str  # BatchLearner element name
    heading: str  # CSV heading
    check: Check
    mandatory: bool


@dataclass(frozen=True)
class Rules:
    fields: tuple[FieldRule, ...]  # in BATCH_FIELDS order
    by_wire: dict[str, FieldRule]
    index: dict[str, int]  # wire name -> position
    header: dict[str, Check]  # header name -> check


@functools.lru_cache(maxsize=1)
def rules_from_xsd() -> Rules:
    """The checks of every field, derived once from xsd/ (fails loudly if the XSD drifts)."""
    index = type_index()
    children = index.children[f"{{{LEARNER}}}BatchLearner"]  # whence BATCH_FIELDS: the same order
    date_fields = {WIRE_NAMES[name] for name in DATE_FIELDS}
    fields = tuple(
        FieldRule(
            wire=child.name,
            heading=CSV_SPELLING.get(child.name, child.name),
            check=_compile_check(child.type, calendar_date=child.name in date_fields),
            mandatory=child.mandatory,
        )
        for child in children
    )
    # The header: the children LRBBatchFile declares itself (not its BatchLearner references).
    header_types = {c.name: c.type for c in index.children_of_element(f"{{{BATCHMSG}}}LRBBatchFile") if c.tag == c.name}
    if tuple(header_types) != HEADER_FIELDS:
        raise RuntimeError("LRB checks: the LRBBatchFile header of xsd/batch-messages.xsd no longer matches HEADER_FIELDS")
    header = {name: _compile_check(type_name) for name, type_name in header_types.items()}
    return Rules(
        fields=fields,
        by_wire={f.wire: f for f in fields},
        index={f.wire: i for i, f in enumerate(fields)},
        header=header,
    )


def check_field(wire_name: str, value: str) -> str | None:
    """Why a non-empty value of a BatchLearner field breaks its facets, or None when it is fine."""
    return rules_from_xsd().by_wire[wire_name].check(value)

