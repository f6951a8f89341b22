"""retrieveULNs through a zeep client from our WSDL: one answer per ULN sent, in order."""
from __future__ import annotations

import pytest
import zeep.exceptions

from tests.conftest import DEMO
from tests.contract.conftest import credentials
from tests.contract.test_learner_service import miap
from tests.contract.test_raw_envelopes import fault_of, post

AMELIA, HARRY_MASTER, HARRY_RETIRED = "9105106906", "2083498614", "5558175256"
NEVER_ISSUED, BAD_CHECK_DIGIT = "1026893096", "9105106907"


def retrieve(lrs, ulns, user="viewonly"):
    # zeep hands back the one child of the one child: the VerifiedULN list itself
    return lrs.retrieveULNs(**credentials(user), ULNsToRetrieve={"ULN": ulns})


def test_current_merged_and_unknown_ulns_in_the_order_sent(lrs):
    answers = retrieve(lrs, [HARRY_RETIRED, AMELIA, NEVER_ISSUED, BAD_CHECK_DIGIT, AMELIA])
    assert [(a.ULN, a.ResponseCode, a.MasterULN) for a in answers] == [
        (HARRY_RETIRED, "WSRC0022", HARRY_MASTER),
        (AMELIA, "WSRC0004", None),
        (NEVER_ISSUED, "WSRC0001", None),
        (BAD_CHECK_DIGIT, "WSRC0001", None),
        (AMELIA, "WSRC0004", None),
    ]
    amelia = answers[1]
    assert (amelia.GivenName, amelia.FamilyName, amelia.DateOfBirth, amelia.Gender) == ("Amelia", "Hughes", "2007-03-14", "2")
    assert (answers[0].GivenName, answers[0].FamilyName) == ("Harry", "Patel")  # the master's details
    assert answers[2].GivenName is None and answers[2].DateOfBirth is None  # nothing disclosed


@pytest.mark.parametrize("user", ["online", "viewonly"])
def test_finders_may_retrieve(lrs, user):
    assert retrieve(lrs, [AMELIA], user)[0].ResponseCode == "WSRC0004"


@pytest.mark.parametrize("user", ["batch", "super"])
def test_others_may_not(lrs, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        retrieve(lrs, [AMELIA], user)
    assert miap(excinfo)[0] == "WSEC0006"


def _raw(ulns: str) -> str:
    from lrs_ws.contract.namespaces import REPORTMSG, SOAP_ENV
    from tests.conftest import DEMO

    org = DEMO["organisation"]
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><r:RetrieveULNs xmlns:r="{REPORTMSG}">'
        f"<UKPRN>{org['ukprn']}</UKPRN><OrgPassword>{org['password']}</OrgPassword><UserName>online</UserName>"
        f"<ULNsToRetrieve>{ulns}</ULNsToRetrieve></r:RetrieveULNs></soapenv:Body></soapenv:Envelope>"
    )


@pytest.mark.parametrize(
    "ulns, field",
    [
        ("", "ULNsToRetrieve"),  # none
        (f"<ULN>{AMELIA}</ULN>" * 201, "ULNsToRetrieve"),  # more than 200
        ("<ULN>0123456789</ULN>", "ULN"),  # not a ULN's pattern
    ],
)
def test_outside_the_schema_is_wsec0001(http, ulns, field):
    code, detail = fault_of(post(http, _raw(ulns)))
    assert code == "WSEC0001" and field in detail


@pytest.mark.parametrize("scenario", DEMO["retrieve_uln_scenarios"], ids=lambda s: s["name"])
def test_demo_retrieve_scenarios_give_their_documented_outcome(lrs, scenario):
    answers = retrieve(lrs, scenario["request"])
    assert [{"ULN": a.ULN, "ResponseCode": a.ResponseCode, "MasterULN": a.MasterULN} for a in answers] == scenario["answers"]
