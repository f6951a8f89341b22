"""The real thing: `lrs-ws serve` (gunicorn) on a free loopback port, called over HTTP."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import zeep
import zeep.exceptions
from lxml import etree

from tests.conftest import BINDING, BINDING_R9, DEMO
from tests.contract.conftest import ValidateResponses, credentials, invoking_organisation
from tests.e2e.serving import AMELIA, serving


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Start the service as a user would, on an empty database (schema and demo data at start)."""
    with serving(tmp_path_factory.mktemp("e2e"), "--workers", "2") as served:
        yield served


@pytest.fixture(scope="module")
def lrs(server):
    public_url = server.base_url
    client = zeep.Client(f"{public_url}/LearnerService.svc?singlewsdl", plugins=[ValidateResponses()])
    return client.create_service(BINDING, f"{public_url}/LearnerService.svc")


@pytest.fixture(scope="module")
def r9(server):
    public_url = server.base_url
    client = zeep.Client(f"{public_url}/LearnerServiceR9.svc?singlewsdl", plugins=[ValidateResponses()])
    return client.create_service(BINDING_R9, f"{public_url}/LearnerServiceR9.svc")


def test_first_start_prints_endpoints_and_demo_credentials(server):
    output = server.log()  # printed before the workers started
    assert f"{server.base_url}/LearnerService.svc" in output
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
    response = server.post("/LearnerService.svc", b"<oops")
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


def test_the_index_page_lists_services_operations_and_wsdls(server):
    response = server.get("/")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    for operation in ("learnerByULN", "learnerByDemographics", "registerSingleLearner", "updateSingleLearner", "GetLearnerLearningEvents"):
        assert f"<code>{operation}</code>" in page
    for path in ("/LearnerService.svc", "/LearnerServiceR9.svc"):
        assert f'href="{server.base_url}{path}?wsdl"' in page
        assert server.get(f"{path}?wsdl").status_code == 200


def test_health(server):
    response = server.get("/health")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "batch_worker": "running"}
