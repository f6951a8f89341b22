"""Writing LRB files, streaming: input files (CSV or XML) and a job's output file."""
from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from pathlib import Path

from lxml import etree

from lrs_ws.adapters.lrb.layout import (
    CSV_HEADINGS,
    FORMATS,
    HEADER_FIELDS,
    LEARNER_TAG,
    OUTPUT_CSV_HEADINGS,
    OUTPUT_LEARNER_TAG,
    OUTPUT_ROOT_TAG,
    ROOT_TAG,
    Header,
)
from lrs_ws.adapters.lrb.names import file_name_for, output_file_name
from lrs_ws.clock import UK
from lrs_ws.contract.learner_fields import BATCH_FIELDS
from lrs_ws.contract.namespaces import BATCHMSG
from lrs_ws.domain.batch import BatchJob


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
            writer.writerow((header_cells if count == 0 else [""] * len(HEADER_FIELDS)) + cells)
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


def job_output_name(job: BatchJob, ukprn: str | None) -> str:
    """A job's output file name, LRB_<UKPRN>_<DDMMYYYYHHMM>_OUTPUT.CSV (or .XML, as its input):
    an LRB file's from its name; a web-service job's as if its learners had come in a CSV file
    submitted when the job was (UK time)."""
    input_name = job.file_name or file_name_for(ukprn or "00000000", job.submitted_at.astimezone(UK), "CSV")
    return output_file_name(input_name)


def write_job_output(path: str | os.PathLike, job: BatchJob, ukprn: str | None, rows: Iterable[tuple[Mapping[str, str], object]]) -> int:
    """Write a finished job's output file (rows: lrs_ws.services.batch.file_output) in its input's
    format, with the header its input had (a web-service job: `job <id>`); how many learners."""
    fmt = "XML" if job_output_name(job, ukprn).upper().endswith(".XML") else "CSV"
    header = Header("2A", job.file_reference or f"job {job.id}", ukprn or "", job.learner_count)
    return write_output(path, fmt, header, rows)
