"""`lrs-ws batch validate FILE`: one line per problem, a summary, exit status 0 or 1, never a traceback."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs_ws.adapters.lrb.layout import Header
from lrs_ws.adapters.lrb.writing import write_lrb
from lrs_ws.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD_CSV = ROOT / "fixtures" / "lrb" / "LRB_10000001_150920250930.CSV"
GOOD_XML = ROOT / "fixtures" / "lrb" / "LRB_10000001_150920250930.XML"
BAD_CSV = ROOT / "fixtures" / "lrb" / "invalid" / "LRB_10000001_160920251015.CSV"


def run(*args: str):
    return CliRunner().invoke(main, ["batch", "validate", *args], catch_exceptions=False)


def one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout and result.stdout == ""
    return lines[0]


def test_help_lists_the_command():
    assert "batch" in CliRunner().invoke(main, ["--help"]).output
    assert "--ukprn" in CliRunner().invoke(main, ["batch", "validate", "--help"]).output


@pytest.mark.parametrize("path, rows", [(GOOD_CSV, "9 learner rows"), (GOOD_XML, "9 learners")])
def test_a_valid_file(path, rows):
    result = run(str(path), "--ukprn", "10000001")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path.name} valid: {rows}\n" and result.stderr == ""


def test_an_invalid_file_gives_one_line_per_problem_and_a_summary():
    result = run(str(BAD_CSV))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 14 and result.stderr == ""
    assert lines[0] == "row 2, FileVersion: '2' is not allowed: must be 2A"
    assert "row 4, GivenName: is mandatory" in lines
    assert lines[-2] == "row 2, LearnerRecordCount: is 6, but the file has 5 learner rows"
    assert lines[-1] == "LRB_10000001_160920251015.CSV: 13 problems: 3 with the file, 10 in 5 of 5 learner rows"


def test_another_organisations_file():
    result = run(str(GOOD_CSV), "--ukprn", "10000002")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "file name: the UKPRN in the name, 10000001, is not your organisation's (10000002)",
        "row 2, UKPRN: '10000001' is not your organisation's UKPRN (10000002)",
        "LRB_10000001_150920250930.CSV: 2 problems with the file; 9 learner rows",
    ]


def test_a_malformed_ukprn_option_is_a_usage_error():
    result = run(str(GOOD_CSV), "--ukprn", "123")
    assert result.exit_code == 2
    assert "'123' is not a UKPRN" in one_error_line(result)


def test_a_missing_file(tmp_path):
    result = run(str(tmp_path / "LRB_10000001_150920250930.CSV"))
    assert result.exit_code == 1
    assert one_error_line(result) == f"Error: cannot read {tmp_path / 'LRB_10000001_150920250930.CSV'}: No such file or directory"


def test_a_directory(tmp_path):
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert one_error_line(result) == f"Error: cannot read {tmp_path}: Is a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(tmp_path):
    path = tmp_path / "LRB_10000001_150920250930.CSV"
    path.write_text("x")
    path.chmod(0)
    result = run(str(path))
    assert result.exit_code == 1 and "Permission denied" in one_error_line(result)


@pytest.mark.parametrize("name", ["LRB_10000001_150920250930.CSV", "LRB_10000001_150920250930.XML", "garbage.bin"])
def test_binary_garbage_is_reported_not_a_crash(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 64 + b"\x00\xff\xfe<")
    result = run(str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.stderr == ""
    assert result.stdout.splitlines()[-1].startswith(f"{name}: ")


def test_the_real_command_in_a_subprocess(tmp_path):
    """No terminal: no progress bar; problems on stdout; the exit status of the process."""
    path = tmp_path / "LRB_10000001_150920250930.XML"
    path.write_bytes(b"<not xml")
    result = subprocess.run(
        [sys.executable, "-m", "lrs_ws", "batch", "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("file: not well-formed XML: ") and "line 1" in lines[0]
    assert lines[1] == "LRB_10000001_150920250930.XML: 1 problem with the file; 0 learners"


def test_a_progress_bar_on_a_terminal_for_a_long_file(tmp_path):
    """stderr a terminal and the file over 1 MiB: a progress bar there, the report still on stdout."""
    pty = pytest.importorskip("pty")
    fcntl, termios = pytest.importorskip("fcntl"), pytest.importorskip("termios")
    learner = {"GivenName": "Amelia", "FamilyName": "Hughes", "Notes": "n" * 200, "DateOfBirth": "2007-03-14"}
    path = tmp_path / "LRB_10000001_150920250930.CSV"
    write_lrb(path, Header("2A", "big", "10000001", 6000), (learner for _ in range(6000)))
    assert path.stat().st_size > 1 << 20
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "lrs_ws", "batch", "validate", str(path)],
            stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL, text=True,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            shown += chunk
        stdout = process.stdout.read()
        assert process.wait(timeout=60) == 0
    finally:
        os.close(controller)
    assert stdout == "LRB_10000001_150920250930.CSV valid: 6,000 learner rows\n"
    assert b"B/s" in shown or b"%" in shown, shown
