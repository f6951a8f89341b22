"""LRB batch files (lrs_ws.adapters.lrb): names, CSV and XML reading, field facets, writers."""
from __future__ import annotations

import copy
import csv
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from lrs_ws import contract
from lrs_ws.adapters.lrb.checks import check_field
from lrs_ws.adapters.lrb.layout import (
    CSV_HEADINGS,
    HEADER_FIELDS,
    LEARNER_HEADINGS,
    OUTPUT_CSV_HEADINGS,
    Header,
    LearnerRow,
    Problem,
)
from lrs_ws.adapters.lrb.names import file_name_for, output_file_name
from lrs_ws.adapters.lrb.reading import open_lrb
from lrs_ws.adapters.lrb.validation import validate
from lrs_ws.adapters.lrb.writing import write_lrb, write_output
from lrs_ws.contract.learner_fields import BATCH_FIELDS
from lrs_ws.contract.namespaces import BATCHMSG, LEARNER
from lrs_ws.domain.batch import ReturnCode

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "lrb"
GOOD_CSV = FIXTURES / "LRB_10000001_150920250930.CSV"
GOOD_XML = FIXTURES / "LRB_10000001_150920250930.XML"
BAD_CSV = FIXTURES / "invalid" / "LRB_10000001_160920251015.CSV"
NAME = "LRB_10000001_010920251200"
AMELIA = {
    "ULN": "9105106906",
    "GivenName": "Amelia",
    "FamilyName": "Hughes",
    "DateOfBirth": "2007-03-14",
    "Gender": "2",
    "LastKnownPostCode": "B15 2TT",
}


def header(count: int | None = 1, **changes) -> Header:
    values = {"file_version": "2A", "file_name": "week 1", "ukprn": "10000001", "learner_record_count": count}
    values.update(changes)
    return Header(**values)


def learner(**changes: str) -> dict[str, str]:
    return {**AMELIA, **changes}


def cells(head: tuple[str, str, str, str], fields: dict[str, str]) -> list[str]:
    return list(head) + [fields.get(name, "") for name in BATCH_FIELDS]


HEAD = ("2A", "week 1", "10000001", "1")
NO_HEAD = ("", "", "", "")


def csv_text(rows: list[list[str]], headings=CSV_HEADINGS) -> str:
    lines = [",".join(headings)] + [",".join(_quoted(c) for c in row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\n\r') else cell


def write_text(tmp_path: Path, text: str, name: str = f"{NAME}.CSV", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def one_learner_csv(tmp_path: Path, **changes: str) -> Path:
    fields = {k: v for k, v in learner(**changes).items()}
    return write_text(tmp_path, csv_text([cells(HEAD, fields)]))


def problems(path: Path, **options) -> list[str]:
    with validate(path, **options) as validation:
        return [str(problem) for problem in validation]


def xml_file(tmp_path: Path, body: str, name: str = f"{NAME}.XML", head: str | None = None) -> Path:
    if head is None:
        head = "<FileVersion>2A</FileVersion><FileName>week 1</FileName><UKPRN>10000001</UKPRN><LearnerRecordCount>1</LearnerRecordCount>"
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<b:LRBBatchFile xmlns:b="{BATCHMSG}">\n{head}\n{body}\n</b:LRBBatchFile>\n'
    return write_text(tmp_path, text, name)


def xml_learner(inner: str) -> str:
    return f"<b:BatchLearner>{inner}</b:BatchLearner>"


AMELIA_XML = xml_learner("<ULN>9105106906</ULN><GivenName>Amelia</GivenName><FamilyName>Hughes</FamilyName>")


# --------------------------------------------------------------------------- the example files


def test_the_example_files_are_valid_and_say_the_same():
    for path in (GOOD_CSV, GOOD_XML):
        assert problems(path, ukprn="10000001") == [], path
    with open_lrb(GOOD_CSV) as from_csv, open_lrb(GOOD_XML) as from_xml:
        assert from_csv.format == "CSV" and from_xml.format == "XML"
        assert from_csv.header == from_xml.header == Header("2A", "Autumn enrolments week 2", "10000001", 9)
        csv_rows, xml_rows = list(from_csv.rows()), list(from_xml.rows())
    assert [r.row for r in csv_rows] == list(range(2, 11)) and [r.row for r in xml_rows] == list(range(1, 10))
    assert [r.fields for r in csv_rows] == [r.fields for r in xml_rows]
    assert csv_rows[0].fields["ULN"] == "9105106906"  # Amelia Hughes of the demo data
    assert csv_rows[3].fields["Notes"] == 'Joined in September, "Access to HE" course'


def test_the_example_xml_file_is_valid_against_our_schema():
    schema = contract.message_schema()
    assert schema.validate(etree.parse(str(GOOD_XML), contract.parser())), schema.error_log


def test_the_invalid_example_shows_each_kind_of_cell_and_header_problem():
    assert problems(BAD_CSV, ukprn="10000001") == [
        "row 2, FileVersion: '2' is not allowed: must be 2A",
        "row 2, DateOfBirth: '14/03/2007' is not a calendar date written YYYY-MM-DD, years 1800 to 2099 "
        "(a spreadsheet may have rewritten it)",
        "row 3, UKPRN: must be empty: the header values go on row 2 only",
        "row 3, LastKnownPostCode: 'B15 2T' is not a UK postcode (outward code, optional space, inward code; "
        'up to 4 trailing spaces) or a British Forces "BFPO nnnn" code',
        "row 4, ULN: '910510690' is not a ULN (10 digits, the first not 0)",
        "row 4, GivenName: is mandatory",
        "row 5, FamilyName: is 37 characters long; at most 35 characters allowed",
        "row 5, DateOfBirth: '1900-02-29' is not a date in the calendar",
        "row 5, EmailAddress: 'grace@' is not an e-mail address of at most 254 characters",
        "row 5, Gender: 'F' is not valid (Gender: 0 not known, 1 male, 2 female, 9 not specified)",
        "row 5, AbilityToShare: '3' is not valid (Whether the learner shares their learning record: 0, 1 or 2 (one character))",
        "row 6: has 29 cells; every row has 30, one per heading",
        "row 2, LearnerRecordCount: is 6, but the file has 5 learner rows",
    ]
    with validate(BAD_CSV) as validation:
        list(validation)
    assert (validation.learner_rows, validation.rows_with_problems, validation.problem_count) == (5, 5, 13)
    assert validation.summary() == "LRB_10000001_160920251015.CSV: 13 problems: 3 with the file, 10 in 5 of 5 learner rows"


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "name",
    ["LRB_10000001_150920250930.CSV", "LRB_1000000X_311220232359.XML", "LRB_abcdEFGH_010100000000.CSV"],
)
def test_good_names(tmp_path, name):
    path = write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]), name)
    assert not [p for p in problems(path) if p.startswith("file name")]


@pytest.mark.parametrize(
    "name, reason",
    [
        ("LRB_10000001_150920250930.csv", "file name: the extension must be upper case: .CSV, not .csv"),
        ("LRB_10000001_150920250930.Csv", "file name: the extension must be upper case: .CSV, not .Csv"),
        ("LRB_10000001_150920250930.TXT", "file name: the name must end in .CSV or .XML"),
        ("LRB_10000001_320920250930.CSV", "file name: '320920250930' in the name is not a date and time written DDMMYYYYHHMM"),
        ("LRB_10000001_151320250930.CSV", "file name: '151320250930' in the name is not a date and time written DDMMYYYYHHMM"),
        ("LRB_10000001_150920252400.CSV", "file name: '150920252400' in the name is not a date and time written DDMMYYYYHHMM"),
        ("LRB_10000001_1509202509.CSV", "file name: '1509202509' in the name is not a date and time written DDMMYYYYHHMM"),
        ("LRB_1000001_150920250930.CSV", "file name: the UKPRN in the name, '1000001', is not 8 letters or digits"),
        ("lrb_10000001_150920250930.CSV", "file name: 'lrb_10000001_150920250930.CSV' is not named LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML"),
        ("learners.CSV", "file name: 'learners.CSV' is not named LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML"),
    ],
)
def test_bad_names(tmp_path, name, reason):
    path = write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]), name)
    found = problems(path)
    assert reason in found
    assert all(p.startswith("file name: ") for p in found), found  # the content is still read, and fine


def test_a_lower_case_extension_is_reported_once_and_the_file_still_read(tmp_path):
    path = write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]), f"{NAME}.csv")
    assert problems(path) == ["file name: the extension must be upper case: .CSV, not .csv"]
    with open_lrb(path) as reader:
        assert reader.format == "CSV" and [r.fields for r in reader.rows()] == [AMELIA]


def test_an_unknown_extension_is_read_by_its_content(tmp_path):
    path = xml_file(tmp_path, AMELIA_XML, name=f"{NAME}.DAT")
    with open_lrb(path) as reader:
        assert reader.format == "XML" and len(list(reader.rows())) == 1


def test_the_name_given_for_a_temporary_copy_is_the_one_checked(tmp_path):
    path = write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]), "upload-1234.tmp")
    assert problems(path, name=f"{NAME}.CSV") == []


def test_the_ukprn_of_the_name_must_be_the_headers(tmp_path):
    path = write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]), "LRB_10000002_150920250930.CSV")
    assert problems(path) == ["row 2, UKPRN: '10000001' is not the UKPRN in the file name (10000002)"]


def test_the_submitting_organisations_ukprn_is_checked_against_name_and_header(tmp_path):
    path = write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]))
    assert problems(path, ukprn="10000001") == []
    assert problems(path, ukprn="10000002") == [
        "file name: the UKPRN in the name, 10000001, is not your organisation's (10000002)",
        "row 2, UKPRN: '10000001' is not your organisation's UKPRN (10000002)",
    ]


def test_output_file_name():
    assert output_file_name("LRB_10000001_150920250930.CSV") == "LRB_10000001_150920250930_OUTPUT.CSV"
    assert output_file_name("/uploads/LRB_10000001_150920250930.XML") == "LRB_10000001_150920250930_OUTPUT.XML"
    for bad in ("LRB_10000001_150920250930.csv", "learners.CSV", "LRB_10000001_150920250930_OUTPUT.CSV"):
        with pytest.raises(ValueError):
            output_file_name(bad)


def test_file_name_for():
    assert file_name_for("10000001", datetime(2025, 9, 5, 8, 7)) == "LRB_10000001_050920250807.CSV"
    assert file_name_for("10000001", datetime(2025, 9, 5, 8, 7), "xml") == "LRB_10000001_050920250807.XML"
    with pytest.raises(ValueError):
        file_name_for("123", datetime(2025, 9, 5, 8, 7))


# --------------------------------------------------------------------------- CSV headings and header


def test_headings_are_the_thirty_of_the_guide():
    assert len(CSV_HEADINGS) == 30
    assert CSV_HEADINGS[:4] == ("FileVersion", "FileName", "UKPRN", "LearnerRecordCount")
    assert CSV_HEADINGS[12] == "FamilyNameAt16" and CSV_HEADINGS[17] == "LastKnownAddressCountyorCity"
    assert [h for h, w in zip(CSV_HEADINGS[4:], BATCH_FIELDS, strict=True) if h != w] == ["FamilyNameAt16", "LastKnownAddressCountyorCity"]


def _with_headings(headings) -> str:
    return csv_text([cells(HEAD, AMELIA)], headings=headings)


def _swapped(i: int, j: int) -> list[str]:
    headings = list(CSV_HEADINGS)
    headings[i], headings[j] = headings[j], headings[i]
    return headings


def _replaced(i: int, value: str) -> list[str]:
    headings = list(CSV_HEADINGS)
    headings[i] = value
    return headings


@pytest.mark.parametrize(
    "headings, expected",
    [
        (_swapped(4, 5), ["row 1: heading 5 is 'MISIdentifier': expected 'ULN' (the headings must be in the LRB order)"]),
        (_replaced(2, "ukprn"), ["row 1: heading 3 is 'ukprn': write 'UKPRN' (headings are case-sensitive)"]),
        (
            _replaced(17, "LastKnownAddressCountyOrCity"),
            ["row 1: heading 18 is 'LastKnownAddressCountyOrCity': write 'LastKnownAddressCountyorCity' (headings are case-sensitive)"],
        ),
        (_replaced(12, "FamilyNameAtAge16"), ["row 1: heading 13 is 'FamilyNameAtAge16': a CSV file spells it 'FamilyNameAt16'"]),
        (_replaced(29, "Comments"), ["row 1: heading 30 is 'Comments': expected 'Notes'"]),
        (list(CSV_HEADINGS[:-1]), ["row 1: has 29 headings; an LRB file has 30"]),
        (list(CSV_HEADINGS) + ["Extra"], ["row 1: has 31 headings; an LRB file has 30"]),
        (
            list(CSV_HEADINGS[1:]),
            [
                "row 1: has 29 headings; an LRB file has 30",
                "row 1: heading 1 is 'FileName': expected 'FileVersion' (the headings must be in the LRB order)",
            ],
        ),
    ],
)
def test_wrong_headings_stop_the_file(tmp_path, headings, expected):
    path = write_text(tmp_path, _with_headings(headings))
    assert problems(path) == expected
    with open_lrb(path) as reader:
        assert reader.header is None and reader.fatal and list(reader.rows()) == []


def test_an_empty_file_and_a_blank_first_row(tmp_path):
    assert problems(write_text(tmp_path, "")) == ["file: is empty"]
    assert problems(write_text(tmp_path, "\r\n" + csv_text([cells(HEAD, AMELIA)]))) == [
        "row 1: is empty; it must hold the 30 LRB headings"
    ]


def test_headings_without_a_header_row(tmp_path):
    path = write_text(tmp_path, ",".join(CSV_HEADINGS) + "\r\n\r\n")
    assert problems(path) == ["file: has no learner rows: row 2 must hold the header values and the first learner"]


def test_a_utf8_bom_is_accepted(tmp_path):
    path = write_text(tmp_path, "\ufeff" + csv_text([cells(HEAD, learner(GivenName="Zoë"))]))
    assert problems(path) == []
    with open_lrb(path) as reader:
        assert next(reader.rows()).fields["GivenName"] == "Zoë"


def test_the_header_is_read_before_the_rows(tmp_path):
    path = write_text(tmp_path, csv_text([cells(("2A", "week 1", "10000001", "2"), AMELIA), cells(NO_HEAD, AMELIA)]))
    with open_lrb(path) as reader:
        assert reader.header == header(2)
        assert reader.file_problems == []
        rows = reader.rows()
        first = next(rows)
        assert isinstance(first, LearnerRow) and first.row == 2 and first.fields == AMELIA and first.problems == []
        assert [r.row for r in rows] == [3]
        with pytest.raises(RuntimeError):
            next(reader.rows())


@pytest.mark.parametrize(
    "head, expected",
    [
        (("2B", "week 1", "10000001", "1"), ["row 2, FileVersion: '2B' is not allowed: must be 2A"]),
        (("", "week 1", "10000001", "1"), ["row 2, FileVersion: is mandatory"]),
        (("2A", "", "10000001", "1"), ["row 2, FileName: is mandatory"]),
        (("2A", "  ", "10000001", "1"), ["row 2, FileName: is mandatory"]),
        (("2A", "x" * 256, "10000001", "1"), ["row 2, FileName: is 256 characters long; at most 255 characters allowed"]),
        (("2A", "week 1", "", "1"), ["row 2, UKPRN: is mandatory"]),
        (
            ("2A", "week 1", "1000001", "1"),
            ["row 2, UKPRN: '1000001' is not valid (UK Provider Reference Number: exactly 8 letters or digits)"],
        ),
        (("2A", "week 1", "10000001", ""), ["row 2, LearnerRecordCount: is mandatory"]),
        (("2A", "week 1", "10000001", "one"), ["row 2, LearnerRecordCount: 'one' is not a whole number"]),
        (
            ("2A", "week 1", "10000001", "0"),
            ["row 2, LearnerRecordCount: 0 is too small: at least 1", "row 2, LearnerRecordCount: is 0, but the file has 1 learner row"],
        ),
        (
            ("2A", "week 1", "10000001", "-1"),
            ["row 2, LearnerRecordCount: -1 is too small: at least 1", "row 2, LearnerRecordCount: is -1, but the file has 1 learner row"],
        ),
        (("2A", "week 1", "10000001", "2"), ["row 2, LearnerRecordCount: is 2, but the file has 1 learner row"]),
    ],
)
def test_header_values(tmp_path, head, expected):
    path = write_text(tmp_path, csv_text([cells(head, AMELIA)]))
    assert problems(path) == expected


def test_header_columns_must_be_empty_after_row_2(tmp_path):
    rows = [cells(("2A", "week 1", "10000001", "3"), AMELIA), cells(("2A", "", "", ""), AMELIA), cells(("", "", "10000001", "3"), AMELIA)]
    assert problems(write_text(tmp_path, csv_text(rows))) == [
        "row 3, FileVersion: must be empty: the header values go on row 2 only",
        "row 4, UKPRN: must be empty: the header values go on row 2 only",
        "row 4, LearnerRecordCount: must be empty: the header values go on row 2 only",
    ]


def test_the_count_mismatch_is_known_only_at_the_end(tmp_path):
    rows = [cells(("2A", "week 1", "10000001", "3"), AMELIA), cells(NO_HEAD, AMELIA)]
    with open_lrb(write_text(tmp_path, csv_text(rows))) as reader:
        assert reader.file_problems == []
        assert len(list(reader.rows())) == 2
        assert reader.file_problems == [Problem(2, "LearnerRecordCount", "is 3, but the file has 2 learner rows")]


def test_blank_rows_at_the_end_are_ignored_and_in_between_reported(tmp_path):
    rows = [cells(("2A", "week 1", "10000001", "2"), AMELIA), [""] * 30, cells(NO_HEAD, AMELIA)]
    text = csv_text(rows) + "\r\n\r\n" + ",,,,\r\n" + "\r\n"
    path = write_text(tmp_path, text)
    assert problems(path) == ["row 3: is blank; blank rows are allowed only at the end of the file"]
    with open_lrb(path) as reader:
        assert [r.row for r in reader.rows()] == [2, 4]


def test_rows_are_spreadsheet_rows_even_with_line_breaks_in_cells(tmp_path):
    rows = [
        cells(("2A", "week 1", "10000001", "2"), learner(Notes="line one\nline two, with a comma")),
        cells(NO_HEAD, learner(DateOfBirth="2007-02-30")),
    ]
    path = write_text(tmp_path, csv_text(rows))
    assert problems(path) == ["row 3, DateOfBirth: '2007-02-30' is not a calendar date written YYYY-MM-DD, years 1800 to 2099"]
    with open_lrb(path) as reader:
        assert next(reader.rows()).fields["Notes"] == "line one\nline two, with a comma"


def test_lf_line_ends_are_fine(tmp_path):
    assert problems(write_text(tmp_path, csv_text([cells(HEAD, AMELIA)]).replace("\r\n", "\n"))) == []


@pytest.mark.parametrize("width", [29, 31, 1])
def test_every_row_has_thirty_cells(tmp_path, width):
    good = cells(("2A", "week 1", "10000001", "2"), AMELIA)
    bad = (cells(NO_HEAD, AMELIA) + ["extra"])[:width] if width > 1 else ["Amelia Hughes"]
    path = write_text(tmp_path, csv_text([good, bad]))
    expected = f"row 3: has {width} cell{'s' if width > 1 else ''}; every row has 30, one per heading"
    assert problems(path) == [expected]
    with open_lrb(path) as reader:
        rows = list(reader.rows())
    assert rows[1].fields == {} and [str(p) for p in rows[1].problems] == [expected]


def test_a_file_that_is_not_utf8(tmp_path):
    path = write_text(tmp_path, csv_text([cells(HEAD, learner(GivenName="Zoë"))]), encoding="cp1252")
    found = problems(path)
    assert len(found) == 1 and found[0].startswith("file: is not UTF-8 text (byte 0xeb")


def test_binary_garbage_is_one_problem_not_a_crash(tmp_path):
    data = bytes(range(256)) * 40
    path = tmp_path / f"{NAME}.CSV"
    path.write_bytes(data)
    assert len(problems(path)) == 1
    path.write_bytes(b"FileVersion\x00,FileName\r\n" * 10)
    assert problems(path) == ["row 1: has 2 headings; an LRB file has 30", "row 1: heading 1 is 'FileVersion\\x00': expected 'FileVersion'"]
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert problems(path) == ["file: is not UTF-8 text (byte 0x89 near line 1)"]


def test_a_control_character_in_a_cell_is_refused(tmp_path):
    path = write_text(tmp_path, csv_text([cells(HEAD, learner(Notes="bell\x07"))]))
    assert problems(path) == ["row 2, Notes: holds the character U+0007, which is not allowed"]


# --------------------------------------------------------------------------- field facets


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("GivenName", "A" * 36, "is 36 characters long; at most 35 characters allowed"),
        ("FamilyName", "   ", "'   ' is not a mandatory name: 1 to 35 characters, at least one of them not blank"),
        ("Title", "T" * 36, "is 36 characters long; at most 35 characters allowed"),
        ("MISIdentifier", "m" * 129, "is 129 characters long; at most 128 characters allowed"),
        ("SchoolAtAge16", "s" * 255, "is 255 characters long; at most 254 characters allowed"),
        ("LastKnownAddressLine1", "a" * 51, "is 51 characters long; at most 50 characters allowed"),
        ("Notes", "n" * 4001, "is 4,001 characters long; at most 4,000 characters allowed"),
        ("ULN", "910510690", "'910510690' is not a ULN (10 digits, the first not 0)"),
        ("ULN", "0105106906", "'0105106906' is not a ULN (10 digits, the first not 0)"),
        ("ULN", "91051069060", "is 11 characters long; at most 10 characters allowed"),
        ("ULN", "91051069O6", "'91051069O6' is not a ULN (10 digits, the first not 0)"),
        (
            "DateOfBirth",
            "14/03/2007",
            "'14/03/2007' is not a calendar date written YYYY-MM-DD, years 1800 to 2099 (a spreadsheet may have rewritten it)",
        ),
        ("DateOfBirth", "2007-3-14", "'2007-3-14' is not a calendar date written YYYY-MM-DD, years 1800 to 2099"),
        ("DateOfBirth", "2007-04-31", "'2007-04-31' is not a calendar date written YYYY-MM-DD, years 1800 to 2099"),
        ("DateOfBirth", "1799-12-31", "'1799-12-31' is not a calendar date written YYYY-MM-DD, years 1800 to 2099"),
        ("DateOfBirth", "1900-02-29", "'1900-02-29' is not a date in the calendar"),
        ("DateOfAddressCapture", "2100-02-29", "'2100-02-29' is not a calendar date written YYYY-MM-DD, years 1800 to 2099"),
        ("DateOfAddressCapture", "1800-02-29", "'1800-02-29' is not a date in the calendar"),
        (
            "LastKnownPostCode",
            "B15",
            "'B15' is not a UK postcode (outward code, optional space, inward code; up to 4 trailing spaces) "
            "or a British Forces \"BFPO nnnn\" code",
        ),
        ("LastKnownPostCode", "B15 2TTXXX", "is 10 characters long; at most 9 characters allowed"),
        (
            "LastKnownPostCode",
            "B15 2CT",
            "'B15 2CT' is not a UK postcode (outward code, optional space, inward code; up to 4 trailing spaces) "
            "or a British Forces \"BFPO nnnn\" code",
        ),
        ("Gender", "M", "'M' is not valid (Gender: 0 not known, 1 male, 2 female, 9 not specified)"),
        ("Gender", "3", "'3' is not valid (Gender: 0 not known, 1 male, 2 female, 9 not specified)"),
        ("EmailAddress", "amelia@example", "'amelia@example' is not an e-mail address of at most 254 characters"),
        ("Nationality", "GBRX", "is 4 characters long; at most 3 characters allowed"),
        ("ScottishCandidateNumber", "12345678", "'12345678' is not valid (Scottish Candidate Number: 9 digits)"),
        ("AbilityToShare", "3", "'3' is not valid (Whether the learner shares their learning record: 0, 1 or 2 (one character))"),
        ("AbilityToShare", "10", "is 2 characters long; at most 1 character allowed"),
        (
            "VerificationType",
            "8",
            "'8' is not valid (How the learner's identity was verified: 0 none, 1 to 7 the listed documents, "
            "999 other (described in OtherVerificationDescription))",
        ),
        ("OtherVerificationDescription", "o" * 256, "is 256 characters long; at most 255 characters allowed"),
    ],
)
def test_bad_cells(tmp_path, column, value, reason):
    assert check_field(column, value) == reason
    heading = LEARNER_HEADINGS[BATCH_FIELDS.index(column)]
    assert problems(one_learner_csv(tmp_path, **{column: value})) == [f"row 2, {heading}: {reason}"]
    fields = learner(**{column: value})
    body = xml_learner("".join(f"<{k}>{fields[k]}</{k}>" for k in BATCH_FIELDS if k in fields))
    assert problems(xml_file(tmp_path, body)) == [f"learner 1, {column}: {reason}"]


@pytest.mark.parametrize(
    "column, value",
    [
        ("ULN", "9105106906"),
        ("ULN", "9105106907"),  # a bad check digit is the job's business (RC009), not the format's
        ("DateOfBirth", "2000-02-29"),
        ("DateOfBirth", "1800-01-01"),
        ("DateOfBirth", "2099-12-31"),
        ("LastKnownPostCode", "b152tt"),
        ("LastKnownPostCode", "BFPO 1234"),
        ("LastKnownPostCode", "SW1A 1AA"),
        ("LastKnownPostCode", "M1 1AE    "[:9]),
        ("Gender", "9"),
        ("EmailAddress", "o'neil+lrs@mail.example.co.uk"),
        ("ScottishCandidateNumber", "012345678"),
        ("AbilityToShare", "0"),
        ("VerificationType", "999"),
        ("GivenName", "A" * 35),
        ("FamilyName", "O'Neil-Smith"),
        ("Notes", "n" * 4000),
        ("Nationality", "GBR"),
    ],
)
def test_good_cells(tmp_path, column, value):
    assert check_field(column, value) is None
    assert problems(one_learner_csv(tmp_path, **{column: value})) == []


@pytest.mark.parametrize("column", ["GivenName", "FamilyName"])
def test_the_names_are_mandatory(tmp_path, column):
    path = one_learner_csv(tmp_path, **{column: ""})
    assert problems(path) == [f"row 2, {column}: is mandatory"]
    inner = "".join(f"<{k}>{AMELIA[k]}</{k}>" for k in BATCH_FIELDS if k in AMELIA and k != column)
    assert problems(xml_file(tmp_path, xml_learner(inner))) == [f"learner 1, {column}: is mandatory"]
    inner_empty = "".join(f"<{k}>{'' if k == column else AMELIA[k]}</{k}>" for k in BATCH_FIELDS if k in AMELIA)
    assert problems(xml_file(tmp_path, xml_learner(inner_empty))) == [f"learner 1, {column}: is mandatory"]


def test_empty_cells_are_not_supplied_and_fine(tmp_path):
    names_only = {"GivenName": "Noah", "FamilyName": "Williams"}
    path = write_text(tmp_path, csv_text([cells(HEAD, names_only)]))
    assert problems(path) == []
    with open_lrb(path) as reader:
        assert next(reader.rows()).fields == names_only
    inner = "<ULN/><GivenName>Noah</GivenName><FamilyName>Williams</FamilyName><AbilityToShare></AbilityToShare>"
    xml = xml_file(tmp_path, xml_learner(inner))
    assert problems(xml) == []
    with open_lrb(xml) as reader:
        assert next(reader.rows()).fields == names_only


def test_the_facets_come_from_the_xsd():
    """Every length limit of a BatchLearner field is its simple type's maxLength in xsd/learner.xsd."""
    index = contract.type_index()
    for child in index.children[f"{{{LEARNER}}}BatchLearner"]:
        limit = index.simple[child.type].max_length
        if limit is None:
            continue
        assert "at most" in (check_field(child.tag, "1" * (limit + 1)) or ""), child.tag


@pytest.mark.parametrize(
    "column, value",
    [
        ("ULN", "9105106906"), ("ULN", "910510690"), ("ULN", " 9105106906"),
        ("GivenName", "Amelia"), ("GivenName", "A" * 36), ("GivenName", "  "),
        ("LastKnownPostCode", "B15 2TT"), ("LastKnownPostCode", "B15  2TT"),
        ("LastKnownPostCode", "BFPO1"), ("LastKnownPostCode", "BFPO12345"),
        ("DateOfBirth", "2007-03-14"), ("DateOfBirth", "2007-02-29"), ("DateOfBirth", "2008-02-29"), ("DateOfBirth", "07-03-14"),
        ("EmailAddress", "a@b.co"), ("EmailAddress", "a@b"), ("EmailAddress", "a b@c.org"),
        ("Gender", "1"), ("Gender", "12"), ("Gender", "x"),
        ("AbilityToShare", "2"), ("AbilityToShare", "5"),
        ("VerificationType", "7"), ("VerificationType", "99"), ("VerificationType", "0999"),
        ("ScottishCandidateNumber", "123456789"), ("ScottishCandidateNumber", "12345678a"),
        ("Nationality", "GB"), ("Nationality", "GBRR"),
    ],
)
def test_the_checks_agree_with_the_schema(column, value):
    """Our compiled checks accept exactly what libxml2, validating against xsd/, accepts."""
    root = etree.Element(f"{{{BATCHMSG}}}LRBBatchFile", nsmap={"b": BATCHMSG})
    for name, text in zip(HEADER_FIELDS, ("2A", "x", "10000001", "1"), strict=True):
        etree.SubElement(root, name).text = text
    element = etree.SubElement(root, f"{{{BATCHMSG}}}BatchLearner")
    for name in BATCH_FIELDS:
        text = value if name == column else AMELIA.get(name)
        if text is not None:
            etree.SubElement(element, name).text = text
    schema = contract.message_schema()
    assert (check_field(column, value) is None) == schema.validate(copy.deepcopy(root)), (column, value)


# --------------------------------------------------------------------------- XML


def test_xml_learners_are_numbered_and_read(tmp_path):
    second = xml_learner("<GivenName>Grace</GivenName><FamilyName>Walsh</FamilyName><DateOfBirth>2004-13-09</DateOfBirth>")
    path = xml_file(
        tmp_path,
        AMELIA_XML + second,
        head="<FileVersion>2A</FileVersion><FileName>w</FileName><UKPRN>10000001</UKPRN><LearnerRecordCount>2</LearnerRecordCount>",
    )
    assert problems(path) == ["learner 2, DateOfBirth: '2004-13-09' is not a calendar date written YYYY-MM-DD, years 1800 to 2099"]
    with open_lrb(path) as reader:
        assert reader.header == Header("2A", "w", "10000001", 2)
        rows = list(reader.rows())
    assert [r.row for r in rows] == [1, 2]
    assert rows[0].fields == {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes"}


def test_malformed_xml_is_one_problem_with_its_line(tmp_path):
    path = xml_file(tmp_path, AMELIA_XML + "\n<b:BatchLearner><GivenName>Grace</FamilyName></b:BatchLearner>")
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith("file: not well-formed XML: Opening and ending tag mismatch") and "line 5" in found[0]


@pytest.mark.parametrize(
    "text, reason",
    [
        (b"", "file: holds no XML element"),
        (b"FileVersion,FileName\r\n", "file: not well-formed XML: Start tag expected, '<' not found, line 1, column 1"),
        (
            b"<LRBBatchFile><FileVersion>2A</FileVersion></LRBBatchFile>",
            f"file: the root element is LRBBatchFile (no namespace); an LRB file in XML is {{{BATCHMSG}}}LRBBatchFile",
        ),
        (
            f'<b:SubmitBatch xmlns:b="{BATCHMSG}"/>'.encode(),
            f"file: the root element is {{{BATCHMSG}}}SubmitBatch; an LRB file in XML is {{{BATCHMSG}}}LRBBatchFile",
        ),
    ],
)
def test_xml_that_is_not_an_lrb_file(tmp_path, text, reason):
    path = tmp_path / f"{NAME}.XML"
    path.write_bytes(text)
    assert problems(path) == [reason]
    with open_lrb(path) as reader:
        assert reader.header is None and list(reader.rows()) == []


def test_entities_and_doctypes_are_refused(tmp_path):
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        f'<b:LRBBatchFile xmlns:b="{BATCHMSG}"><FileVersion>&lol2;</FileVersion></b:LRBBatchFile>'
    )
    assert problems(write_text(tmp_path, laughs, f"{NAME}.XML")) == ["file: a DOCTYPE is not allowed in an LRB file"]
    external = f'<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">\n<b:LRBBatchFile xmlns:b="{BATCHMSG}"/>'
    assert problems(write_text(tmp_path, external, f"{NAME}.XML")) == ["file: a DOCTYPE is not allowed in an LRB file"]


def test_xml_learner_structure_problems(tmp_path):
    inner = (
        "<GivenName>Amelia</GivenName>\n<ULN>9105106906</ULN>\n<FamilyName>Hughes</FamilyName>\n<FamilyName>Hughes</FamilyName>\n"
        f'<Shoe>9</Shoe>\n<b:Gender xmlns:b="{BATCHMSG}">2</b:Gender>\n<Notes><b>bold</b></Notes>'
    )
    assert problems(xml_file(tmp_path, xml_learner(inner))) == [
        "learner 1, ULN: is out of order: it must come before GivenName (line 5)",
        "learner 1, FamilyName: appears more than once (line 7)",
        "learner 1, Shoe: is not a BatchLearner field (line 8)",
        f"learner 1, Gender: must be unqualified (no namespace), not in {BATCHMSG} (line 9)",
        "learner 1, Notes: must hold text only, not elements (line 10)",
    ]


def test_xml_header_problems(tmp_path):
    head = "<FileName>w</FileName><FileVersion>2A</FileVersion><LearnerRecordCount>1</LearnerRecordCount>"
    assert problems(xml_file(tmp_path, AMELIA_XML, head=head)) == [
        "file: the header elements must come in the order FileVersion, FileName, UKPRN, LearnerRecordCount",
        "UKPRN: is missing: the file must start with FileVersion, FileName, UKPRN, LearnerRecordCount",
    ]
    head = "<FileVersion>2B</FileVersion><FileName>w</FileName><UKPRN>10000001</UKPRN><LearnerRecordCount>3</LearnerRecordCount>"
    assert problems(xml_file(tmp_path, AMELIA_XML, head=head), ukprn="10000002") == [
        "FileVersion: '2B' is not allowed: must be 2A (line 3)",
        "file name: the UKPRN in the name, 10000001, is not your organisation's (10000002)",
        "UKPRN: '10000001' is not your organisation's UKPRN (10000002)",
        "LearnerRecordCount: is 3, but the file has 1 learner",
    ]


def test_xml_elements_out_of_place(tmp_path):
    body = AMELIA_XML + "\n<UKPRN>10000001</UKPRN>\n<BatchLearner/>\n<Other/>"
    assert problems(xml_file(tmp_path, body)) == [
        "file: element UKPRN is not allowed after the first BatchLearner (line 5)",
        f"file: element BatchLearner (no namespace) must be in namespace {BATCHMSG} (line 6)",
        "file: unexpected element Other (no namespace) (line 7)",
    ]


def test_xml_without_learners(tmp_path):
    assert problems(xml_file(tmp_path, "")) == ["file: has no learners"]


# --------------------------------------------------------------------------- writers


TRICKY = {
    "ULN": "9105106906",
    "MISIdentifier": "a,b;\"c\"",
    "GivenName": "Zoë",
    "FamilyName": "O'Neil <&> Smith",
    "Notes": "first line\nsecond, \"quoted\" line",
    "DateOfBirth": "2007-03-14",
}


@pytest.mark.parametrize("fmt", ["CSV", "XML"])
def test_input_files_round_trip(tmp_path, fmt):
    learners = [TRICKY, {"GivenName": "Noah", "FamilyName": "Williams"}, learner(Gender="9", ULN="")]
    path = tmp_path / f"{NAME}.{fmt}"
    assert write_lrb(path, header(3), learners) == 3
    assert problems(path) == []
    with open_lrb(path) as reader:
        assert reader.header == header(3)
        read = [r.fields for r in reader.rows()]
    assert read == [{k: v for k, v in one.items() if v} for one in learners]


def test_writing_is_streaming_and_checks_field_names(tmp_path):
    def learners():
        yield AMELIA
        yield {"Surname": "Hughes"}

    with pytest.raises(ValueError, match="Surname"):
        write_lrb(tmp_path / f"{NAME}.CSV", header(2), learners())
    with pytest.raises(ValueError):
        write_lrb(tmp_path / f"{NAME}.TXT", header(2), [AMELIA])
    assert write_lrb(tmp_path / "anything.dat", header(1), [AMELIA], fmt="xml") == 1


def test_output_csv(tmp_path):
    path = tmp_path / output_file_name(f"{NAME}.CSV")
    rows = [(AMELIA, ReturnCode.ULN_CONFIRMED), ({"GivenName": "Noah", "FamilyName": "Williams"}, "RC006")]
    assert write_output(path, "CSV", header(2), rows) == 2
    with open(path, newline="", encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert tuple(read[0]) == OUTPUT_CSV_HEADINGS and len(read) == 3
    assert read[1][:4] == ["2A", "week 1", "10000001", "2"] and read[2][:4] == ["", "", "", ""]
    assert [row[-1] for row in read[1:]] == ["RC001", "RC006"]
    assert dict(zip(BATCH_FIELDS, read[1][4:-1], strict=True)) == {name: AMELIA.get(name, "") for name in BATCH_FIELDS}


def test_output_xml_is_valid_against_our_schema(tmp_path):
    path = tmp_path / output_file_name(f"{NAME}.XML")
    rows = [(TRICKY, ReturnCode.CREATED), (learner(), "RC013")]
    assert write_output(path, "XML", header(2), rows) == 2
    doc = etree.parse(str(path), contract.parser())
    schema = contract.message_schema()
    assert schema.validate(doc), schema.error_log
    root = doc.getroot()
    assert root.tag == f"{{{BATCHMSG}}}LRBBatchOutputFile"
    assert [root.findtext(name) for name in HEADER_FIELDS] == ["2A", "week 1", "10000001", "2"]
    learners = root.findall(f"{{{BATCHMSG}}}OutputBatchLearner")
    assert [el.findtext("ReturnCode") for el in learners] == ["RC003", "RC013"]
    assert {child.tag: child.text for child in learners[0] if child.tag != "ReturnCode"} == TRICKY


def test_an_empty_output_keeps_its_header(tmp_path):
    path = tmp_path / "out.XML"
    assert write_output(path, "XML", header(1), []) == 0
    assert contract.message_schema().validate(etree.parse(str(path)))


# --------------------------------------------------------------------------- problems


def test_problem_text():
    assert str(Problem(5, "DateOfBirth", "bad")) == "row 5, DateOfBirth: bad"
    assert str(Problem(5, "DateOfBirth", "bad", "learner")) == "learner 5, DateOfBirth: bad"
    assert str(Problem(1, None, "bad")) == "row 1: bad"
    assert str(Problem(None, "file name", "bad")) == "file name: bad"
    assert str(Problem(None, None, "bad")) == "file: bad"


def test_a_missing_file_or_a_directory_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        validate(tmp_path / "nothing.CSV")
    with pytest.raises(IsADirectoryError):
        open_lrb(tmp_path)


def test_validation_counts_and_summary(tmp_path):
    rows = [cells(("2A", "week 1", "10000001", "3"), AMELIA), cells(NO_HEAD, learner(Gender="M", ULN="1")), cells(NO_HEAD, AMELIA)]
    with validate(write_text(tmp_path, csv_text(rows))) as validation:
        assert len(list(validation)) == 2
    assert (validation.learner_rows, validation.rows_with_problems, validation.row_problem_count) == (3, 1, 2)
    assert validation.summary() == f"{NAME}.CSV: 2 problems in 1 of 3 learner rows"
    with validate(GOOD_XML) as clean:
        assert list(clean) == []
    assert clean.ok and clean.summary() == "LRB_10000001_150920250930.XML valid: 9 learners"
