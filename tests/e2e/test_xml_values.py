"""Every value is read as its XML string value, over HTTP, on both services: a comment or a
processing instruction inside a value is not part of it and does not cut it short, and a CDATA
section is text. One case per kind of field: a ULN, names, a date, a code, an integer, the
credentials, and the R9 service's own fields."""
from __future__ import annotations

import pytest

from lrs_ws.contract.namespaces import BATCHMSG, FINDMSG, QCF_INTERFACE, SOAP_ENV, TEMPURI, XSI
from tests.e2e.serving import ORG, R9_ACTION, answer, serving

COMMENT, PI = "<!-- an MIS note -->", "<?mis-trace id-42?>"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("xml-values"), "--workers", "1", "--no-worker") as server:
        yield server


def split(value: str, how: str) -> str:
    """`value` with a comment, a processing instruction or CDATA in the middle."""
    middle = len(value) // 2
    head, tail = value[:middle], value[middle:]
    if how == "comment":
        return f"{head}{COMMENT}{tail}"
    if how == "pi":
        return f"{head}{PI}{tail}"
    return f"{head}<![CDATA[{tail}]]>"


def credentials(how: str) -> str:
    return (f"<UKPRN>{split(ORG['ukprn'], how)}</UKPRN><OrgPassword>{split(ORG['password'], how)}</OrgPassword>"
            f"<UserName>{split('online', how)}</UserName>")


def by_uln(how: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><f:FindLearnerByULN xmlns:f="{FINDMSG}">'
        f"<FindType>{split('FUL', how)}</FindType>{credentials(how)}<ULN>{split('9105106906', how)}</ULN>"
        f"<FamilyName>{split('Hughes', how)}</FamilyName><GivenName>{split('Amelia', how)}</GivenName>"
        f"</f:FindLearnerByULN></s:Body></s:Envelope>"
    )


def by_demographics(how: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><f:FindLearnerByDemographics xmlns:f="{FINDMSG}">'
        f"<FindType>FUL</FindType>{credentials(how)}<FamilyName>{split('Hughes', how)}</FamilyName>"
        f"<GivenName>{split('Amelia', how)}</GivenName><DateOfBirth>{split('2007-03-14', how)}</DateOfBirth>"
        f"<Gender>{split('2', how) if how == 'cdata' else '2' + COMMENT}</Gender>"
        f"<LastKnownPostCode>{split('B15 2TT', how)}</LastKnownPostCode>"
        f"</f:FindLearnerByDemographics></s:Body></s:Envelope>"
    )


def submit_batch(how: str) -> str:
    """An integer field: LearnerRecordCount 12 for twelve learners (read as 1, WSRC0017)."""
    learner = "<Learner><GivenName>Ann</GivenName><FamilyName>Lee</FamilyName></Learner>"
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><b:SubmitBatch xmlns:b="{BATCHMSG}">'
        f"<UKPRN>{ORG['ukprn']}</UKPRN><OrgPassword>{ORG['password']}</OrgPassword><UserName>batch</UserName>"
        f"<JobType>CHK</JobType><LearnerRecordCount>{split('12', how)}</LearnerRecordCount>{learner * 12}"
        f"</b:SubmitBatch></s:Body></s:Envelope>"
    )


def plr(how: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><GetLearnerLearningEvents xmlns="{TEMPURI}">'
        f'<invokingOrganisation xmlns:a="{QCF_INTERFACE}" xmlns:i="{XSI}"><a:OrganisationRef i:nil="true"/>'
        f"<a:Password>{split(ORG['password'], how)}</a:Password><a:Ukprn>{split(ORG['ukprn'], how)}</a:Ukprn>"
        f"<a:Username>{split('online', how)}</a:Username></invokingOrganisation>"
        f"<userType>{split('LNR', how)}</userType><vendorID>{split('10', how)}</vendorID>"
        f"<language>{split('ENG', how)}</language><uln>{split('9105106906', how)}</uln>"
        f"<givenName>{split('Amelia', how)}</givenName><familyName>{split('Hughes', how)}</familyName>"
        f'<dateOfBirth i:nil="true" xmlns:i="{XSI}"/><gender i:nil="true" xmlns:i="{XSI}"/>'
        f"<getType>{split('FULL', how)}</getType></GetLearnerLearningEvents></s:Body></s:Envelope>"
    )


KINDS = ("comment", "pi", "cdata")


@pytest.mark.parametrize("how", KINDS)
def test_learner_by_uln_reads_whole_values(served, how):
    assert served.call(by_uln(how)) == "WSRC0004"


@pytest.mark.parametrize("how", KINDS)
def test_learner_by_demographics_reads_whole_names_dates_and_codes(served, how):
    response = served.post("/LearnerService.svc", by_demographics(how))
    assert answer(response) == "WSRC0004", response.text[:500]
    assert b"<ULN>9105106906</ULN>" in response.content


@pytest.mark.parametrize("how", KINDS)
def test_an_integer_is_read_whole(served, how):
    assert served.call(submit_batch(how)) == "WSRC0007"


@pytest.mark.parametrize("how", KINDS)
def test_the_plr_reads_whole_values(served, how):
    response = served.post("/LearnerServiceR9.svc", plr(how), soap_action=R9_ACTION)
    assert answer(response) == "WSRC0004", response.text[:500]
    assert b"9105106906" in response.content


def test_a_value_that_is_only_a_comment_is_empty(served):
    """`<ULN><!-- none --></ULN>` is the empty string: refused by the schema as an empty ULN is."""
    envelope = by_uln("comment").replace(f"<ULN>91051{COMMENT}06906</ULN>", f"<ULN>{COMMENT}</ULN>")
    response = served.post("/LearnerService.svc", envelope)
    assert answer(response) == "WSEC0001" and "ULN" in response.text
