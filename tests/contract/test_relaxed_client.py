"""A client generated from a WCF-style relaxed WSDL still works against us.

The public LRS WSDL is WCF's "singlewsdl" rendition of the same contract: every leaf is
`xs:string`, almost everything `minOccurs="0"`, credentials `nillable`. We cannot ship that file,
so this test derives the same kind of relaxed document from our served WSDL and drives the four
operations (and the batch ones) with a zeep client built from it (strict parsing), as an MIS generated from the
public WSDL would.
"""
from __future__ import annotations

import pytest
import zeep
from lxml import etree

from tests.conftest import BINDING, LEARNER_SERVICE
from tests.contract.conftest import credentials

XS = "http://www.w3.org/2001/XMLSchema"
_KEEP_TYPES = {f"{{{XS}}}int", f"{{{XS}}}long"}  # the public WSDL keeps these


def relaxed(wsdl: bytes) -> bytes:
    document = etree.fromstring(wsdl)
    simple_types = {
        f"{{{schema.get('targetNamespace')}}}{simple.get('name')}"
        for schema in document.iter(f"{{{XS}}}schema")
        for simple in schema.findall(f"{{{XS}}}simpleType")
    }
    for element in document.iter(f"{{{XS}}}element"):
        type_name = element.get("type")
        if type_name is None:
            continue
        prefix, _, local = type_name.rpartition(":")
        qname = f"{{{element.nsmap.get(prefix or None)}}}{local}"
        if (qname in simple_types or qname.startswith(f"{{{XS}}}")) and qname not in _KEEP_TYPES:
            element.set("type", "xs:string")
        if element.getparent().tag != f"{{{XS}}}schema" and element.get("name") not in ("OrganisationRef", "UKPRN"):
            element.set("minOccurs", "0")
            if element.get("maxOccurs") not in (None, "1"):
                element.set("maxOccurs", "unbounded")
    return etree.tostring(document)


@pytest.fixture
def relaxed_lrs(http, tmp_path, validator):
    wsdl = relaxed(http.get(f"{LEARNER_SERVICE}?singlewsdl").content)
    assert b'type="xs:string"' in wsdl
    path = tmp_path / "relaxed.wsdl"
    path.write_bytes(wsdl)
    client = zeep.Client(str(path), transport=zeep.Transport(session=http), settings=zeep.Settings(strict=True), plugins=[validator])
    return client.create_service(BINDING, LEARNER_SERVICE)


def test_relaxed_client_runs_the_four_operations(relaxed_lrs):
    lrs = relaxed_lrs
    linked = lrs.learnerByULN(FindType="FUL", **credentials(), ULN="5558175256", GivenName="Harry", FamilyName="Patel")
    assert linked.ResponseCode == "WSRC0022"
    assert linked.Learner[0].MasterSubstituted == "Y" and linked.Learner[0].LinkedULNs.ULN == ["5558175256"]
    search = {"GivenName": "Nia", "FamilyName": "Evans", "DateOfBirth": "2009-12-01", "Gender": "2", "LastKnownPostCode": "CF10 1EP"}
    assert lrs.learnerByDemographics(FindType="FUL", **credentials(), **search).ResponseCode == "WSRC0001"
    registered = lrs.registerSingleLearner(**credentials(), Learner={**search, "AbilityToShare": "1"})
    assert registered.ResponseCode == "WSRC0005"
    update = {**search, "AbilityToShare": "1", "ULN": registered.ULN, "VersionNumber": 1, "FamilyName": "Evans-Price"}
    assert lrs.updateSingleLearner(**credentials(), Learner=update) == "WSRC0006"
    found = lrs.learnerByDemographics(FindType="FUL", **credentials(), **search)
    assert found.ResponseCode == "WSRC0003"
    assert (found.Learner[0].FamilyName, found.Learner[0].PreviousFamilyName) == ("Evans-Price", "Evans")


def test_relaxed_client_receives_faults(relaxed_lrs):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        relaxed_lrs.learnerByULN(
            FindType="FUL", **credentials(OrgPassword="WrongPassword001"), ULN="9105106906", GivenName="A", FamilyName="B"
        )
    assert excinfo.value.detail.findtext(".//ErrorCode") == "WSEC0005"
    # A relaxed client can send what our schema refuses; the answer names the field.
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        relaxed_lrs.learnerByULN(FindType="XXX", **credentials(), ULN="9105106906", GivenName="A", FamilyName="B")
    assert excinfo.value.detail.findtext(".//ErrorCode") == "WSEC0001"
    assert "FindType" in excinfo.value.detail.findtext(".//FurtherDetails")


def test_relaxed_client_submits_a_batch_and_reads_its_output(relaxed_lrs, runtime):
    from tests.contract.test_batch_registration import run_jobs

    learners = [
        {"MISIdentifier": "R-1", "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14",
         "Gender": "2", "LastKnownPostCode": "B15 2TT"},
        {"MISIdentifier": "R-2", "ULN": "9105106907", "GivenName": "Amelia", "FamilyName": "Hughes"},
    ]
    wrong = relaxed_lrs.submitBatchRegistration(**credentials("batch"), JobType="FUL", LearnerRecordCount=3, Learner=learners)
    assert (wrong.ResponseCode, wrong.JobID) == ("WSRC0017", 0)
    submitted = relaxed_lrs.submitBatchRegistration(**credentials("batch"), JobType="FUL", LearnerRecordCount=2, Learner=learners)
    assert submitted.ResponseCode == "WSRC0007"
    assert relaxed_lrs.getBatchRegistrationOutput(**credentials("batch"), JobID=submitted.JobID).ResponseCode == "WSRC0008"
    run_jobs(runtime)
    done = relaxed_lrs.getBatchRegistrationOutput(**credentials("batch"), JobID=submitted.JobID)
    assert done.ResponseCode == "WSRC0009" and done.JobStatus == "Completed"
    assert [(learner.MISIdentifier, learner.ReturnCode, learner.ULN) for learner in done.Learner] == [
        ("R-1", "RC002", "9105106906"),
        ("R-2", "RC009", None),
    ]
    assert (done.ExistsUpdatedLearnersCount, done.LearnersNotFoundCount) == (1, 1)
    assert relaxed_lrs.getBatchRegistrationOutput(**credentials("batch"), JobID=submitted.JobID + 99).ResponseCode == "WSRC0018"
