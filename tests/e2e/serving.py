"""Run `python -m lrs_ws serve` as a user would, for the end-to-end tests, and talk SOAP to it.

:func:`serving` starts the server on a free port (`--port 0`; the port is read from the banner),
with standard output and error in a log file (a pipe nobody reads could fill up and block the
server), waits until `/health` answers 200, and stops it (SIGTERM, then SIGKILL) however the
test ends. :func:`fresh_database` is a temporary SQLite file, or a new PostgreSQL database when
LRS_WS_TEST_DATABASE_URL names a server (dropped afterwards).

The envelopes are raw SOAP 1.1, as on the wire; :func:`answer` reads the ResponseCode of an
answer or the ErrorCode of a fault (MIAPAPIException or DomainFault).
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
from lxml import etree

from lrs_ws.contract.namespaces import (
    BATCHMSG,
    EXCEPTIONS,
    FINDMSG,
    QCF_FAULTS,
    QCF_INTERFACE,
    REGMSG,
    SOAP_ENV,
    TEMPURI,
    XSI,
)
from tests.conftest import DEMO

ORG = DEMO["organisation"]
START_TIMEOUT = 60.0
BANNER = re.compile(r"^  Learner Register:\s+(?P<base>https?://\S+?)/LearnerService\.svc\s*$", re.M)

AMELIA = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes"}


def command(*args: str) -> list[str]:
    """`lrs-ws ARGS` as a subprocess command line (the interpreter running the tests)."""
    return [sys.executable, "-m", "lrs_ws", *args]


def console_command(*args: str) -> list[str]:
    """`lrs-ws ARGS` through the installed console script, as a user types it: unlike `python -m`,
    it does not put the current directory first on sys.path."""
    return [str(Path(sys.executable).with_name("lrs-ws")), *args]


@dataclass
class Finished:
    """How a short `lrs-ws` run ended: its exit status (None: still running at the timeout, then
    stopped), standard output and standard error."""

    returncode: int | None
    stdout: str
    stderr: str


def run_briefly(args: list[str], directory: Path, *, timeout: float = 30.0, env: dict[str, str] | None = None) -> Finished:
    """Run `lrs-ws ARGS` in `directory` (its own process group), which should end by itself;
    after `timeout` seconds it is stopped (SIGTERM, then SIGKILL, to the whole group)."""
    directory.mkdir(parents=True, exist_ok=True)
    out_path, err_path = directory / "run.stdout", directory / "run.stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(
            command(*args), stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=directory,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True,
        )
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        returncode = None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
    return Finished(returncode, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


def postgres_base_url() -> str | None:
    """The PostgreSQL server the suite runs on, or None (SQLite)."""
    url = os.environ.get("LRS_WS_TEST_DATABASE_URL", "")
    return url if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")) else None


@contextlib.contextmanager
def fresh_database(directory: Path, *, sqlite: bool = False) -> Iterator[str]:
    """A new, empty database: on the suite's PostgreSQL server (unless `sqlite`), else a SQLite
    file in `directory`."""
    base = None if sqlite else postgres_base_url()
    if base is None:
        yield f"sqlite:///{directory / 'lrs-ws.sqlite3'}"
        return
    from tests.conftest import _postgres_database

    url, drop = _postgres_database(base)
    try:
        yield url
    finally:
        drop()


@dataclass
class Served:
    """A running `lrs-ws serve`: its process (the gunicorn arbiter), its log and its address."""

    process: subprocess.Popen
    log_path: Path
    base_url: str
    database_url: str
    # verify / cert for requests when the server speaks TLS
    client: dict = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url(path), **{"timeout": 10, **self.client, **kwargs})

    def post(self, path: str, envelope: str | bytes, soap_action: str | None = None, **kwargs) -> requests.Response:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if soap_action is not None:
            headers["SOAPAction"] = soap_action
        data = envelope.encode("utf-8") if isinstance(envelope, str) else envelope
        return requests.post(self.url(path), data=data, headers=headers, **{"timeout": 10, **self.client, **kwargs})

    def call(self, envelope: str, **kwargs) -> str:
        """POST a Learner Register envelope; the ResponseCode or fault ErrorCode."""
        return answer(self.post("/LearnerService.svc", envelope, **kwargs))

    def call_r9(self, envelope: str, **kwargs) -> str:
        """POST a GetLearnerLearningEvents envelope; the ResponseCode or DomainFault ErrorCode."""
        return answer(self.post("/LearnerServiceR9.svc", envelope, soap_action=R9_ACTION, **kwargs))

    def health(self) -> tuple[int, dict]:
        response = self.get("/health")
        return response.status_code, response.json()

    def worker_pids(self) -> set[int]:
        """The server's worker processes: the children of the serve process but its batch worker."""
        return {pid for pid in children(self.process.pid) if not is_batch_worker(pid)}

    def batch_worker_pid(self, timeout: float = 30.0) -> int:
        """The batch worker that serve runs beside the server workers (a child of the process
        that supervises it, `lrs-ws worker --supervise`)."""

        def find() -> int | None:
            supervisors = [pid for pid in children(self.process.pid) if is_batch_worker(pid)]
            return next((pid for sup in supervisors for pid in children(sup) if is_batch_worker(pid)), None)

        return eventually(find, timeout, what="a batch worker process")

    def wait_for_workers(self, count: int, *, not_in: set[int] = frozenset(), timeout: float = 30.0) -> set[int]:
        """Wait until `count` workers run, none of them in `not_in`; their pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count and not pids & set(not_in):
                return pids
            assert self.process.poll() is None, f"the server exited:\n{self.log()}"
            time.sleep(0.05)
        raise AssertionError(f"no {count} new workers within {timeout} s (have {self.worker_pids()}):\n{self.log()}")


def is_batch_worker(pid: int) -> bool:
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    return arguments[1:5] == [b"-I", b"-m", b"lrs_ws", b"worker"]  # the supervisor (`--supervise`) too


def children(pid: int) -> set[int]:
    """The child processes of `pid`, whichever of its threads started them."""
    found: set[int] = set()
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(child) for child in listing.read_text().split())
        except FileNotFoundError:  # the thread ended
            continue
    return found


def start(
    log_path: Path,
    database_url: str,
    *options: str,
    env: dict[str, str] | None = None,
    client: dict | None = None,
    timeout: float = START_TIMEOUT,
    cwd: Path | None = None,
) -> Served:
    """Start `lrs-ws serve --port 0 OPTIONS` on `database_url`; return once /health answers 200
    with its batch worker running (or off). With `cwd`, the console script runs there.

    The caller stops it with :func:`stop` (the process is stopped here if it never gets ready).
    """
    arguments = ("serve", "--port", "0", "--database-url", database_url, *options)
    with open(log_path, "w") as log_file:  # the child has its own copy
        process = subprocess.Popen(
            command(*arguments) if cwd is None else console_command(*arguments),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            cwd=cwd,
        )
    served = None
    try:
        served = _wait_until_ready(process, log_path, database_url, client or {}, timeout)
        return served
    finally:
        if served is None:
            stop(process)


def _wait_until_ready(process, log_path: Path, database_url: str, client: dict, timeout: float) -> Served:
    deadline = time.monotonic() + timeout
    base_url = None
    while base_url is None:
        found = BANNER.search(log_path.read_text(errors="replace"))
        if found:
            base_url = found["base"]
            break
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}) before its banner:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no banner within {timeout} s:\n{log_path.read_text()}")
        time.sleep(0.05)
    served = Served(process, log_path, base_url, database_url, dict(client))
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}):\n{served.log()}")
        try:
            response = served.get("/health", timeout=2)
            if response.status_code == 200 and response.json().get("batch_worker") in ("running", "off"):
                return served
            last = f"{response.status_code} {response.text}"
        except requests.RequestException as error:
            last = repr(error)
        time.sleep(0.1)
    raise AssertionError(f"/health did not answer 200 within {timeout} s (last: {last}):\n{served.log()}")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM (gunicorn stops its workers), then SIGKILL if it is still there."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for child in children(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            process.kill()
            process.wait(timeout=timeout)


@contextlib.contextmanager
def serving(
    directory: Path,
    *options: str,
    database_url: str | None = None,
    sqlite: bool = False,
    env: dict[str, str] | None = None,
    client: dict | None = None,
    cwd: Path | None = None,
) -> Iterator[Served]:
    """`lrs-ws serve --port 0 OPTIONS` on a fresh database (or `database_url`), ready; stopped
    when the block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if database_url is None:
            database_url = stack.enter_context(fresh_database(directory, sqlite=sqlite))
        served = start(directory / "serve.log", database_url, *options, env=env, client=client, cwd=cwd)
        try:
            yield served
        finally:
            stop(served.process)


# --- envelopes --------------------------------------------------------------------------------

R9_ACTION = '"http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"'


def _credentials(user: str) -> str:
    return f"<UKPRN>{ORG['ukprn']}</UKPRN><OrgPassword>{ORG['password']}</OrgPassword><UserName>{user}</UserName>"


def find_by_uln(
    uln: str = AMELIA["ULN"], given: str = AMELIA["GivenName"], family: str = AMELIA["FamilyName"], user: str = "online"
) -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><f:FindLearnerByULN xmlns:f="{FINDMSG}">'
        f"<FindType>FUL</FindType>{_credentials(user)}<ULN>{uln}</ULN><FamilyName>{family}</FamilyName>"
        f"<GivenName>{given}</GivenName></f:FindLearnerByULN></soapenv:Body></soapenv:Envelope>"
    )


def find_by_demographics(learner: dict, user: str = "online") -> str:
    """A FUL search on the five fields (the search a register needs first)."""
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><f:FindLearnerByDemographics xmlns:f="{FINDMSG}">'
        f"<FindType>FUL</FindType>{_credentials(user)}<FamilyName>{learner['FamilyName']}</FamilyName>"
        f"<GivenName>{learner['GivenName']}</GivenName><DateOfBirth>{learner['DateOfBirth']}</DateOfBirth>"
        f"<Gender>{learner['Gender']}</Gender><LastKnownPostCode>{learner['LastKnownPostCode']}</LastKnownPostCode>"
        f"</f:FindLearnerByDemographics></soapenv:Body></soapenv:Envelope>"
    )


def register(learner: dict, user: str = "online") -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><r:RegisterLearner xmlns:r="{REGMSG}">'
        f"{_credentials(user)}<Learner><GivenName>{learner['GivenName']}</GivenName>"
        f"<FamilyName>{learner['FamilyName']}</FamilyName><LastKnownPostCode>{learner['LastKnownPostCode']}</LastKnownPostCode>"
        f"<DateOfBirth>{learner['DateOfBirth']}</DateOfBirth><Gender>{learner['Gender']}</Gender>"
        f"<AbilityToShare>1</AbilityToShare></Learner></r:RegisterLearner></soapenv:Body></soapenv:Envelope>"
    )


def learning_events(
    uln: str = AMELIA["ULN"], given: str = AMELIA["GivenName"], family: str = AMELIA["FamilyName"], user: str = "online"
) -> str:
    """GetLearnerLearningEvents as a WCF client sends it."""
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><GetLearnerLearningEvents xmlns="{TEMPURI}">'
        f'<invokingOrganisation xmlns:a="{QCF_INTERFACE}" xmlns:i="{XSI}"><a:OrganisationRef i:nil="true"/>'
        f"<a:Password>{ORG['password']}</a:Password><a:Ukprn>{ORG['ukprn']}</a:Ukprn><a:Username>{user}</a:Username>"
        f"</invokingOrganisation><userType>LNR</userType><vendorID>0</vendorID><language>ENG</language>"
        f"<uln>{uln}</uln><givenName>{given}</givenName><familyName>{family}</familyName>"
        f'<dateOfBirth i:nil="true" xmlns:i="{XSI}"/><gender i:nil="true" xmlns:i="{XSI}"/><getType>FULL</getType>'
        f"</GetLearnerLearningEvents></s:Body></s:Envelope>"
    )


def submit_batch(learners: list[dict], job_type: str = "FUL", count: int | None = None, user: str = "batch") -> str:
    """submitBatchRegistration; each learner's fields are written in BatchLearner order."""
    from lrs_ws.contract.learner_fields import BATCH_FIELDS

    body = "".join(
        "<Learner>" + "".join(f"<{name}>{learner[name]}</{name}>" for name in BATCH_FIELDS if name in learner) + "</Learner>"
        for learner in learners
    )
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><b:SubmitBatch xmlns:b="{BATCHMSG}">'
        f"{_credentials(user)}<JobType>{job_type}</JobType>"
        f"<LearnerRecordCount>{len(learners) if count is None else count}</LearnerRecordCount>{body}"
        f"</b:SubmitBatch></soapenv:Body></soapenv:Envelope>"
    )


def batch_output(job_id: int, user: str = "batch") -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><b:GetSubmitBatchOutput xmlns:b="{BATCHMSG}">'
        f"{_credentials(user)}<JobID>{job_id}</JobID></b:GetSubmitBatchOutput></soapenv:Body></soapenv:Envelope>"
    )


def answer(response: requests.Response) -> str:
    """The ResponseCode of an answer, or the ErrorCode of a fault, of either service."""
    return answer_of(response.content, f"HTTP {response.status_code}")


def fault_detail(content: bytes) -> tuple[str, str, str]:
    """(kind, ErrorCode, text) of a fault envelope: kind MIAPAPIException or DomainFault."""
    body = etree.fromstring(content).find(f"{{{SOAP_ENV}}}Body")
    fault = body.find(f"{{{SOAP_ENV}}}Fault")
    assert fault is not None, f"not a fault: {content[:300]!r}"
    miap = fault.find(f"detail/{{{EXCEPTIONS}}}MIAPAPIException")
    if miap is not None:
        return "MIAPAPIException", miap.findtext("ErrorCode"), miap.findtext("FurtherDetails") or ""
    domain = fault.find(f"detail/{{{QCF_FAULTS}}}DomainFault")
    assert domain is not None, f"a fault without MIAPAPIException or DomainFault: {content[:300]!r}"
    from lrs_ws.soap.faults import domain_fault_text

    return "DomainFault", domain.findtext(f"{{{QCF_FAULTS}}}ErrorCode"), domain_fault_text(domain)


def answer_of(content: bytes, what: str = "") -> str:
    try:
        envelope = etree.fromstring(content)
    except etree.XMLSyntaxError:
        raise AssertionError(f"not XML ({what}): {content[:300]!r}") from None
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None and len(body), f"no SOAP Body ({what}): {content[:300]!r}"
    if body[0].tag == f"{{{SOAP_ENV}}}Fault":
        kind, code, _ = fault_detail(content)
        return code
    codes = [e.text for e in body.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "ResponseCode"]
    assert codes, f"no ResponseCode ({what}): {content[:300]!r}"
    return codes[0]


def eventually(check, timeout: float, interval: float = 0.05, what: str = "the condition"):
    """Call `check` until it returns a true value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except (AssertionError, requests.RequestException) as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s (last: {last!r})")
        time.sleep(interval)
