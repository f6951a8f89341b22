"""verifyLearner through a zeep client from our WSDL (and raw, as WCF sends it)."""
from __future__ import annotations

import pytest
import zeep.exceptions
from lxml import etree

from lrs_ws.contract.namespaces import REPORTMSG, SOAP_ENV, XSI
from tests.conftest import DEMO
from tests.contract.conftest import credentials, validate_envelope
from tests.contract.test_learner_service import miap
from tests.contract.test_raw_envelopes import post

AMELIA = {"ULN": "9105106906", "FamilyName": "Hughes", "GivenName": "Amelia"}
HARRY_MASTER, HARRY_RETIRED = "2083498614", "5558175256"


def verify(lrs, user="online", **learner):
    return lrs.verifyLearner(**credentials(user), LearnerToVerify=learner)


def test_a_match_returns_the_learner_without_flags(lrs):
    verified = verify(lrs, **AMELIA, DateOfBirth="2007-03-14", Gender="2")
    assert verified.ResponseCode == "WSVRC001" and not verified.FailureFlag
    assert (verified.ULN, verified.GivenName, verified.FamilyName, verified.DateOfBirth, verified.Gender) == (
        "9105106906", "Amelia", "Hughes", "2007-03-14", "2")
    assert (verified.SearchedULN, verified.SearchedFamilyName, verified.SearchedDateOfBirth) == ("9105106906", "Hughes", "2007-03-14")


def test_a_linked_uln_answers_with_its_master(lrs):
    verified = verify(lrs, ULN=HARRY_RETIRED, FamilyName="Patel", GivenName="Harry")
    assert verified.ResponseCode == "WSVRC002" and verified.ULN == HARRY_MASTER
    assert verified.SearchedULN == HARRY_RETIRED and verified.SearchedDateOfBirth is None


def test_similar_names_are_wsvrc003_with_the_failed_checks(lrs):
    verified = verify(lrs, ULN="8032816126", FamilyName="Smith Jones", GivenName="Oliver")
    assert verified.ResponseCode == "WSVRC003"
    assert "VRF5" in verified.FailureFlag and "VRF1" not in verified.FailureFlag
    assert verified.FamilyName == "Smith-Jones"


def test_no_match_discloses_no_details(lrs):
    verified = verify(lrs, **dict(AMELIA, GivenName="Zara", FamilyName="Okafor"))
    assert verified.ResponseCode == "WSVRC005" and verified.ULN == "9105106906"
    assert verified.GivenName is None and verified.FamilyName is None and verified.DateOfBirth is None
    assert {"VRF1", "VRF5"} <= set(verified.FailureFlag)


@pytest.mark.parametrize("uln", ["1026893096", "9105106907"])  # never issued; wrong check digit
def test_an_unknown_uln_is_wsvrc006_and_nothing_else(lrs, uln):
    verified = verify(lrs, **dict(AMELIA, ULN=uln))
    assert verified.ResponseCode == "WSVRC006"
    assert verified.ULN is None and not verified.FailureFlag


def test_a_wrong_date_of_birth_is_flagged(lrs):
    verified = verify(lrs, **AMELIA, DateOfBirth="2007-03-15")
    assert verified.ResponseCode == "WSVRC005" and "VRF7" in verified.FailureFlag


@pytest.mark.parametrize("user", ["viewonly", "batch", "super"])
def test_only_verifiers_may_verify(lrs, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        verify(lrs, user, **AMELIA)
    assert miap(excinfo)[0] == "WSEC0006"


def test_wcf_sends_nil_for_no_date_of_birth_and_the_soapaction(http):
    org = DEMO["organisation"]
    body = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><VerifyLearner xmlns="{REPORTMSG}" xmlns:i="{XSI}">'
        f'<OrganisationRef i:nil="true" xmlns=""/><UKPRN xmlns="">{org["ukprn"]}</UKPRN>'
        f'<OrgPassword xmlns="">{org["password"]}</OrgPassword><UserName xmlns="">online</UserName>'
        '<LearnerToVerify xmlns=""><ULN>9105106906</ULN><FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName>'
        '<DateOfBirth i:nil="true"/><Gender i:nil="true"/></LearnerToVerify></VerifyLearner></s:Body></s:Envelope>'
    )
    response = post(http, body, {"SOAPAction": '"http://tempuri.org/LearnerPortType/verifyLearner"'})
    assert response.status_code == 200, response.text[:300]
    verified = validate_envelope(etree.fromstring(response.content)).find("VerifiedLearner")
    assert verified.findtext("ResponseCode") == "WSVRC001"
    assert verified.find("SearchedDateOfBirth") is None and verified.find("SearchedGender") is None


@pytest.mark.parametrize("scenario", DEMO["verification_scenarios"], ids=lambda s: s["name"])
def test_demo_verification_scenarios_give_their_documented_outcome(lrs, scenario):
    verified = verify(lrs, **scenario["request"])
    assert (verified.ResponseCode, verified.ULN, list(verified.FailureFlag)) == (
        scenario["ResponseCode"], scenario["ULN"], scenario["FailureFlags"])
