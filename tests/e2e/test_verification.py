"""verifyLearner, retrieveULNs and a verification batch on a served lrs-ws, over HTTP, as WCF
clients send them."""
from __future__ import annotations

from lxml import etree

from lrs_ws.contract.namespaces import REPORTMSG, SOAP_ENV, VLDMSG, XSI
from tests.e2e.serving import _credentials, eventually, serving

VERIFY_ACTION = '"http://tempuri.org/LearnerPortType/verifyLearner"'


def _envelope(body: str) -> str:
    return f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:i="{XSI}"><s:Body>{body}</s:Body></s:Envelope>'


def _answer(response) -> etree._Element:
    assert response.status_code == 200, response.text[:300]
    return etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")[0]


def test_verification_operations_over_http(tmp_path) -> None:
    with serving(tmp_path) as served:
        verify = _envelope(
            f'<v:VerifyLearner xmlns:v="{REPORTMSG}">{_credentials("online")}<LearnerToVerify>'
            "<ULN>5558175256</ULN><FamilyName>Patel</FamilyName><GivenName>Harry</GivenName>"
            '<DateOfBirth i:nil="true"/><Gender i:nil="true"/></LearnerToVerify></v:VerifyLearner>'
        )
        verified = _answer(served.post("/LearnerService.svc", verify, soap_action=VERIFY_ACTION)).find("VerifiedLearner")
        assert (verified.findtext("ResponseCode"), verified.findtext("ULN")) == ("WSVRC002", "2083498614")

        retrieve = _envelope(
            f'<r:RetrieveULNs xmlns:r="{REPORTMSG}">{_credentials("viewonly")}<ULNsToRetrieve>'
            "<ULN>9105106906</ULN><ULN>1026893096</ULN></ULNsToRetrieve></r:RetrieveULNs>"
        )
        answers = _answer(served.post("/LearnerService.svc", retrieve)).iterfind("RetrievedULNs/VerifiedULN")
        assert [a.findtext("ResponseCode") for a in answers] == ["WSRC0004", "WSRC0001"]

        submit = _envelope(
            f'<b:SubmitVerifyBatch xmlns:b="{VLDMSG}">{_credentials("online")}<LearnerRecordCount>2</LearnerRecordCount>'
            '<OrgEmail i:nil="true"/>'
            "<Learner><MISIdentifier>A</MISIdentifier><ULN>9105106906</ULN><FamilyName>Hughes</FamilyName>"
            "<GivenName>Amelia</GivenName></Learner>"
            "<Learner><MISIdentifier>B</MISIdentifier><ULN>9105106906</ULN><FamilyName>Okafor</FamilyName>"
            "<GivenName>Zara</GivenName></Learner></b:SubmitVerifyBatch>"
        )
        submitted = _answer(served.post("/LearnerService.svc", submit))
        assert submitted.findtext("ResponseCode") == "WSRC0007"
        output = _envelope(
            f'<b:GetVerifyBatchOutput xmlns:b="{VLDMSG}">{_credentials("online")}'
            f'<JobID>{submitted.findtext("JobID")}</JobID></b:GetVerifyBatchOutput>'
        )

        def finished():
            body = _answer(served.post("/LearnerService.svc", output))
            return [body] if body.findtext("ResponseCode") == "WSRC0009" else None

        (done,) = eventually(finished, 60, interval=0.2, what="the verification job finishing")
        learners = done.findall("VerifiedLearner")
        assert [(learner.findtext("MISIdentifier"), learner.findtext("ResponseCode")) for learner in learners] == [
            ("A", "WSVRC001"), ("B", "WSVRC005")]
