"""`lrs-ws serve` refusing to start says why in one line, before any banner, with the exit status
of its kind (1: cannot run, 2: a bad setting); the real command, in a subprocess."""
from __future__ import annotations

import socket
import subprocess
import time

import pytest

from tests.e2e.serving import BANNER, command, run_briefly, stop


def _sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lrs-ws.sqlite3'}"


def _one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_briefly(["serve", "--port", str(port), "--database-url", _sqlite(tmp_path)], tmp_path)
    assert result.returncode == 1, result
    assert _one_error_line(result).startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    assert result.stdout == "" and not BANNER.search(result.stdout)
    assert not (tmp_path / "lrs-ws.sqlite3").exists()  # nothing prepared for a server that cannot run


def test_an_unknown_host(tmp_path):
    result = run_briefly(["serve", "--host", "nosuchhost.invalid", "--port", "0", "--database-url", _sqlite(tmp_path)], tmp_path)
    assert result.returncode == 1, result
    line = _one_error_line(result)
    assert line.startswith("Error: cannot listen on nosuchhost.invalid") and "unknown host" in line
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_a_bad_setting_in_the_environment(tmp_path, value):
    result = run_briefly(
        ["serve", "--port", "0", "--database-url", _sqlite(tmp_path)], tmp_path, env={"LRS_WS_POSSIBLE_MATCH_LIMIT": value}
    )
    assert result.returncode == 2, result
    line = _one_error_line(result)
    assert "--possible-match-limit" in line and "LRS_WS_POSSIBLE_MATCH_LIMIT" in line and value in line
    assert result.stdout == ""


def test_an_unreachable_postgres_never_shows_its_password(tmp_path):
    result = run_briefly(["serve", "--port", "0", "--database-url", "postgresql://u:s3cret@127.0.0.1:1/x"], tmp_path)
    assert result.returncode == 1, result
    line = _one_error_line(result)
    assert "postgresql://u:***@127.0.0.1:1/x" in line
    assert "s3cret" not in result.stderr + result.stdout


def _stderr_until_banner(tmp_path, *options: str) -> str:
    """Start `lrs-ws serve OPTIONS`, wait for its banner, stop it; what it wrote on stderr by then."""
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(
            command("serve", "--port", "0", "--workers", "1", "--database-url", _sqlite(tmp_path), *options),
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        while not BANNER.search(out_path.read_text()):
            assert process.poll() is None, f"serve exited: {out_path.read_text()}{err_path.read_text()}"
            assert time.monotonic() < deadline, "no banner within 60 s"
            time.sleep(0.05)
        return err_path.read_text()
    finally:
        stop(process)


def test_every_interface_without_a_public_url_is_warned_about(tmp_path):
    stderr = _stderr_until_banner(tmp_path, "--host", "0.0.0.0")
    warnings = [line for line in stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1, stderr
    assert "--public-url" in warnings[0] and "0.0.0.0" in warnings[0]


@pytest.mark.parametrize("options", [["--host", "127.0.0.1"], ["--host", "0.0.0.0", "--public-url", "http://lrs.example.org"]])
def test_no_warning_when_clients_can_use_the_address(tmp_path, options):
    assert "Warning" not in _stderr_until_banner(tmp_path, *options)


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
def test_help_shows_the_environment_variables(tmp_path, args):
    result = run_briefly(args, tmp_path)
    assert result.returncode == 0, result
    assert "LRS_WS_DATABASE_URL" in result.stdout and "LRS_WS_READ_TIMEOUT" in result.stdout


def test_version(tmp_path):
    result = run_briefly(["--version"], tmp_path)
    assert result.returncode == 0, result
    assert result.stdout.startswith("lrs-ws, version ")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LRS_WS_READ_TIMEOUT", "nan"), ("LRS_WS_KEEP_ALIVE", "inf"), ("LRS_WS_SIGN_IN_BACKOFF_MAX", "nan")],
)
def test_seconds_must_be_finite(tmp_path, variable, value):
    result = run_briefly(["serve", "--port", "0", "--database-url", _sqlite(tmp_path)], tmp_path, env={variable: value})
    assert result.returncode == 2, result
    assert variable in _one_error_line(result)


def test_an_access_log_that_cannot_be_written(tmp_path):
    result = run_briefly(
        ["serve", "--port", "0", "--access-log", str(tmp_path / "no" / "such" / "dir.log"), "--database-url", _sqlite(tmp_path)],
        tmp_path,
    )
    assert result.returncode == 1, result
    assert _one_error_line(result).startswith("Error: cannot write the access log")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://u:s3cret@127.0.0.1:notaport/db", "is not a database URL"),
        ("foo", "is not a database URL"),
        ("sqlite://", "in-memory SQLite database cannot be shared"),
    ],
)
def test_database_urls_that_cannot_serve(tmp_path, url, says):
    result = run_briefly(["serve", "--port", "0", "--database-url", url], tmp_path)
    assert result.returncode == 1, result
    line = _one_error_line(result)
    assert says in line and "s3cret" not in result.stderr + result.stdout


def test_serve_loads_the_demo_data_into_a_new_database_only(tmp_path):
    url = _sqlite(tmp_path)
    assert run_briefly(["db", "upgrade", "--database-url", url], tmp_path).returncode == 0
    with open(tmp_path / "out.log", "w") as out:  # the child has its own copy
        process = subprocess.Popen(command("serve", "--port", "0", "--database-url", url), cwd=tmp_path,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not BANNER.search((tmp_path / "out.log").read_text()) and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "out.log").read_text()
            time.sleep(0.1)
        output = (tmp_path / "out.log").read_text()
        assert "nothing changed" in output and "Loaded the demo data" not in output
    finally:
        stop(process)
    import sqlite3

    with sqlite3.connect(tmp_path / "lrs-ws.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM organisations").fetchone() == (0,)


@pytest.mark.parametrize("value", ["10.0.0.300", "proxy.example.org", "127.0.0.1,10.0.0.0/33"])
def test_a_proxy_that_is_not_an_address(tmp_path, value):
    result = run_briefly(["serve", "--port", "0", "--forwarded-allow-ips", value, "--database-url", _sqlite(tmp_path)], tmp_path)
    assert result.returncode == 2, result
    line = _one_error_line(result)
    assert "--forwarded-allow-ips" in line and "is not an IP address or network" in line, line
