"""`LrsSandbox`: a running `lrs-ws serve --sandbox` as a test sees it, through its control API.

Either started here (:func:`start_sandbox`: a temporary SQLite register with the demo data, its
own token, stopped however the run ends) or one already running elsewhere (a CI service, another
machine, PostgreSQL behind it), named by its URL and token.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from lrs_ws.sandbox.client import SandboxClient

START_TIMEOUT = 120.0  # seconds for a new server to answer /health with its batch worker running
_BANNER = re.compile(r"^  Learner Register:\s+(?P<base>https?://\S+?)/LearnerService\.svc\s*$", re.M)
# How long a call's journal entry may take to be written (each process writes its entries 0.2 s
# after the call): assert_called waits this long for entries that are missing, and the settle
# time before it says there were no more than it counted.
JOURNAL_DELAY = 1.0
JOURNAL_SETTLE = 0.4


def demo_data() -> dict[str, Any]:
    """fixtures/demo.json, read as package data (lrs_ws.fixtures)."""
    return json.loads(resources.files("lrs_ws.fixtures").joinpath("demo.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SandboxOrganisation:
    """An organisation of a test's own (`LrsSandbox.new_organisation`)."""

    ukprn: str
    org_ref: str
    password: str
    users: tuple[dict[str, Any], ...]

    def credentials(self, user: str = "online") -> dict[str, str]:
        """As the Learner Register's requests carry them: UKPRN, OrgPassword, UserName."""
        return {"UKPRN": self.ukprn, "OrgPassword": self.password, "UserName": user}


class LrsSandbox:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.api = SandboxClient(self.url, token)
        demo = demo_data()
        organisation = demo["organisation"]
        # The demo's `online` user, as the Learner Register's requests carry it.
        self.credentials = {"UKPRN": organisation["ukprn"], "OrgPassword": organisation["password"], "UserName": "online"}

    learner_service_url = property(lambda self: f"{self.url}/LearnerService.svc")
    r9_url = property(lambda self: f"{self.url}/LearnerServiceR9.svc")
    wsdl_url = property(lambda self: f"{self.url}/LearnerService.svc?singlewsdl")
    r9_wsdl_url = property(lambda self: f"{self.url}/LearnerServiceR9.svc?singlewsdl")

    def __repr__(self) -> str:
        return f"LrsSandbox({self.url})"

    # --- the register

    def reset(self) -> None:
        """The register back to its baseline; the journal, faults and clock emptied."""
        self.api.call("POST", "/reset", {})

    def new_organisation(self, name: str | None = None) -> SandboxOrganisation:
        """An organisation of this test's own (the way to isolate tests run in parallel)."""
        made = self.api.call("POST", "/organisations", {} if name is None else {"name": name})
        return SandboxOrganisation(made["ukprn"], made["org_ref"], made["password"], tuple(made["users"]))

    def plant(self, learners: list[dict[str, Any]]) -> list[str]:
        """Learners on the register by registerSingleLearner's rules (wire names; `ULN`,
        `linked_to` and `events` optional); their ULNs, in order."""
        return list(self.api.call("POST", "/learners", {"learners": learners})["ulns"])

    def run_jobs(self) -> list[dict[str, Any]]:
        """Run every queued batch job now: [{"job_id", "status"}]."""
        return list(self.api.call("POST", "/jobs/run", {})["jobs"])

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        return list(self.api.call("GET", "/scenarios")["scenarios"])

    # --- faults and the clock, undone when the block ends

    @contextlib.contextmanager
    def fault(
        self,
        operation: str = "*",
        kind: str = "fault",
        *,
        ukprn: str | None = None,
        seconds: float | None = None,
        code: str | None = None,
        status: int | None = None,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> Iterator[int]:
        """A planted fault (delay, fault, http or drop) for the block; its id."""
        body: dict[str, Any] = {"operation": operation, "kind": kind, "times": times, "probability": probability}
        for name, value in (("ukprn", ukprn), ("seconds", seconds), ("code", code), ("status", status)):
            if value is not None:
                body[name] = value
        fault_id = int(self.api.call("POST", "/faults", body)["id"])
        try:
            yield fault_id
        finally:
            with contextlib.suppress(Exception):  # spent already (times), or reset
                self.api.call("DELETE", f"/faults/{fault_id}")

    @contextlib.contextmanager
    def clock(self, now: str, frozen: bool = True) -> Iterator[dict[str, Any]]:
        """The sandbox's time for the block (ISO 8601; UK time without a zone); after it, the time
        it told before (an outer block's, running on if it ran, or the host's)."""
        before = self.api.call("GET", "/clock")
        entered = time.monotonic()
        said = self.api.call("PUT", "/clock", {"now": now, "frozen": frozen})
        try:
            yield said
        finally:
            if not before.get("set"):
                self.api.call("DELETE", "/clock")
            else:
                told = datetime.fromisoformat(before["now"])
                if not before.get("frozen"):
                    told += timedelta(seconds=time.monotonic() - entered)
                self.api.call("PUT", "/clock", {"now": told.isoformat(), "frozen": bool(before.get("frozen"))})

    # --- the journal

    def requests(
        self,
        *,
        operation: str | None = None,
        outcome: str | None = None,
        ukprn: str | None = None,
        user: str | None = None,
        since_id: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The journal, newest first, filtered; it is written a moment after each call (see
        `assert_called`, which waits for it)."""
        found = self.api.call("GET", "/requests", operation=operation, outcome=outcome, ukprn=ukprn, user=user,
                              since_id=since_id, limit=limit)
        return list(found["requests"])

    def assert_called(
        self,
        operation: str,
        times: int | None = None,
        *,
        outcome: str | None = None,
        ukprn: str | None = None,
        user: str | None = None,
        since_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Pass when the journal holds `times` calls of `operation` (at least one when None) that
        match the filters; else fail with the requests that were made. The matching entries.

        Entries are written a moment after their call: it waits for them, up to JOURNAL_DELAY
        seconds when they are missing, and JOURNAL_SETTLE seconds before it says there were not
        more than `times`."""
        filters = {"outcome": outcome, "ukprn": ukprn, "user": user, "since_id": since_id}
        started = time.monotonic()
        while True:
            found = self.requests(operation=operation, outcome=outcome, ukprn=ukprn, user=user, since_id=since_id, limit=1000)
            waited = time.monotonic() - started
            if times is None and found:
                return found
            if times is not None and len(found) >= times and waited >= JOURNAL_SETTLE:
                break
            if waited > JOURNAL_DELAY:
                break
            time.sleep(0.05)
        if times is not None and len(found) == times:
            return found
        made = self.requests(limit=50)
        listing = "\n".join(
            f"  {entry['operation']} -> {entry['outcome']}" + (f" ({entry['problem']})" if entry.get("problem") else "")
            for entry in reversed(made)
        ) or "  (none)"
        wanted = "at least once" if times is None else f"{times} time{'s' if times != 1 else ''}"
        given = {name: value for name, value in filters.items() if value is not None}
        where = f" with {given}" if given else ""
        raise AssertionError(f"expected {operation}{where} {wanted}, found {len(found)}; the requests made:\n{listing}")


# --- a server of the test run's own -----------------------------------------------------------


def _without_our_settings(environment: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The test run's environment without lrs-ws's settings (LRS_WS_PUBLIC_URL, LRS_WS_NO_DEMO,
    a database URL...): the server started here is always the same, whatever the shell holds."""
    return {name: value for name, value in environment.items() if not name.startswith("LRS_WS_")}


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if the test run dies (a kill -9 gives it no other chance)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class StartedSandbox:
    """`lrs-ws serve --sandbox` started for a test run; `stop()` ends it and its children."""

    def __init__(self, directory: Path, workers: int = 2, serve_options: Sequence[str] = ()) -> None:
        """`serve_options`: more options of `lrs-ws serve` (`--no-worker`, say)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_urlsafe(24)
        self.log_path = directory / "lrs-ws.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lrs_ws", "serve", "--sandbox", "--port", "0", "--workers", str(workers),
                 "--database-url", f"sqlite:///{directory / 'lrs-ws.sqlite3'}", *serve_options],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=directory,
                env={**_without_our_settings(os.environ), "LRS_WS_SANDBOX_TOKEN": self.token, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # its own group: Ctrl-C is ours to pass on, and stop() ends it whole
                preexec_fn=_die_with_parent,
            )
        try:
            self.url = self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_until_ready(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        url = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lrs-ws serve --sandbox exited ({self.process.returncode}):\n{self.log()}")
            if url is None and (found := _BANNER.search(self.log())):
                url = found["base"]
            if url is not None and self._ready(url):
                return url
            time.sleep(0.1)
        raise RuntimeError(f"lrs-ws serve --sandbox did not become ready within {START_TIMEOUT:g} s:\n{self.log()}")

    @staticmethod
    def _ready(url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                return json.loads(response.read()).get("batch_worker") in ("running", "off")
        except (OSError, urllib.error.URLError, ValueError):  # not yet
            return False

    def stop(self) -> None:
        """SIGTERM to the server's process group, then SIGKILL to whatever of it is left (the
        server after 20 s; its batch worker, say, at once once the server has ended)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
