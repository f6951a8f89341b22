"""`lrs-ws check`: SOAP messages and LRB files held to what the server holds them to, for an MIS's
pipeline.

An XML file is a SOAP 1.1 envelope or a bare message element, a request or a response (or a
fault) of either service: the envelope rules and the schemas are the server's own
(lrs_ws.contract), and a request's values are held to the rules the server applies before it
looks at the register (lrs_ws.check.rules). An LRB batch file is checked as `lrs-ws batch
validate` checks it (lrs_ws.adapters.lrb). Each problem is a :class:`Finding`, with its line.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lxml import etree

from lrs_ws import contract
from lrs_ws.adapters.lrb.layout import Problem
from lrs_ws.check.rules import request_problems
from lrs_ws.contract.envelope import envelope_parts
from lrs_ws.contract.namespaces import SOAP_ENV
from lrs_ws.contract.wsdl import operation_messages
from lrs_ws.sandbox.masking import MASK

_LRB_NAME = re.compile(r"LRB_.*\.(CSV|XML)", re.IGNORECASE)
_FAULT = f"{{{SOAP_ENV}}}Fault"
_PASSWORDS = ("OrgPassword", "Password")


@dataclass(frozen=True)
class Finding:
    """One problem: where (file, line: 0 for the file as a whole), which field, why."""

    path: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.reason}"


@dataclass
class Checked:
    """One file: what it was taken for, and its problems."""

    path: str
    kind: str  # "request {ns}Name", "response {ns}Name", "LRB file", "unreadable"...
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.findings


def files_of(paths: Iterable[str]) -> Iterator[str]:
    """The files given, and below each directory given the `*.xml` and LRB files, in name order."""
    for given in paths:
        if os.path.isdir(given):
            for found in sorted(Path(given).rglob("*")):
                if found.is_file() and (found.suffix.lower() == ".xml" or _LRB_NAME.fullmatch(found.name)):
                    yield str(found)
        else:
            yield given


def check_paths(paths: Iterable[str], today: date) -> list[Checked]:
    return [check_file(path, today) for path in files_of(paths)]


def check_file(path: str, today: date) -> Checked:
    started = time.perf_counter()
    if _LRB_NAME.fullmatch(os.path.basename(path)):
        checked = _check_lrb(path)
    else:
        try:
            with open(path, "rb") as handle:
                checked = check_message(handle.read(), path, today)
        except OSError as error:
            checked = Checked(path, "unreadable", [Finding(path, 0, "file", error.strerror or str(error))])
    checked.seconds = time.perf_counter() - started
    return checked


def check_message(document: bytes, path: str, today: date) -> Checked:
    """A message held to the envelope rules, the schemas and, for a request, the server's rules."""
    try:
        root = etree.fromstring(document, contract.request_parser())
    except etree.XMLSyntaxError as error:
        return Checked(path, "not XML", [Finding(path, error.lineno or 0, "document", f"not well-formed XML: {error.msg}")])
    if root.getroottree().docinfo.doctype:
        return Checked(path, "XML", [Finding(path, 1, "document", "a DOCTYPE is not allowed in a SOAP message")])
    message = root
    if root.tag == f"{{{SOAP_ENV}}}Envelope":
        parts = envelope_parts(root)
        if isinstance(parts, str):
            return Checked(path, "SOAP envelope", [Finding(path, root.sourceline or 1, "Envelope", parts)])
        message = parts[1]
    if message.tag == _FAULT:  # a fault answer: its detail is the message of either service
        detail = message.find("detail")
        held = [] if detail is None else [child for child in detail if isinstance(child.tag, str)]
        if not held:
            why = "a fault without a detail element" if detail is None else "a fault whose detail holds no element"
            return Checked(path, "fault", [Finding(path, message.sourceline or 1, "Fault", why)])
        message = held[0]
    name = etree.QName(message)
    if str(message.tag) not in contract.type_index().elements:
        shown = f"{name.localname} (no namespace)" if name.namespace is None else f"{{{name.namespace}}}{name.localname}"
        reason = f"{shown} is not a message of either service"
        return Checked(path, "unknown message", [Finding(path, message.sourceline or 1, name.localname, reason)])
    kind = _kind(str(message.tag))
    _stand_in_for_masked_passwords(message)
    violations = contract.violations(message)
    if violations:
        return Checked(path, kind, sorted((Finding(path, v.line or 0, v.field, v.reason) for v in violations), key=lambda f: f.line))
    problems = request_problems(message, today)
    return Checked(path, kind, [Finding(path, element.sourceline or 0, where, reason) for element, where, reason in problems])


def _stand_in_for_masked_passwords(message: etree._Element) -> None:
    """A request copied from the sandbox's journal has its passwords masked (***): it is checked
    as if they were well formed, the one thing the journal cannot show."""
    for element in message.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in _PASSWORDS and element.text == MASK:
            element.text = "*" * 16  # a length both services' password types allow


def _check_lrb(path: str) -> Checked:
    from lrs_ws.adapters.lrb.validation import Validation  # LRB files only

    try:
        with Validation(path) as validation:
            findings = [Finding(path, _lrb_line(problem), _lrb_field(problem), problem.reason) for problem in validation]
    except OSError as error:
        return Checked(path, "unreadable", [Finding(path, 0, "file", error.strerror or str(error))])
    return Checked(path, "LRB file", findings)


def _lrb_line(problem: Problem) -> int:
    """The XML file's line where known; a CSV row is its line (0: the file as a whole)."""
    if problem.line is not None:
        return problem.line
    return problem.row if problem.unit == "row" and problem.row else 0


def _lrb_field(problem: Problem) -> str:
    if problem.unit == "learner" and problem.row is not None:
        return f"learner {problem.row}" + (f"/{problem.column}" if problem.column else "")
    return problem.column or "file"


def _kind(tag: str) -> str:
    """`request learnerByULN`, `answer of learnerByULN`, or `message MIAPAPIException`."""
    operations = operation_messages()
    if tag in operations:
        return f"request {operations[tag][0]}"
    answering = [operation for operation, answer in operations.values() if answer == tag]
    return f"answer of {answering[0]}" if answering else f"message {etree.QName(tag).localname}"
