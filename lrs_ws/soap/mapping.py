"""Wire objects <-> domain objects, in one place (wire names: lrs_ws.domain.learner.WIRE_NAMES)."""
from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from lrs_ws.clock import uk_date_time
from lrs_ws.contract.learner_fields import BATCH_FIELDS
from lrs_ws.domain.batch import BatchLearnerFields, Count, JobLearner, output_fields
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learner import DATE_FIELDS, DETAIL_FIELDS, WIRE_NAMES, LearnerDetails, wire_name
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.rules import calendar_date, details_to_register
from lrs_ws.domain.verification import DetailsToVerify, VerificationCode, disclosed_details
from lrs_ws.services.batch import JobOutput
from lrs_ws.services.find import FoundLearner, RetrievedUln
from lrs_ws.services.verify import VerifyResult
from lrs_ws.soap import models
from lrs_ws.soap.writer import instance


def _to_domain(field: str, text: str | None) -> object:
    if text is None or (text == "" and field not in ("given_name", "family_name")):
        return None
    return calendar_date(wire_name(field), text) if field in DATE_FIELDS else text


def _to_wire(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def details_from_wire(wire: models.LearnerToRegister) -> LearnerDetails:
    # By field: a date, a string or None; a dict by name cannot say which.
    return details_to_register({field: _to_domain(field, getattr(wire, wire_name(field))) for field in DETAIL_FIELDS})


def sent_details(wire: models.LearnerToUpdate, present: set[str]) -> dict[str, object]:
    """The detail fields whose elements were present in the request (absent = keep as is)."""
    return {
        field: _to_domain(field, getattr(wire, wire_name(field)))
        for field in DETAIL_FIELDS
        if wire_name(field) in present
    }


def search_key_from_wire(request: models.FindLearnerByDemographics) -> SearchKey:
    return SearchKey(
        given_name=request.GivenName,
        family_name=request.FamilyName,
        date_of_birth=calendar_date("DateOfBirth", request.DateOfBirth),
        gender=request.Gender,
        post_code=request.LastKnownPostCode,
    )


def learner_to_wire(found: FoundLearner) -> models.Learner:
    learner = found.learner
    values = {WIRE_NAMES[field]: _to_wire(getattr(learner, field)) for field in DETAIL_FIELDS}
    values["Notes"] = learner.notes or ""  # the live service always sends Notes, empty or not
    return instance(
        models.Learner,
        CreatedDate=learner.created_date.isoformat(),
        LastUpdatedDate=learner.last_updated_date.isoformat(),
        ULN=learner.uln,
        MasterSubstituted="Y" if found.master_substituted else None,
        TierLevel=learner.tier_level,
        LearnerStatus=learner.learner_status.value,
        LinkedULNs=instance(models.LinkedULNs, ULN=sorted(learner.linked_ulns)),
        VersionNumber=learner.version_number,
        **values,
    )


def echo_search(request: object, response: models.FindLearnerResponse) -> None:
    """Copy the search fields the MIS sent back into the response, as the live service does."""
    for name in models.SEARCH_ECHO:
        value = getattr(request, name, None)
        if value:
            setattr(response, name, value)


def learners_from_body(body: etree._Element, *, keep_empty: bool = True) -> list[BatchLearnerFields]:
    """Each `Learner` of a SubmitBatch or SubmitVerifyBatch as sent: element name -> text,
    absent elements left out; an empty (or nil) one is '' with `keep_empty` (a registration batch
    echoes it), else left out (a verification: not sent). Read from the validated document,
    which keeps absent and empty apart."""
    return [
        {
            child.tag: child.text or ""
            for child in learner
            if isinstance(child.tag, str) and (keep_empty or child.text)
        }
        for learner in body.iterfind("Learner")
    ]


def _date_time(moment: datetime | None) -> str | None:
    """MIAPDateTime, UK local time."""
    return None if moment is None else uk_date_time(moment)


def output_learner_to_wire(learner: JobLearner) -> models.OutputBatchLearner:
    """The learner as sent, its ULN replaced by the one found or issued (empty when none
    applies), and its return code as the web service gives it (RC013 is RC011 here)."""
    fields = output_fields(learner)
    values = {name: fields[name] for name in BATCH_FIELDS if name in fields}
    # output_fields (called first) raised unless the learner has a registration job's outcome
    code = learner.outcome.code.for_web_service()  # type: ignore[union-attr]
    return models.OutputBatchLearner(ReturnCode=code.value, **values)


def _job_state(response, job) -> None:
    """What every answer about a known job carries: its status, and its times once known."""
    response.JobStatus = job.status.value
    response.JobStartedDateTime = _date_time(job.started_at)
    if job.finished:
        response.JobFinishedDateTime = _date_time(job.finished_at)


def batch_output_to_wire(output: JobOutput) -> models.GetSubmitBatchOutputResponse:
    response = models.GetSubmitBatchOutputResponse(ResponseCode=output.code.value)
    job = output.job
    if job is None:
        return response
    _job_state(response, job)
    if output.code is ResponseCode.BATCH_FINISHED:
        for count in Count:
            setattr(response, count.value, job.counts.get(count, 0))
        response.Learner = [output_learner_to_wire(learner) for learner in output.learners]
    return response


def retrieved_to_wire(answers: list[RetrievedUln]) -> models.RetrieveULNsResponse:
    items = []
    for answer in answers:
        item = models.RetrievedULN(ULN=answer.uln, ResponseCode=answer.code.value)
        learner = answer.learner
        if learner is not None:
            if answer.code is ResponseCode.MASTER_SUBSTITUTED:
                item.MasterULN = learner.uln
            item.FamilyName, item.GivenName = learner.family_name, learner.given_name
            item.DateOfBirth, item.Gender = learner.date_of_birth.isoformat(), learner.gender
        items.append(item)
    return models.RetrieveULNsResponse(RetrievedULNs=models.RetrievedULNs(VerifiedULN=items))


def to_verify_from_wire(wire: models.LearnerToVerify) -> DetailsToVerify:
    """Date of birth and gender absent, nil or empty: not compared."""
    born = calendar_date("LearnerToVerify/DateOfBirth", wire.DateOfBirth) if wire.DateOfBirth else None
    return DetailsToVerify(wire.GivenName, wire.FamilyName, born, wire.Gender or None)


def verified_to_wire(wire: models.LearnerToVerify, result: VerifyResult) -> models.VerifyLearnerResponse:
    verified = models.VerifiedLearner(
        SearchedULN=wire.ULN,
        SearchedFamilyName=wire.FamilyName,
        SearchedGivenName=wire.GivenName,
        SearchedDateOfBirth=wire.DateOfBirth or None,
        SearchedGender=wire.Gender or None,
        ResponseCode=result.verification.code.value,
        FailureFlag=[flag.value for flag in result.verification.flags],
    )
    if result.verification.code is not VerificationCode.ULN_NOT_FOUND:
        verified.ULN = result.uln
    learner = result.learner  # only when the code may disclose the learner's details
    for name, value in ({} if learner is None else disclosed_details(learner)).items():
        setattr(verified, name, value)
    return models.VerifyLearnerResponse(VerifiedLearner=verified)


def verify_output_to_wire(output: JobOutput) -> models.GetVerifyBatchOutputResponse:
    response = models.GetVerifyBatchOutputResponse(ResponseCode=output.code.value)
    job = output.job
    if job is None:
        return response
    _job_state(response, job)
    if output.code is ResponseCode.BATCH_FINISHED:
        response.VerifiedLearner = [_verified_batch_learner(learner) for learner in output.learners]
    return response


def _verified_batch_learner(learner: JobLearner) -> models.VerifiedBatchLearner:
    fields, outcome = learner.fields, learner.outcome
    assert outcome is not None, "a finished job has an outcome for every learner"
    detail = outcome.detail or {}
    verified = models.VerifiedBatchLearner(
        MISIdentifier=fields.get("MISIdentifier"),
        SearchedULN=fields.get("ULN"),
        SearchedFamilyName=fields.get("FamilyName"),
        SearchedGivenName=fields.get("GivenName"),
        SearchedDateOfBirth=fields.get("DateOfBirth") or None,
        SearchedGender=fields.get("Gender") or None,
        ResponseCode=outcome.code.value,
        ULN=outcome.uln,
        FailureFlag=list(detail.get("flags") or []),
    )
    for name, value in (detail.get("learner") or {}).items():  # only for WSVRC001-004
        setattr(verified, name, value)
    return verified
