"""The real thing: `lrs-ws serve` (gunicorn) on a free loopback port, called over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree

from tests.conftest import BINDING, BINDING_R9, DEMO
from tests.contract.conftest import ValidateResponses, credentials, invoking_organisation

AMELIA = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Start the service as a user would, on an empty database (schema and demo data at start)."""
    port = _free_port()
    base_db = os.environ.get("LRS_WS_TEST_DATABASE_URL")
    if base_db:
        from tests.conftest import _postgres_database

        database_url, drop = _postgres_database(base_db)
    else:
        database_url, drop = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'lrs.sqlite3'}", (lambda: None)
    public_url = f"http://127.0.0.1:{port}"
    # Output goes to a file: a pipe nobody reads could fill up and block the server.
    log_path = tmp_path_factory.mktemp("e2e-log") / "serve.log"
    log_file = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "lrs_ws.cli", "serve", "--port", str(port), "--workers", "2", "--database-url", database_url],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.log_path = log_path
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{public_url}/LearnerService.svc?wsdl", timeout=1).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):  # listening before the workers are up
            if process.poll() is not None:
                pytest.fail(f"server exited: {log_path.read_text()}")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("server did not start within 60 s")
    yield public_url, process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log_file.close()
    drop()


@pytest.fixture(scope="module")
def lrs(server):
    public_url, _ = server
    client = zeep.Client(f"{public_url}/LearnerService.svc?singlewsdl", plugins=[ValidateResponses()])
    return client.create_service(BINDING, f"{public_url}/LearnerService.svc")


@pytest.fixture(scope="module")
def r9(server):
    public_url, _ = server
    client = zeep.Client(f"{public_url}/LearnerServiceR9.svc?singlewsdl", plugins=[ValidateResponses()])
    return client.create_service(BINDING_R9, f"{public_url}/LearnerServiceR9.svc")


def test_first_start_prints_endpoints_and_demo_credentials(server):
    public_url, process = server
    output = process.log_path.read_text()  # printed before the workers started
    assert f"{public_url}/LearnerService.svc" in output
    assert DEMO["organisation"]["password"] in output and DEMO["organisation"]["ukprn"] in output


def test_find_register_update_over_http(lrs):
    assert lrs.learnerByULN(FindType="FUL", **credentials(), **AMELIA).ResponseCode == "WSRC0004"
    learner = {"GivenName": "Ewan", "FamilyName": "MacLeod", "DateOfBirth": "2009-09-09", "Gender": "1", "LastKnownPostCode": "YO1 7HH"}
    assert lrs.learnerByDemographics(FindType="FUL", **credentials(), **learner).ResponseCode == "WSRC0001"
    registered = lrs.registerSingleLearner(**credentials(), Learner={**learner, "AbilityToShare": "1"})
    assert registered.ResponseCode == "WSRC0005"
    found = lrs.learnerByDemographics(FindType="FUL", **credentials(), **{**learner, "FamilyName": "McLeod"})
    assert found.ResponseCode == "WSRC0003" and found.Learner[0].ULN == registered.ULN
    update = {**learner, "AbilityToShare": "1", "ULN": registered.ULN, "VersionNumber": 1, "EmailAddress": "ewan@example.org"}
    assert lrs.updateSingleLearner(**credentials(), Learner=update) == "WSRC0006"


def test_faults_over_http(lrs, server):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        lrs.learnerByULN(FindType="FUL", **credentials(OrgPassword="WrongPassword001"), **AMELIA)
    assert excinfo.value.detail.findtext(".//ErrorCode") == "WSEC0005"
    public_url, _ = server
    response = requests.post(f"{public_url}/LearnerService.svc", data=b"<oops", headers={"Content-Type": "text/xml"})
    assert response.status_code == 500 and b"WSEC0001" in response.content
    assert etree.fromstring(response.content).tag.endswith("Envelope")


def test_parallel_requests_all_succeed(lrs):
    def call(_):
        return lrs.learnerByULN(FindType="FUL", **credentials(), **AMELIA).ResponseCode

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(call, range(64))) == {"WSRC0004"}


def test_learning_events_over_http(r9):
    def read(user="online", **learner):
        return r9.GetLearnerLearningEvents(
            invokingOrganisation=invoking_organisation(user), userType="LNR", vendorID=1, language="ENG",
            dateOfBirth=None, gender=None, getType="FULL", **learner,
        )

    result = read(uln="9105106906", givenName="Amelia", familyName="Hughes")
    assert result.ResponseCode == "WSRC0004" and result.LearnerRecord.LearningEvent
    linked = read(uln="5558175256", givenName="Harry", familyName="Patel")
    assert (linked.ResponseCode, linked.FoundULN, linked.IncomingULN) == ("WSRC0022", "2083498614", "5558175256")
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        read("viewonly", uln="9105106906", givenName="Amelia", familyName="Hughes")
    assert excinfo.value.detail.findtext(".//{http://api.lrs.qcf.gov.uk/faults}ErrorCode") == "WSEC0006"
