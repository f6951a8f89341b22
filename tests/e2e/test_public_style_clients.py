"""Every operation of both services, from clients generated the way an MIS generates them from the
public WSDLs, against `lrs-ws serve` over HTTP: zeep and suds.

The public WSDLs are WCF renditions of the contract (leaves `xs:string`, nearly everything
optional); we may not ship them, so each client is built from the same kind of relaxed document
derived from our served WSDL (`tests.contract.test_relaxed_client.relaxed`). With
LRS_WS_PUBLIC_WSDLS set to a directory holding the public `LearnerService.wsdl` and
`LearnerServiceR9.wsdl`, the clients are built from those files instead. Each client reaches
every response code the demo data documents and the faults, and every response it receives is
validated against our xsd/.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import zeep
import zeep.exceptions
from lxml import etree
from suds import WebFault
from suds.client import Client as SudsClient
from suds.plugin import MessagePlugin

from tests.conftest import BINDING, BINDING_R9, DEMO
from tests.contract.conftest import ValidateResponses, validate_envelope
from tests.contract.test_relaxed_client import relaxed
from tests.e2e.serving import eventually, serving

ORG = DEMO["organisation"]
SERVICES = {"lrs": ("/LearnerService.svc", BINDING), "r9": ("/LearnerServiceR9.svc", BINDING_R9)}


class Refused(Exception):
    """A SOAP fault, by its LRS error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Clients:
    """A generated client of each service; `call(service, operation, **parameters)`."""

    send: Callable[..., object]
    validated: Callable[[], int]  # responses validated against our xsd so far
    calls: int = 0

    def call(self, service: str, operation: str, **parameters):
        self.calls += 1
        return self.send(service, operation, **parameters)

    def every_answer_was_valid(self) -> bool:
        return self.calls > 0 and self.validated() == self.calls


def _zeep_clients(wsdls: dict[str, Path], base_url: str) -> Clients:
    validator = ValidateResponses()
    services = {
        name: zeep.Client(str(wsdls[name]), plugins=[validator], settings=zeep.Settings(strict=True)).create_service(
            binding, base_url + path)
        for name, (path, binding) in SERVICES.items()
    }

    def call(service: str, operation: str, **parameters):
        try:
            return getattr(services[service], operation)(**parameters)
        except zeep.exceptions.Fault as fault:
            raise Refused(fault.detail.findtext(".//{*}ErrorCode")) from None

    return Clients(call, lambda: len(validator.received))


class _ValidateReplies(MessagePlugin):
    def __init__(self) -> None:
        self.count = 0

    def received(self, context):
        validate_envelope(etree.fromstring(context.reply))
        self.count += 1


def _suds_clients(wsdls: dict[str, Path], base_url: str) -> Clients:
    validator = _ValidateReplies()
    clients = {
        name: SudsClient(wsdls[name].as_uri(), location=base_url + path, plugins=[validator], faults=True, cache=None)
        for name, (path, _) in SERVICES.items()
    }

    def call(service: str, operation: str, **parameters):
        try:
            return getattr(clients[service].service, operation)(**parameters)
        except WebFault as error:
            detail = error.fault.detail
            raise Refused(str(next(iter(dict(detail).values())).ErrorCode)) from None

    return Clients(call, lambda: validator.count)


@pytest.fixture(scope="module", params=["zeep", "suds"])
def clients(request, tmp_path_factory):
    """One server for each kind of client; the tests below touch different learners."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    with serving(tmp_path / "server") as served:
        public = os.environ.get("LRS_WS_PUBLIC_WSDLS")
        wsdls = {}
        for name, (path, _) in SERVICES.items():
            if public:
                wsdls[name] = Path(public, path.strip("/").replace(".svc", ".wsdl")).resolve()
                continue
            wsdls[name] = tmp_path / f"{name}.wsdl"
            wsdls[name].write_bytes(relaxed(served.get(f"{path}?singlewsdl").content))
        build = _zeep_clients if request.param == "zeep" else _suds_clients
        yield build(wsdls, served.base_url)


def credentials(user: str = "online", **overrides) -> dict:
    return {"UKPRN": ORG["ukprn"], "OrgPassword": ORG["password"], "UserName": user, **overrides}


def invoking(user: str = "online", **overrides) -> dict:
    return {"Ukprn": ORG["ukprn"], "Password": ORG["password"], "Username": user, **overrides}


def r9(user: str = "online") -> dict:
    return {"invokingOrganisation": invoking(user), "userType": "LNR", "vendorId": 0, "language": "ENG"}


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(Refused) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.code


def field(answer, name: str):
    """An element of an answer, None when absent (suds leaves absent elements out of its objects)."""
    return getattr(answer, name, None)


def _learners(response) -> list:
    learners = getattr(response, "Learner", None) or []
    return learners if isinstance(learners, list) else [learners]


def test_the_learner_register(clients):
    call = clients.call
    for scenario in DEMO["scenarios"]:
        response = call("lrs", scenario["operation"], FindType="FUL", **credentials(), **scenario["request"])
        assert response.ResponseCode == scenario["ResponseCode"], scenario["name"]
        assert [learner.ULN for learner in _learners(response)] == scenario["ULNs"], scenario["name"]

    new = {"GivenName": "Priya", "FamilyName": "Chowdhury", "DateOfBirth": "2008-02-29", "Gender": "2", "LastKnownPostCode": "NE1 7RU"}
    assert call("lrs", "learnerByDemographics", FindType="FUL", **credentials(), **new).ResponseCode == "WSRC0001"
    registered = call("lrs", "registerSingleLearner", **credentials(), Learner={**new, "AbilityToShare": "1"})
    assert registered.ResponseCode == "WSRC0005"
    found = _learners(
        call("lrs", "learnerByULN", FindType="FUL", **credentials(), ULN=registered.ULN, GivenName="Priya", FamilyName="Chowdhury")
    )
    learner = {name: getattr(found[0], name) for name in ("ULN", "VersionNumber", *new)}
    update = {**learner, "LastKnownPostCode": "NE2 4AB", "AbilityToShare": "1"}
    assert str(call("lrs", "updateSingleLearner", **credentials(), Learner=update)) == "WSRC0006"
    assert str(call("lrs", "updateSingleLearner", **credentials(), Learner=update)) == "WSRC0013"  # stale version

    assert refused(call, "lrs", "learnerByULN", FindType="FUL", **credentials(OrgPassword="WrongPassword001"),
                   ULN="9105106906", GivenName="Amelia", FamilyName="Hughes") == "WSEC0005"
    assert refused(call, "lrs", "registerSingleLearner", **credentials("viewonly"), Learner={**new, "AbilityToShare": "1"}) == "WSEC0006"
    assert refused(call, "lrs", "learnerByULN", FindType="ALL", **credentials(), ULN="9105106906",
                   GivenName="Amelia", FamilyName="Hughes") == "WSEC0001"
    assert clients.every_answer_was_valid()


def test_verification_and_ulns(clients):
    call = clients.call
    for scenario in DEMO["verification_scenarios"]:
        verified = call("lrs", "verifyLearner", **credentials(), LearnerToVerify=scenario["request"])
        assert (verified.ResponseCode, field(verified, "ULN")) == (scenario["ResponseCode"], scenario["ULN"]), scenario["name"]
    (scenario,) = DEMO["retrieve_uln_scenarios"]
    answers = call("lrs", "retrieveULNs", **credentials("viewonly"), ULNsToRetrieve={"ULN": scenario["request"]})
    # zeep unwraps the response's one child down to the list; suds keeps RetrievedULNs.
    answers = answers if isinstance(answers, list) else getattr(answers, "RetrievedULNs", answers).VerifiedULN
    assert [(a.ResponseCode, field(a, "MasterULN")) for a in answers] == [
        (a["ResponseCode"], a["MasterULN"]) for a in scenario["answers"]]
    assert refused(call, "lrs", "verifyLearner", **credentials("viewonly"), LearnerToVerify={
        "ULN": "9105106906", "FamilyName": "Hughes", "GivenName": "Amelia"}) == "WSEC0006"
    assert clients.every_answer_was_valid()


def test_batch_jobs(clients):
    call = clients.call
    learners = [
        {"MISIdentifier": "A1", "ULN": "9105106906", "FamilyName": "Hughes", "GivenName": "Amelia", "DateOfBirth": "2007-03-14",
         "Gender": "2", "LastKnownPostCode": "B15 2TT"},
    ]
    submitted = call("lrs", "submitBatchRegistration", **credentials("batch"), JobType="CHK", LearnerRecordCount=1, Learner=learners)
    assert submitted.ResponseCode == "WSRC0007"

    def batch_output():
        return call("lrs", "getBatchRegistrationOutput", **credentials("batch"), JobID=submitted.JobID)

    done = eventually(lambda: (lambda r: r if r.ResponseCode == "WSRC0009" else None)(batch_output()), 60, interval=0.2, what="the job")
    assert [(learner.ULN, learner.ReturnCode) for learner in _learners(done)] == [("9105106906", "RC001")]
    assert call("lrs", "getBatchRegistrationOutput", **credentials("batch"), JobID=987654).ResponseCode == "WSRC0018"
    assert call("lrs", "submitBatchRegistration", **credentials("batch"), JobType="CHK", LearnerRecordCount=2,
                Learner=learners).ResponseCode == "WSRC0017"

    to_verify = [{"MISIdentifier": "V1", "ULN": "5558175256", "FamilyName": "Patel", "GivenName": "Harry"}]
    submitted = call("lrs", "submitVerifyBatch", **credentials("online"), LearnerRecordCount=1, Learner=to_verify)
    assert submitted.ResponseCode == "WSRC0007"

    def verify_output():
        return call("lrs", "getVerifyBatchOutput", **credentials("online"), JobID=submitted.JobID)

    done = eventually(lambda: (lambda r: r if r.ResponseCode == "WSRC0009" else None)(verify_output()), 60, interval=0.2, what="the job")
    verified = done.VerifiedLearner
    verified = verified[0] if isinstance(verified, list) else verified
    assert (verified.ResponseCode, verified.ULN) == ("WSVRC002", "2083498614")
    assert refused(call, "lrs", "submitBatchRegistration", **credentials("online"), JobType="CHK", LearnerRecordCount=1,
                   Learner=learners) == "WSEC0006"
    assert clients.every_answer_was_valid()


def test_the_learning_records_service(clients):
    call = clients.call
    for scenario in DEMO["learner_by_uln_scenarios"]:
        result = call("r9", "LearnerByUln", **r9(), **scenario["request"])
        learner = field(result, "Learner")
        assert (result.ResponseCode, learner and learner.Uln, learner and field(learner, "MasterUln")) == (
            scenario["ResponseCode"], scenario["LearnerUln"], scenario["MasterUln"]), scenario["name"]
    events = call("r9", "GetLearnerLearningEvents", invokingOrganisation={k: v for k, v in invoking().items()},
                  userType="LNR", vendorID=0, language="ENG", uln="9105106906", givenName="Amelia", familyName="Hughes",
                  getType="FULL")
    assert events.ResponseCode == "WSRC0004" and len(events.LearnerRecord.LearningEvent) == 10
    assert str(call("r9", "UpdateLearnerSubsetFields", **r9(), uln="9105106906", versionNumber=1,
                    telephoneNumber="0121 496 0000", abilityToShare="NotProvided")) == "WSRC0006"
    assert str(call("r9", "UpdateLearnerSubsetFields", **r9(), uln="9105106906", versionNumber=1,
                    telephoneNumber="0121 496 0001", abilityToShare="NotProvided")) == "WSRC0013"
    assert call("r9", "LearnerByUln", **r9("viewonly"), uln="9105106906", givenName="Amelia", familyName="Hughes",
                findType="FUL").Learner.TelephoneNumber == "0121 496 0000"
    log = call("r9", "ViewAudit", **r9(), learnerUln="9105106906", learnerGivenName="Amelia", learnerFamilyName="Hughes", page=1)
    assert log.TotalItems == 3  # the PLR read and the two updates (the stale one too)
    organisation = call("r9", "GetOrganisation", **r9("batch"), ukPrn=ORG["ukprn"])
    assert (organisation.ResponseCode, organisation.OrgRef) == ("WSRC0004", ORG["organisation_ref"])

    assert refused(call, "r9", "LearnerByUln", **r9("batch"), uln="9105106906", givenName="Amelia", familyName="Hughes",
                   findType="FUL") == "WSEC0006"
    assert refused(call, "r9", "ViewAudit", invokingOrganisation=invoking(Password="WrongPassword001"), userType="LNR",
                   vendorId=0, language="ENG", learnerUln="9105106906", learnerGivenName="Amelia",
                   learnerFamilyName="Hughes", page=1) == "WSEC0005"
    assert refused(call, "r9", "GetOrganisation", **r9()) == "WSEC0001"
    assert clients.every_answer_was_valid()
