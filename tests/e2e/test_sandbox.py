"""Sandbox mode over HTTP, against `lrs-ws serve --sandbox` with two workers (SQLite, and in CI's
second stage PostgreSQL): every endpoint of the control API, every fault kind, reset under
traffic, two organisations side by side, the clock, the journal's masking and near misses, and
the guard (404 without --sandbox, 401 without the token)."""
from __future__ import annotations

import os
import socket
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from lrs_ws.adapters.engines import make_engine, sqlite_path
from lrs_ws.contract.namespaces import FINDMSG, REGMSG, SOAP_ENV
from tests.e2e.serving import (
    AMELIA,
    ORG,
    answer,
    answer_of,
    console_command,
    eventually,
    find_by_demographics,
    find_by_uln,
    learning_events,
    run_briefly,
    serving,
    submit_batch,
)

TOKEN = "e2e-sandbox-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
AMELIA_SEARCH = {**AMELIA, "DateOfBirth": "2007-03-14", "Gender": "2", "LastKnownPostCode": "B15 2TT"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("sandbox"), "--sandbox", "--sandbox-token", TOKEN, "--workers", "2") as server:
        yield server


@pytest.fixture
def sandbox(served):
    """The served sandbox, reset to its baseline before the test."""
    assert api(served, "POST", "/reset").status_code == 200
    return served


def api(served, method: str, path: str, json=None, **params) -> requests.Response:
    return requests.request(method, served.url("/sandbox" + path), json=json, params=params, headers=AUTH, timeout=30)


def journal(served, wanted: int = 1, **filters) -> list[dict]:
    """The newest journal entries, once at least `wanted` are there (entries are written a moment
    after their request is answered)."""
    deadline = time.monotonic() + 10
    while True:
        entries = api(served, "GET", "/requests", **filters).json()["requests"]
        if len(entries) >= wanted or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def credentials_of(org: dict, user: str = "online") -> str:
    return f"<UKPRN>{org['ukprn']}</UKPRN><OrgPassword>{org['password']}</OrgPassword><UserName>{user}</UserName>"


def register(learner: dict, org: dict, user: str = "online") -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><r:RegisterLearner xmlns:r="{REGMSG}">{credentials_of(org, user)}<Learner>'
        f"<GivenName>{learner['GivenName']}</GivenName><FamilyName>{learner['FamilyName']}</FamilyName>"
        f"<LastKnownPostCode>{learner['LastKnownPostCode']}</LastKnownPostCode><DateOfBirth>{learner['DateOfBirth']}</DateOfBirth>"
        f"<Gender>{learner['Gender']}</Gender><AbilityToShare>1</AbilityToShare></Learner></r:RegisterLearner></s:Body></s:Envelope>"
    )


def search(learner: dict, org: dict) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><f:FindLearnerByDemographics xmlns:f="{FINDMSG}"><FindType>FUL</FindType>'
        f"{credentials_of(org)}<FamilyName>{learner['FamilyName']}</FamilyName><GivenName>{learner['GivenName']}</GivenName>"
        f"<DateOfBirth>{learner['DateOfBirth']}</DateOfBirth><Gender>{learner['Gender']}</Gender>"
        f"<LastKnownPostCode>{learner['LastKnownPostCode']}</LastKnownPostCode></f:FindLearnerByDemographics></s:Body></s:Envelope>"
    )


# --- the guard --------------------------------------------------------------------------------


def test_without_the_token_every_endpoint_is_401(served):
    for method, path in (("GET", "/requests"), ("POST", "/reset"), ("GET", "/clock"), ("POST", "/faults"), ("GET", "/scenarios")):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            response = requests.request(method, served.url("/sandbox" + path), headers=headers, timeout=10)
            assert response.status_code == 401 and "error" in response.json(), (method, path, headers)


def test_without_sandbox_mode_there_is_no_sandbox(tmp_path):
    with serving(tmp_path, "--workers", "1", "--no-worker") as plain:
        response = requests.get(plain.url("/sandbox/requests"), headers=AUTH, timeout=10)
        assert response.status_code == 404
        assert plain.call(find_by_uln()) == "WSRC0004"


def test_beyond_loopback_the_operator_must_choose_the_token(tmp_path):
    finished = run_briefly(["serve", "--sandbox", "--host", "0.0.0.0", "--port", "0", "--public-url", "http://lrs.test",
                            "--database-url", f"sqlite:///{tmp_path / 'x.sqlite3'}"], tmp_path)
    assert finished.returncode == 1 and "needs --sandbox-token" in finished.stderr and "Traceback" not in finished.stderr


def test_a_token_made_at_start_is_printed_and_works(tmp_path):
    with serving(tmp_path, "--sandbox", "--workers", "1", "--no-worker", sqlite=True) as made:
        line = next(line for line in made.log().splitlines() if "Sandbox token:" in line)
        token = line.split("Sandbox token:")[1].split()[0]
        response = requests.get(made.url("/sandbox/clock"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200 and response.json()["set"] is False


@pytest.mark.parametrize(
    "method, path, body, says",
    [
        ("POST", "/faults", "{not json", "not JSON"),
        ("POST", "/faults", "[1, 2]", "JSON object"),
        ("POST", "/faults", '{"operation": "learnerByULN", "kind": "fault", "colour": "red"}', "colour: unknown field"),
        ("POST", "/faults", '{"operation": 7, "kind": "fault"}', "operation: must be a string"),
        ("POST", "/faults", '{"operation": "learnerByULN", "kind": "explode"}', "kind: must be one of"),
        ("POST", "/faults", '{"operation": "learnerByULN", "kind": "delay"}', "seconds"),
        ("POST", "/faults", '{"operation": "learnerByULN", "kind": "fault", "times": true}', "times: must be an integer"),
        ("PUT", "/clock", '{"now": "yesterday"}', "now:"),
        ("PUT", "/clock", '{"frozen": true}', "now: required"),
        ("POST", "/learners", '{"learners": {}}', "learners: must be a list"),
        ("POST", "/learners", '{"learners": [{"GivenName": "Ada"}]}', "learners[0]"),
        ("GET", "/requests?limit=5000", None, "limit"),
        ("GET", "/requests?outcom=WSRC0001", None, "outcom: unknown query parameter (known: operation, outcome"),
        ("GET", "/requests/abc", None, "id"),
    ],
)
def test_bad_input_is_400_naming_the_field(sandbox, method, path, body, says):
    response = requests.request(method, sandbox.url("/sandbox" + path), data=body, headers=AUTH, timeout=10)
    assert response.status_code == 400, response.text
    assert says in response.json()["error"], response.json()


def test_unknown_paths_and_methods(sandbox):
    assert api(sandbox, "GET", "/nothing").status_code == 404
    assert api(sandbox, "DELETE", "/reset").status_code == 405
    assert api(sandbox, "GET", "/requests/999999").status_code == 404


# --- the journal ------------------------------------------------------------------------------


def test_the_journal_shows_every_call_masked_with_its_problem(sandbox):
    sandbox.call(find_by_uln())
    sandbox.call(find_by_uln().replace(ORG["password"], "WrongPassword000"))
    sandbox.post("/LearnerServiceR9.svc", learning_events().replace("<uln>9105106906", "<uln>9105106907"),
                 soap_action='"http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"')
    # Each worker writes what it served: the journal's order is the order entries were kept.
    entries = journal(sandbox, 3)
    r9 = next(e for e in entries if e["endpoint"] == "/LearnerServiceR9.svc")
    wrong = next(e for e in entries if e["outcome"] == "WSEC0005")
    found = next(e for e in entries if e["outcome"] == "WSRC0004")
    assert (found["operation"], found["outcome"], found["user"], found["ukprn"]) == ("learnerByULN", "WSRC0004", "online", "10000001")
    assert found["http_status"] == 200 and found["duration_ms"] > 0 and found["problem"] is None
    assert "<OrgPassword>***</OrgPassword>" in found["request"] and ORG["password"] not in found["request"]
    assert "WSRC0004" in found["response"]
    assert wrong["outcome"] == "WSEC0005" and "password is incorrect" in wrong["problem"]
    assert "WrongPassword000" not in wrong["request"]
    assert r9["endpoint"] == "/LearnerServiceR9.svc" and r9["soap_action"].endswith('GetLearnerLearningEvents"')
    assert r9["outcome"] == "WSEC0136" and "<a:Password>***</a:Password>" in r9["request"]
    assert api(sandbox, "GET", f"/requests/{found['id']}").json() == found
    assert [e["id"] for e in journal(sandbox, 1, outcome="WSEC0005")] == [wrong["id"]]
    newest = max(e["id"] for e in entries)
    assert [e["id"] for e in journal(sandbox, 1, since_id=newest - 1)] == [newest]
    assert api(sandbox, "DELETE", "/requests").json() == {"requests": []}
    assert api(sandbox, "GET", "/requests").json() == {"requests": []}


@pytest.mark.parametrize("empty", [("POST", "/reset"), ("DELETE", "/requests")])
def test_a_call_made_before_the_journal_is_emptied_stays_out_of_it(sandbox, empty):
    """Entries are written a moment after their call: one still on its way when the journal is
    emptied is not kept (a test's reset must not leave the test before's calls in its journal)."""
    for _ in range(4):  # both workers
        assert answer_of(requests.post(sandbox.url("/LearnerService.svc"), data=find_by_uln(), timeout=10).content) == "WSRC0004"
    assert api(sandbox, *empty).status_code == 200
    sandbox.call(find_by_uln().replace("Amelia", "Zara"))
    entries = journal(sandbox, 1)
    time.sleep(1.0)  # past the writers' delay
    assert [e["outcome"] for e in journal(sandbox, 1)] == [e["outcome"] for e in entries] == ["WSRC0001"]


def test_a_find_by_uln_that_finds_nobody_says_why(sandbox):
    assert sandbox.call(find_by_uln(given="Zara")) == "WSRC0001"
    assert sandbox.call(find_by_uln(uln="9105106907")) == "WSRC0001"
    problems = {e["problem"] for e in journal(sandbox, 2, operation="learnerByULN")}
    assert problems == {"the names sent do not agree with those held for ULN 9105106906: given name differs: Zara sent, Amelia held",
                        "9105106907 is not a ULN: its check digit does not agree"}


def test_a_search_that_finds_nobody_names_its_near_misses(sandbox):
    typo = {**AMELIA_SEARCH, "DateOfBirth": "2007-03-15"}
    assert sandbox.call(find_by_demographics(typo)) == "WSRC0001"
    entry = journal(sandbox, 1, operation="learnerByDemographics")[0]
    assert entry["near_misses"][0] == {"uln": "9105106906", "differences": ["date of birth differs: 2007-03-15 sent, 2007-03-14 held"]}
    assert "date of birth differs: 2007-03-15 sent, 2007-03-14 held" in entry["problem"]
    assert sandbox.call(find_by_demographics({**AMELIA_SEARCH, "GivenName": "Amelie"})) in ("WSRC0001", "WSRC0003")
    second = journal(sandbox, 2, operation="learnerByDemographics")[0]
    assert any("given name differs: Amelie sent, Amelia held" in d for miss in second["near_misses"] for d in miss["differences"])


def test_no_stored_byte_holds_a_password(sandbox, tmp_path):
    new = api(sandbox, "POST", "/organisations", {"name": "Masking"}).json()
    for password in (ORG["password"], new["password"], "WrongPassword000"):
        sandbox.call(find_by_uln().replace(ORG["password"], password))
        sandbox.call(search(AMELIA_SEARCH, {**new, "password": password}).replace(
            f"<OrgPassword>{password}", f"<OrgPassword><![CDATA[{password[:4]}]]>{password[4:]}"))
    assert len(journal(sandbox, 6)) >= 6
    secrets = [ORG["password"], new["password"], "WrongPassword000", new["password"][4:]]
    if sqlite_path(sandbox.database_url):  # the file itself, and its write-ahead log
        path = sqlite_path(sandbox.database_url)
        stored = b"".join(Path(name).read_bytes() for name in (path, path + "-wal") if Path(name).exists())
    else:
        engine = make_engine(sandbox.database_url)
        with engine.connect() as connection:
            tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            stored = "".join(str(connection.execute(text(f'SELECT * FROM "{table}"')).all()) for table in tables).encode()
        engine.dispose()
    for secret in secrets:
        assert secret.encode() not in stored, secret
    assert TOKEN.encode() not in stored and TOKEN not in sandbox.log()
    # the banner shows the demo organisation's (published) credentials; no other line a password
    logged = [line for line in sandbox.log().splitlines() if "Demo credentials:" not in line]
    assert not [line for line in logged for secret in secrets if secret in line]


# --- reset, organisations, learners -----------------------------------------------------------


def test_reset_puts_the_register_back_under_traffic(sandbox):
    newcomer = {"GivenName": "Resetta", "FamilyName": "Quayle", "DateOfBirth": "2006-06-06", "Gender": "2", "LastKnownPostCode": "LS1 4AP"}
    assert sandbox.call(find_by_demographics(newcomer)) == "WSRC0001"
    assert sandbox.call(register(newcomer, ORG)) == "WSRC0005"
    outcomes: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                outcomes.append(answer_of(requests.post(sandbox.url("/LearnerService.svc"), data=find_by_uln(), timeout=10).content))
            except requests.RequestException as error:
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=traffic) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        for _ in range(3):
            response = api(sandbox, "POST", "/reset")
            assert response.status_code == 200 and response.json()["rows"] > 16
        took = (time.monotonic() - started) / 3
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert outcomes and set(outcomes) == {"WSRC0004"}, set(outcomes)  # every request finished cleanly
    assert took < 1.0, f"a reset took {took:.2f} s"
    assert sandbox.call(find_by_demographics(newcomer)) == "WSRC0001"  # gone with the reset
    assert sandbox.call(find_by_uln()) == "WSRC0004"


def test_a_baseline_marked_is_what_reset_puts_back(tmp_path):
    with serving(tmp_path, "--sandbox", "--sandbox-token", TOKEN, "--workers", "1", "--no-worker") as own:
        planted = api(own, "POST", "/learners", {"learners": [{**AMELIA_SEARCH, "GivenName": "Basilia", "ULN": "1026893096"}]})
        assert planted.status_code == 201 and planted.json() == {"ulns": ["1026893096"]}
        api(own, "POST", "/reset")
        assert own.call(find_by_uln("1026893096", "Basilia", "Hughes")) == "WSRC0001"  # the baseline of the start
        api(own, "POST", "/learners", {"learners": [{**AMELIA_SEARCH, "GivenName": "Basilia", "ULN": "1026893096"}]})
        assert api(own, "POST", "/baseline").status_code == 200
        api(own, "POST", "/reset")
        assert own.call(find_by_uln("1026893096", "Basilia", "Hughes")) == "WSRC0004"  # the baseline marked


def test_two_organisations_side_by_side(sandbox):
    first = api(sandbox, "POST", "/organisations", {"name": "Suite A"}).json()
    second = api(sandbox, "POST", "/organisations").json()
    assert first["ukprn"] != second["ukprn"] and [u["name"] for u in first["users"]] == ["online", "viewonly", "batch", "super"]
    learner = {"GivenName": "Isolde", "FamilyName": "Marsh", "DateOfBirth": "2005-02-03", "Gender": "2", "LastKnownPostCode": "M1 1AE"}
    assert sandbox.call(search(learner, first)) == "WSRC0001"
    assert sandbox.call(register(learner, second)) == "WSRC0021"  # the other organisation's search is not its own
    assert sandbox.call(register(learner, first)) == "WSRC0005"
    fault = api(sandbox, "POST", "/faults", {"operation": "*", "ukprn": second["ukprn"], "kind": "fault", "code": "WSEC0999",
                                             "times": None}).json()["id"]
    assert sandbox.call(search(learner, second)) == "WSEC0999"
    assert sandbox.call(search(learner, first)) == "WSRC0004"  # the first's suite is not faulted
    mine = journal(sandbox, 3, ukprn=first["ukprn"])  # its search, its register, its search again
    assert {entry["ukprn"] for entry in mine} == {first["ukprn"]} and len(mine) == 3
    assert [e["fault"] for e in journal(sandbox, 2, ukprn=second["ukprn"])] == [fault, None]  # the search faulted, the register not


def test_planted_learners_are_found_by_the_real_rules(sandbox):
    learners = [
        {"GivenName": "Plantagenet", "FamilyName": "Rose", "DateOfBirth": "2004-04-04", "Gender": "1", "LastKnownPostCode": "OX1 2JD",
         "AbilityToShare": "1",
         "events": [{"Subject": "History", "Grade": "A", "AchievementAwardDate": "2022-08-18", "Source": "NPD", "Restriction": "0"}]},
        {"GivenName": "Planta", "FamilyName": "Genet", "DateOfBirth": "2004-04-04", "Gender": "2", "LastKnownPostCode": "OX1 2JD"},
    ]
    ulns = api(sandbox, "POST", "/learners", {"learners": learners}).json()["ulns"]
    first = {**learners[0]}
    assert sandbox.call(find_by_uln(ulns[0], "Plantagenet", "Rose")) == "WSRC0004"
    assert sandbox.call(find_by_demographics({**first, "FamilyName": "Ross"})) in ("WSRC0003", "WSRC0001")
    events = sandbox.post("/LearnerServiceR9.svc", learning_events(ulns[0], "Plantagenet", "Rose"),
                          soap_action='"http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"')
    assert answer(events) == "WSRC0004" and b"History" in events.content
    refused = api(sandbox, "POST", "/learners", {"learners": [{**learners[1], "GivenName": "Dummy"}]})
    assert refused.status_code == 400 and "learners[0].GivenName" in refused.json()["error"]


# --- faults -----------------------------------------------------------------------------------


def test_every_fault_kind_on_a_real_operation(sandbox):
    def add(**fault) -> int:
        response = api(sandbox, "POST", "/faults", fault)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    add(operation="learnerByULN", kind="fault", code="WSEC0005")
    assert sandbox.call(find_by_uln()) == "WSEC0005"
    assert sandbox.call(find_by_uln()) == "WSRC0004"  # times 1 by default
    add(operation="learnerByULN", kind="http", status=503, times=2)
    for _ in range(2):
        response = sandbox.post("/LearnerService.svc", find_by_uln())
        assert response.status_code == 503 and response.content == b""
    add(operation="learnerByULN", kind="delay", seconds=1.0)
    started = time.monotonic()
    assert sandbox.call(find_by_uln()) == "WSRC0004" and time.monotonic() - started >= 1.0
    add(operation="*", kind="drop")
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as sock:
        body = find_by_uln().encode()
        sock.sendall(b"POST /LearnerService.svc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        assert sock.recv(65536) == b""  # closed without a byte
    assert sandbox.call(find_by_uln()) == "WSRC0004"
    kinds = [(e["outcome"], e["fault"] is not None) for e in journal(sandbox, 7, operation="learnerByULN")]
    assert ("WSEC0005", True) in kinds and ("503", True) in kinds and ("dropped", True) in kinds and ("WSRC0004", False) in kinds


def test_a_fault_for_n_times_fires_n_times_across_both_workers(sandbox):
    fault = api(sandbox, "POST", "/faults", {"operation": "learnerByULN", "kind": "fault", "times": 7}).json()["id"]
    assert api(sandbox, "GET", "/faults").json()["faults"][0]["times"] == 7
    outcomes: list[str] = []

    def calls() -> None:
        for _ in range(10):  # a new connection each: both workers take them
            outcomes.append(answer_of(requests.post(sandbox.url("/LearnerService.svc"), data=find_by_uln(), timeout=10).content))

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("WSEC0999") == 7 and outcomes.count("WSRC0004") == 33
    assert api(sandbox, "GET", "/faults").json() == {"faults": []}
    assert api(sandbox, "DELETE", f"/faults/{fault}").status_code == 404


def test_faults_are_listed_removed_and_cleared(sandbox):
    first = api(sandbox, "POST", "/faults", {"operation": "learnerByULN", "kind": "fault", "times": None}).json()["id"]
    api(sandbox, "POST", "/faults", {"operation": "*", "kind": "http", "status": 500, "probability": 0})
    listed = api(sandbox, "GET", "/faults").json()["faults"]
    assert [(f["id"], f["times"]) for f in listed][:1] == [(first, None)] and len(listed) == 2
    assert sandbox.call(find_by_demographics(AMELIA_SEARCH)) == "WSRC0004"  # probability 0 never fires
    assert api(sandbox, "DELETE", f"/faults/{first}").json() == {"id": first}
    assert sandbox.call(find_by_uln()) == "WSRC0004"
    assert api(sandbox, "DELETE", "/faults").json() == {"faults": []}


# --- the clock, jobs, scenarios ---------------------------------------------------------------


def test_the_clock_changes_an_age_rule_and_a_jobs_times(sandbox):
    learner = {"GivenName": "Clocka", "FamilyName": "Tempest", "DateOfBirth": "2014-09-01", "Gender": "1", "LastKnownPostCode": "LS1 4AP"}
    assert sandbox.call(search(learner, ORG)) == "WSRC0001"
    refused = sandbox.post("/LearnerService.svc", register(learner, ORG))
    assert answer(refused) == "WSEC0001" and "13 to 110" in refused.text  # 12 today
    said = api(sandbox, "PUT", "/clock", {"now": "2028-01-15T10:00:00", "frozen": True}).json()
    assert said["frozen"] and said["now"].startswith("2028-01-15T10:00:00")
    assert sandbox.call(search(learner, ORG)) == "WSRC0001"
    assert sandbox.call(register(learner, ORG)) == "WSRC0005"  # 13 by the sandbox's clock
    job = sandbox.post("/LearnerService.svc", submit_batch([learner], job_type="CHK"))
    job_id = int(job.text.split("<JobID>")[1].split("<")[0])
    ran = api(sandbox, "POST", "/jobs/run").json()["jobs"]
    assert {"job_id": job_id, "status": "Completed"} in ran or ran == []  # the batch worker may have run it first
    output = sandbox.post("/LearnerService.svc", batch_output_of(job_id))
    assert answer(output) == "WSRC0009" and "<JobFinishedDateTime>2028-01-15 10:00:00" in output.text
    # the journal's newest entry, once written (a moment after its call), is by the sandbox's clock
    eventually(lambda: journal(sandbox, 1)[0]["time"].startswith("2028-01-15T10:00:00"), 5, what="the journal at the sandbox's time")
    cleared = api(sandbox, "DELETE", "/clock").json()
    assert not cleared["set"] and cleared["now"][:4] == str(date.today().year)


def batch_output_of(job_id: int) -> str:
    from tests.e2e.serving import batch_output

    return batch_output(job_id)


def test_jobs_run_on_demand(tmp_path):
    with serving(tmp_path, "--sandbox", "--sandbox-token", TOKEN, "--workers", "1", "--no-worker") as quiet:
        learner = {"GivenName": "Jobina", "FamilyName": "Queue", "DateOfBirth": "2003-03-03", "Gender": "2", "LastKnownPostCode": "M1 1AE"}
        job = quiet.post("/LearnerService.svc", submit_batch([learner]))
        job_id = int(job.text.split("<JobID>")[1].split("<")[0])
        assert api(quiet, "POST", "/jobs/run").json() == {"jobs": [{"job_id": job_id, "status": "Completed"}]}
        assert api(quiet, "POST", "/jobs/run").json() == {"jobs": []}


def test_the_scenario_catalogue(sandbox):
    scenarios = api(sandbox, "GET", "/scenarios").json()["scenarios"]
    exact = next(s for s in scenarios if s["name"] == "exact" and s["operation"] == "learnerByDemographics")
    assert exact["expect"] == "WSRC0004" and exact["request"]["GivenName"] == "Amelia" and exact["description"]
    assert {s["operation"] for s in scenarios} >= {"learnerByDemographics", "learnerByULN", "verifyLearner", "retrieveULNs",
                                                    "LearnerByUln", "GetLearnerLearningEvents"}


def test_the_command_line_over_the_api(sandbox):
    env = {"LRS_WS_URL": sandbox.base_url, "LRS_WS_SANDBOX_TOKEN": TOKEN}
    import subprocess

    def lrs(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(console_command("sandbox", *args), capture_output=True, text=True, timeout=60, env={**os.environ, **env})

    assert "Planted fault" in lrs("fault", "add", "--operation", "learnerByULN", "--kind", "fault", "--code", "WSEC0006").stdout
    assert "learnerByULN" in lrs("fault", "list").stdout
    assert sandbox.call(find_by_uln()) == "WSEC0006"
    lines = eventually(lambda: (out := lrs("requests", "--limit", "5").stdout) and "WSEC0006" in out and out, 10, what="the CLI's journal")
    assert "learnerByULN" in lines and "planted fault" in lines
    assert "Reset" in lrs("reset").stdout
    assert "UKPRN" in lrs("org", "new", "--name", "CLI").stdout
    assert "frozen" in lrs("clock", "set", "2029-05-05T12:00", "--frozen").stdout
    assert "host's again" in lrs("clock", "clear").stdout
    bad = subprocess.run(console_command("sandbox", "reset"), capture_output=True, text=True, timeout=60,
                         env={**os.environ, **env, "LRS_WS_SANDBOX_TOKEN": "wrong"})
    assert bad.returncode == 1 and bad.stderr.startswith("Error: the sandbox answered 401") and "Traceback" not in bad.stderr


def test_requests_saved_from_the_journal_are_checked_by_lrs_ws_check(sandbox, tmp_path):
    """What a non-Python MIS sent, taken from the journal (passwords masked), held to the schemas."""
    import subprocess

    assert sandbox.call(find_by_uln()) == "WSRC0004"
    assert sandbox.call(find_by_uln().replace("<FindType>FUL</FindType>", "<FindType>ALL</FindType>")) == "WSEC0001"
    journal(sandbox, 2)
    saved = tmp_path / "saved"
    listed = subprocess.run(console_command("sandbox", "requests", "--save", str(saved)), capture_output=True, text=True,
                            timeout=60, env={**os.environ, "LRS_WS_URL": sandbox.base_url, "LRS_WS_SANDBOX_TOKEN": TOKEN})
    assert listed.returncode == 0, listed.stderr
    files = sorted(path.name for path in saved.iterdir())
    assert len(files) == 4 and all("learnerByULN" in name for name in files), files
    assert all("DemoPassword" not in path.read_text() for path in saved.iterdir())
    checked = subprocess.run(console_command("check", str(saved)), capture_output=True, text=True, timeout=60)
    assert checked.returncode == 1, checked.stdout
    (problem,) = [line for line in checked.stdout.splitlines() if ": FindType: " in line]
    assert "-request.xml:" in problem and "ALL" in problem
    assert checked.stdout.strip().endswith("Checked 4 files: 3 passed, 1 failed (1 problem).")

