"""What `lrs-ws check` prints: lines a person reads, JSON for tools, JUnit XML for CI servers."""
from __future__ import annotations

import json
import re
from collections.abc import Sequence

from lxml import etree

from lrs_ws.check import Checked


def summary(results: Sequence[Checked]) -> str:
    failed = [result for result in results if not result.passed]
    problems = sum(len(result.findings) for result in failed)
    files = f"{len(results):,} file{'s' if len(results) != 1 else ''}"
    if not failed:
        return f"Checked {files}: all passed."
    counted = f"{problems:,} problem{'s' if problems != 1 else ''}"
    return f"Checked {files}: {len(results) - len(failed):,} passed, {len(failed):,} failed ({counted})."


def text(results: Sequence[Checked]) -> str:
    lines = [str(finding) for result in results for finding in result.findings]
    return "\n".join([*lines, summary(results)])


def as_json(results: Sequence[Checked]) -> str:
    return json.dumps({
        "files": [
            {"path": result.path, "kind": result.kind, "passed": result.passed,
             "problems": [{"line": f.line, "field": f.field, "reason": f.reason} for f in result.findings]}
            for result in results
        ],
        "passed": all(result.passed for result in results),
        "summary": summary(results),
    }, indent=2)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """`text` as XML can carry it: a file name's undecodable bytes and control characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def junit(results: Sequence[Checked]) -> bytes:
    """One test case a file, a failure a problem (the JUnit XML CI servers read)."""
    failures = sum(not result.passed for result in results)
    suite = etree.Element("testsuite", name="lrs-ws check", tests=str(len(results)), failures=str(failures), errors="0",
                          time=f"{sum(result.seconds for result in results):.3f}")
    for result in results:
        case = etree.SubElement(suite, "testcase", classname="lrs-ws check", name=_xml_text(result.path),
                                time=f"{result.seconds:.3f}")
        for finding in result.findings:
            failure = etree.SubElement(case, "failure", message=_xml_text(f"{finding.field}: {finding.reason}"), type=result.kind)
            failure.text = _xml_text(str(finding))
    suites = etree.Element("testsuites", name="lrs-ws check", tests=str(len(results)), failures=str(failures))
    suites.append(suite)
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)
