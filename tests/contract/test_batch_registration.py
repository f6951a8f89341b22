"""submitBatchRegistration and getBatchRegistrationOutput through a zeep client from our WSDL.

Every response is validated against our xsd/ by the `validator` plugin; the job runs in-process
(a JobRunner over the same database) between the submit and the polls.
"""
from __future__ import annotations

import random
import re

import pytest
import zeep.exceptions

from lrs_ws.contract.namespaces import BATCHMSG, SOAP_ENV
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS
from lrs_ws.services.batch_learner import BatchRules
from lrs_ws.services.job_runner import JobRunner
from tests.conftest import DEMO
from tests.contract.conftest import credentials
from tests.contract.test_learner_service import miap
from tests.contract.test_raw_envelopes import fault_of, post, response_code

AMELIA = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14",
          "Gender": "2", "LastKnownPostCode": "B15 2TT", "MISIdentifier": "S-0001"}
NEW = {"MISIdentifier": "S-0002", "GivenName": "Zara", "FamilyName": "Quintrell", "DateOfBirth": "2008-06-01",
       "Gender": "2", "LastKnownPostCode": "LS1 4AP", "EmailAddress": "", "AbilityToShare": "1"}
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def submit(lrs, learners, job_type="FUL", count=None, user="batch"):
    return lrs.submitBatchRegistration(
        **credentials(user), JobType=job_type,
        LearnerRecordCount=len(learners) if count is None else count, Learner=learners,
    )


def output(lrs, job_id, user="batch"):
    return lrs.getBatchRegistrationOutput(**credentials(user), JobID=job_id)


def run_jobs(runtime) -> None:
    runner = JobRunner(runtime.unit_of_work, BatchRules(DEFAULT_PROHIBITED_WORDS, 10, random.Random(3)), "test")
    while runner.run_next() is not None:
        pass


def test_a_full_batch_is_queued_then_answers_every_learner_in_order(lrs, runtime, validator):
    learners = [AMELIA, NEW, dict(NEW, MISIdentifier="S-0003", GivenName="Test")]
    submitted = submit(lrs, learners)
    assert submitted.ResponseCode == "WSRC0007" and submitted.JobID > 0
    waiting = output(lrs, submitted.JobID)
    assert waiting.ResponseCode == "WSRC0008" and waiting.JobStatus == "Submitted"
    assert waiting.NewLearnersCount is None and not waiting.Learner
    run_jobs(runtime)
    done = output(lrs, submitted.JobID)
    assert done.ResponseCode == "WSRC0009" and done.JobStatus == "Completed"
    assert DATE_TIME.fullmatch(done.JobStartedDateTime) and DATE_TIME.fullmatch(done.JobFinishedDateTime)
    assert [learner.ReturnCode for learner in done.Learner] == ["RC001", "RC003", "RC011"]
    assert [learner.MISIdentifier for learner in done.Learner] == ["S-0001", "S-0002", "S-0003"]
    assert done.Learner[0].ULN == "9105106906" and len(done.Learner[1].ULN) == 10 and done.Learner[2].ULN in ("", None)
    assert done.Learner[1].EmailAddress in ("", None) and done.Learner[1].AbilityToShare == "1"  # echoed as sent
    counts = (done.NewLearnersCount, done.ExistsUpdatedLearnersCount, done.PossibleMatchLearnersCount,
              done.LearnersNotFoundCount, done.RejectedLearnersCount)
    assert counts == (1, 1, 0, 0, 1)
    # The new learner is on the register: a single find confirms the ULN.
    found = lrs.learnerByULN(FindType="FUL", **credentials("online"), ULN=done.Learner[1].ULN, GivenName="Zara", FamilyName="Quintrell")
    assert found.ResponseCode == "WSRC0004"


def test_a_check_batch_reports_without_registering(lrs, runtime):
    job = submit(lrs, [NEW], job_type="CHK").JobID
    run_jobs(runtime)
    assert [learner.ReturnCode for learner in output(lrs, job).Learner] == ["RC012"]
    again = submit(lrs, [NEW], job_type="CHK").JobID
    run_jobs(runtime)
    assert [learner.ReturnCode for learner in output(lrs, again).Learner] == ["RC012"]  # still not registered


def test_an_age_out_of_range_is_rc011_on_the_web_service(lrs, runtime):
    job = submit(lrs, [dict(NEW, DateOfBirth="2020-01-01")]).JobID
    run_jobs(runtime)
    assert [learner.ReturnCode for learner in output(lrs, job).Learner] == ["RC011"]


def test_a_wrong_record_count_stores_no_job(lrs):
    response = submit(lrs, [AMELIA, NEW], count=3)
    assert (response.ResponseCode, response.JobID) == ("WSRC0017", 0)


def test_an_unknown_job_and_another_organisations_job_look_the_same(lrs, runtime):
    assert output(lrs, 987654321).ResponseCode == "WSRC0018"
    response = output(lrs, 987654321)
    assert response.JobStatus is None and not response.Learner


@pytest.mark.parametrize("user", ["online", "viewonly", "super"])
def test_only_batch_users_may_submit_or_read(lrs, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        submit(lrs, [AMELIA], user=user)
    assert miap(excinfo)[0] == "WSEC0006"
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        output(lrs, 1, user=user)
    assert miap(excinfo)[0] == "WSEC0006"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"JobType": "ALL"}, "JobType"),
        ({"LearnerRecordCount": 201}, "LearnerRecordCount"),
        ({"LearnerRecordCount": 0}, "LearnerRecordCount"),
    ],
)
def test_schema_failures_reject_the_whole_call(lrs, change, field):
    values = {"JobType": "FUL", "LearnerRecordCount": 1, **change}
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        lrs.submitBatchRegistration(**credentials("batch"), Learner=[AMELIA], **values)
    code, detail = miap(excinfo)
    assert code == "WSEC0001" and field in detail


def test_one_bad_learner_rejects_the_whole_call(lrs):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        submit(lrs, [AMELIA, dict(NEW, DateOfBirth="01/06/2008")])
    code, detail = miap(excinfo)
    assert code == "WSEC0001" and "Learner[2]/DateOfBirth" in detail


def _raw_submit(http, learners: int, count: int, job_type: str = "<JobType>FUL</JobType>"):
    org = DEMO["organisation"]
    learner = "<Learner><GivenName>Amelia</GivenName><FamilyName>Hughes</FamilyName></Learner>"
    body = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><b:SubmitBatch xmlns:b="{BATCHMSG}">'
        f"<UKPRN>{org['ukprn']}</UKPRN><OrgPassword>{org['password']}</OrgPassword><UserName>batch</UserName>"
        f"{job_type}<LearnerRecordCount>{count}</LearnerRecordCount>{learner * learners}"
        "</b:SubmitBatch></soapenv:Body></soapenv:Envelope>"
    )
    return post(http, body)


@pytest.mark.parametrize(
    "learners, count, job_type, expected",
    [
        (201, 200, "<JobType>FUL</JobType>", "Learner"),  # more than 200 learners
        (0, 1, "<JobType>FUL</JobType>", "Learner"),  # none at all
        (1, 1, "", "JobType"),  # JobType is mandatory
    ],
)
def test_raw_requests_outside_the_schema_are_wsec0001(http, learners, count, job_type, expected):
    code, detail = fault_of(_raw_submit(http, learners, count, job_type))
    assert code == "WSEC0001" and expected in detail


def test_a_raw_request_of_200_learners_is_accepted(http):
    assert response_code(_raw_submit(http, 200, 200)) == "WSRC0007"
