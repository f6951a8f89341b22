"""submitVerifyBatch and getVerifyBatchOutput through a zeep client from our WSDL: the batch job
machinery of registration, each learner verified as verifyLearner does."""
from __future__ import annotations

import pytest
import zeep.exceptions

from tests.contract.conftest import credentials
from tests.contract.test_batch_registration import run_jobs
from tests.contract.test_learner_service import miap

AMELIA = {"MISIdentifier": "V-1", "ULN": "9105106906", "FamilyName": "Hughes", "GivenName": "Amelia",
          "DateOfBirth": "2007-03-14", "Gender": "2"}


def submit(lrs, learners, count=None, user="online", **extra):
    return lrs.submitVerifyBatch(
        **credentials(user), LearnerRecordCount=len(learners) if count is None else count, Learner=learners, **extra
    )


def output(lrs, job_id, user="online"):
    return lrs.getVerifyBatchOutput(**credentials(user), JobID=job_id)


def test_a_verification_batch_answers_each_learner_as_verify_learner_does(lrs, runtime):
    learners = [
        AMELIA,
        {"MISIdentifier": "V-2", "ULN": "5558175256", "FamilyName": "Patel", "GivenName": "Harry"},
        {"MISIdentifier": "V-3", "ULN": "9105106906", "FamilyName": "Okafor", "GivenName": "Zara"},
        {"MISIdentifier": "V-4", "ULN": "1026893096", "FamilyName": "Hughes", "GivenName": "Amelia"},
    ]
    submitted = submit(lrs, learners, OrgEmail="mis@example.ac.uk")
    assert submitted.ResponseCode == "WSRC0007" and submitted.JobID > 0
    assert output(lrs, submitted.JobID).ResponseCode == "WSRC0008"
    run_jobs(runtime)
    done = output(lrs, submitted.JobID)
    assert done.ResponseCode == "WSRC0009" and done.JobStatus == "Completed" and done.JobFinishedDateTime
    answers = done.VerifiedLearner
    assert [(a.MISIdentifier, a.ResponseCode, a.ULN) for a in answers] == [
        ("V-1", "WSVRC001", "9105106906"),
        ("V-2", "WSVRC002", "2083498614"),
        ("V-3", "WSVRC005", "9105106906"),
        ("V-4", "WSVRC006", None),
    ]
    assert answers[0].GivenName == "Amelia" and not answers[0].FailureFlag
    assert answers[2].GivenName is None and {"VRF1", "VRF5"} <= set(answers[2].FailureFlag)  # nothing disclosed
    assert answers[0].SearchedDateOfBirth == "2007-03-14" and answers[1].SearchedDateOfBirth is None


def test_a_wrong_count_stores_nothing(lrs):
    response = submit(lrs, [AMELIA], count=2)
    assert (response.ResponseCode, response.JobID) == ("WSRC0017", 0)


def test_registration_and_verification_jobs_are_not_each_others(lrs, runtime):
    verify_job = submit(lrs, [AMELIA]).JobID
    registration = lrs.submitBatchRegistration(
        **credentials("batch"), JobType="CHK", LearnerRecordCount=1,
        Learner=[{"GivenName": "Amelia", "FamilyName": "Hughes"}],
    ).JobID
    run_jobs(runtime)
    assert output(lrs, registration).ResponseCode == "WSRC0018"
    assert lrs.getBatchRegistrationOutput(**credentials("batch"), JobID=verify_job).ResponseCode == "WSRC0018"
    assert output(lrs, verify_job).ResponseCode == "WSRC0009"


@pytest.mark.parametrize("user", ["viewonly", "batch", "super"])
def test_only_verifiers_may_submit_or_read(lrs, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        submit(lrs, [AMELIA], user=user)
    assert miap(excinfo)[0] == "WSEC0006"
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        output(lrs, 1, user=user)
    assert miap(excinfo)[0] == "WSEC0006"


def test_a_count_over_200_is_wsec0001(lrs):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        submit(lrs, [AMELIA], count=201)
    code, detail = miap(excinfo)
    assert code == "WSEC0001" and "LearnerRecordCount" in detail
