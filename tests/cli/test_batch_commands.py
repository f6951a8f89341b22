"""`lrs-ws batch submit / output / status` and `lrs-ws worker`, through click's runner on a real
database: a file goes in, a worker runs it, the output file comes out."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from lrs_ws import contract
from lrs_ws.adapters.lrb.layout import Header
from lrs_ws.adapters.lrb.writing import write_lrb
from lrs_ws.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD_CSV = ROOT / "fixtures" / "lrb" / "LRB_10000001_150920250930.CSV"
GOOD_XML = ROOT / "fixtures" / "lrb" / "LRB_10000001_150920250930.XML"
BAD_CSV = ROOT / "fixtures" / "lrb" / "invalid" / "LRB_10000001_160920251015.CSV"


@pytest.fixture
def lrs(tmp_path, monkeypatch):
    monkeypatch.setenv("LRS_WS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    assert run("seed", "demo").exit_code == 0
    return run


def queued_job(result) -> int:
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Queued job ")
    return int(result.stdout.split()[2].rstrip(":"))


def test_a_file_is_queued_run_and_written_back(lrs, tmp_path):
    job = queued_job(lrs("batch", "submit", str(GOOD_CSV), "--user", "batch"))
    status = lrs("batch", "status", str(job))
    assert "Submitted" in status.stdout and "0/9" in status.stdout
    waiting = lrs("batch", "output", str(job))
    assert waiting.exit_code == 1 and "is submitted: 0 of 9 learners done" in waiting.stderr
    assert lrs("worker", "--until-idle").exit_code == 0
    assert "Completed" in lrs("batch", "status").stdout
    written = lrs("batch", "output", str(job))
    assert written.exit_code == 0, written.output
    output = tmp_path / "LRB_10000001_150920250930_OUTPUT.CSV"
    rows = list(csv.reader(output.open(encoding="utf-8-sig")))
    assert rows[0][-1] == "ReturnCode" and len(rows[0]) == 31
    assert rows[1][:4] == ["2A", "Autumn enrolments week 2", "10000001", "9"]
    sent = list(csv.reader(GOOD_CSV.open(encoding="utf-8-sig")))
    assert [row[5] for row in rows[1:]] == [row[5] for row in sent[1:]]  # MISIdentifier, in order
    codes = [row[-1] for row in rows[1:]]
    assert codes == ["RC005", "RC005", "RC004", "RC003", "RC007", "RC007", "RC008", "RC006", "RC009"]
    assert rows[3][4] == "2083498614"  # the retired ULN sent comes back as its master
    assert len(rows[4][4]) == 10 and rows[9][4] == ""  # a ULN issued; none for a bad ULN


def test_an_xml_file_gives_an_xml_output_valid_against_our_schema(lrs, tmp_path):
    job = queued_job(lrs("batch", "submit", str(GOOD_XML), "--user", "batch"))
    lrs("worker", "--until-idle")
    result = lrs("batch", "output", str(job), "--out", str(tmp_path / "missing" / "output.XML"))
    assert result.exit_code == 1 and "cannot write" in result.stderr  # no such directory; nothing written
    (tmp_path / "out").mkdir()
    assert lrs("batch", "output", str(job), "--out", str(tmp_path / "out")).exit_code == 0
    document = etree.parse(str(tmp_path / "out" / "LRB_10000001_150920250930_OUTPUT.XML"))
    assert contract.message_schema().validate(document), contract.message_schema().error_log
    assert len(document.getroot().findall("{http://api.lrs.miap.gov.uk/batchmsg}OutputBatchLearner")) == 9
    assert not list((tmp_path / "out").glob("*.partial"))


def test_a_file_with_a_file_level_problem_is_not_queued(lrs):
    result = lrs("batch", "submit", str(BAD_CSV), "--user", "batch")
    assert result.exit_code == 1 and "was not queued" in result.stderr
    assert lrs("batch", "status").stdout.endswith("\nNo batch jobs.\n")


def test_a_record_count_found_wrong_at_the_end_queues_nothing(lrs, tmp_path):
    learners = [{"GivenName": "Ann", "FamilyName": "Lee"}, {"GivenName": "Bo", "FamilyName": "Ng"}]
    path = tmp_path / "LRB_10000001_010120261200.CSV"
    write_lrb(path, Header("2A", "ref", "10000001", 3), learners)
    result = lrs("batch", "submit", str(path), "--user", "batch")
    assert result.exit_code == 1 and "LearnerRecordCount: is 3" in result.stderr
    assert lrs("batch", "status").stdout.endswith("\nNo batch jobs.\n")


def test_rows_with_bad_fields_are_queued_as_rc011(lrs, tmp_path):
    learners = [
        {"GivenName": "Ann", "FamilyName": "Lee", "DateOfBirth": "14/03/2007"},
        {"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "Gender": "2",
         "LastKnownPostCode": "B15 2TT"},
    ]
    path = tmp_path / "LRB_10000001_010120261200.CSV"
    write_lrb(path, Header("2A", "ref", "10000001", 2), learners)
    result = lrs("batch", "submit", str(path), "--user", "batch")
    assert "1 with field problems will be returned RC011" in result.stdout
    job = queued_job(result)
    lrs("worker", "--until-idle")
    lrs("batch", "output", str(job))
    rows = list(csv.reader((tmp_path / "LRB_10000001_010120261200_OUTPUT.CSV").open(encoding="utf-8-sig")))
    assert [row[-1] for row in rows[1:]] == ["RC011", "RC002"]
    assert rows[1][20] == "14/03/2007"  # echoed as sent


@pytest.mark.parametrize(
    "user, message",
    [("online", "has no batch_user role"), ("nobody", "is not a user of organisation 10000001")],
)
def test_only_a_batch_user_of_the_files_organisation_may_submit(lrs, user, message):
    result = lrs("batch", "submit", str(GOOD_CSV), "--user", user)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output
    assert lrs("batch", "status").stdout.endswith("\nNo batch jobs.\n")


def test_unknown_jobs_and_files_are_one_line_errors(lrs, tmp_path):
    for args in (("batch", "output", "99"), ("batch", "status", "99"),
                 ("batch", "submit", str(tmp_path / "LRB_10000001_010120261200.CSV"), "--user", "batch")):
        result = lrs(*args)
        assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
        assert result.stderr.startswith("Error: ")


def test_the_worker_refuses_a_database_without_the_schema(tmp_path):
    result = CliRunner().invoke(main, ["worker", "--until-idle", "--database-url", f"sqlite:///{tmp_path / 'none.sqlite3'}"])
    assert result.exit_code == 1 and "lrs-ws db upgrade" in result.stderr
    assert not (tmp_path / "none.sqlite3").exists()
