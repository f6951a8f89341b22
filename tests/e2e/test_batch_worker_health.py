"""The batch worker `serve` runs: it starts whatever the current directory holds, and how it is
(running, restarting, failed, off) is said in one log line, in /health and in `lrs-ws batch status`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from tests.e2e.serving import (
    children,
    console_command,
    eventually,
    is_batch_worker,
    run_briefly,
    serving,
)
from tests.e2e.test_batch_worker import finished_output, new_learners, submit


def _batch_worker_state(served) -> str:
    status, health = served.health()
    assert status == 200, health
    return health["batch_worker"]


def _batch_status(served) -> str:
    finished = subprocess.run(
        console_command("batch", "status"), capture_output=True, text=True, timeout=60,
        env={**os.environ, "LRS_WS_DATABASE_URL": served.database_url},
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def _supervisor(served) -> int:
    return eventually(lambda: next((pid for pid in children(served.process.pid) if is_batch_worker(pid)), None), 30,
                      what="the batch worker's supervisor")


def test_the_worker_starts_from_a_directory_holding_an_lrs_ws_folder(tmp_path):
    # A checkout's lrs_ws/ (no adapters/ inside) where serve is started: `python -m` would import it.
    shadow = tmp_path / "checkout" / "lrs_ws"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("the lrs_ws of the current directory was imported")\n')
    (shadow / "__main__.py").write_text("")
    with serving(tmp_path / "run", cwd=shadow.parent) as served:
        assert _batch_worker_state(served) == "running"
        job_id = submit(served, new_learners(0, 2))
        output = finished_output(served, job_id, timeout=60)
        assert output.findtext("ResponseCode") == "WSRC0009"
        log = served.log()
        assert "current directory was imported" not in log and "Traceback" not in log, log
        status = _batch_status(served)
        assert "(serve's, supervised): running" in status, status


def test_a_killed_worker_is_one_error_line_restarting_then_running(tmp_path):
    with serving(tmp_path) as served:
        worker = served.batch_worker_pid()
        os.kill(worker, signal.SIGKILL)
        eventually(lambda: _batch_worker_state(served) == "restarting", 10, what="/health saying restarting")
        assert "(serve's, supervised): restarting: the batch worker ended (killed by SIGKILL)" in _batch_status(served)
        eventually(lambda: _batch_worker_state(served) == "running", 30, what="/health saying running again")
        assert served.batch_worker_pid() != worker
        lines = [line for line in served.log().splitlines() if f"batch worker (pid {worker})" in line]
        assert len(lines) == 1 and "[ERROR]" in lines[0] and "killed by SIGKILL" in lines[0], served.log()
        assert "Traceback" not in served.log()
        job_id = submit(served, new_learners(0, 1))
        assert finished_output(served, job_id, timeout=60).findtext("ResponseCode") == "WSRC0009"


def test_a_killed_supervisor_is_failed_then_started_again(tmp_path):
    with serving(tmp_path) as served:
        supervisor = _supervisor(served)
        os.kill(supervisor, signal.SIGKILL)
        eventually(lambda: _batch_worker_state(served) == "failed", 10, what="/health saying failed")
        eventually(lambda: _batch_worker_state(served) == "running", 30, what="/health saying running again")
        assert _supervisor(served) != supervisor
        lines = [line for line in served.log().splitlines() if f"supervisor (pid {supervisor})" in line]
        assert len(lines) == 1 and "[ERROR]" in lines[0] and "killed by SIGKILL" in lines[0], served.log()
        job_id = submit(served, new_learners(0, 1))
        assert finished_output(served, job_id, timeout=60).findtext("ResponseCode") == "WSRC0009"


def test_no_worker_is_off(tmp_path):
    with serving(tmp_path, "--no-worker") as served:
        assert _batch_worker_state(served) == "off"


def test_a_worker_that_cannot_start_is_restarting_then_failed(tmp_path):
    """A supervisor whose workers cannot open their database: an ERROR line each, then `failed`
    in `lrs-ws batch status`, with the reason."""
    database = f"sqlite:///{tmp_path / 'lrs.sqlite3'}"
    assert run_briefly(["db", "upgrade", "--database-url", database], tmp_path / "upgrade").returncode == 0
    missing = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    supervise = textwrap.dedent(f"""
        import lrs_ws.worker as worker
        from lrs_ws.bootstrap import build_runtime
        from lrs_ws.config import Settings
        from lrs_ws.server import configure_logging
        worker.RESTART_PAUSE_SECONDS = 0.1
        configure_logging("info")
        board = worker.StatusBoard(build_runtime(Settings(database_url={database!r})).unit_of_work, "test:supervisor", supervised=True)
        worker.supervise(["worker", "--database-url", {missing!r}], board, {missing!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", supervise], stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        def status() -> str:
            finished = run_briefly(["batch", "status", "--database-url", database], tmp_path / "status")
            assert finished.returncode == 0, finished.stderr
            return finished.stdout

        def saying(*words: str):
            text = status()
            return text if any(word in text for word in words) else None

        said = eventually(lambda: saying("restarting", "failed"), 30, what="a report of the worker that cannot start")
        assert "the batch worker could not start (there is no database file" in said, said
        said = eventually(lambda: saying("failed"), 30, what="failed")
        assert "test:supervisor (serve's, supervised): failed: the batch worker could not start" in said, said
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    lines = [line for line in errors.splitlines() if "could not start" in line]
    assert len(lines) >= 3 and all("[ERROR]" in line for line in lines), errors
    assert "Traceback" not in errors, errors
    assert "No batch worker" not in status() and "none has reported" in status()  # withdrawn on SIGTERM
