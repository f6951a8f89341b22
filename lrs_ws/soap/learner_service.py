"""The Learner Register service (`/LearnerService.svc`): document/literal bare, SOAP 1.1.

Each method translates the wire request into a use case and the result back; `_call` reads the
credentials and hands over to `lrs_ws.soap.calls.call`, the one place (shared with the R9
service) that checks them and turns errors into faults of the endpoint's kind.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from spyne import ServiceBase, rpc

from lrs_ws.contract.namespaces import BATCHMSG, FINDMSG, REGMSG, REPORTMSG, VLDMSG
from lrs_ws.domain.batch import JobType
from lrs_ws.domain.roles import Operation
from lrs_ws.runtime import Runtime
from lrs_ws.services import batch, find, register, update, verify
from lrs_ws.services.auth import Credentials
from lrs_ws.services.ports import Caller, UnitOfWork
from lrs_ws.soap import calls, mapping, models
from lrs_ws.soap.writer import instance

T = TypeVar("T")


def _call(
    ctx, operation: Operation, request, use_case: Callable[[UnitOfWork, Caller, Runtime], T], field_path: str = ""
) -> T:
    """Learner Register credentials (OrganisationRef or UKPRN, OrgPassword, UserName) -> calls.call."""
    credentials = Credentials(
        ukprn=request.UKPRN,
        organisation_ref=request.OrganisationRef,
        password=request.OrgPassword,
        username=request.UserName,
    )
    return calls.call(ctx, operation, credentials, use_case, field_path)


def _find_response(request, result: find.FindResult, full: bool) -> models.FindLearnerResponse:
    response = instance(models.FindLearnerResponse, ResponseCode=result.code.value)
    mapping.echo_search(request, response)
    if full:  # CHK: the response code and the echoed search only (our reading)
        response.Learner = [mapping.learner_to_wire(found) for found in result.learners]
    return response


def _present_children(ctx, name: str) -> set[str]:
    """Local names of the elements sent inside the request's `name` child (absent vs empty)."""
    element = ctx.in_body_doc.find(name)
    return set() if element is None else {child.tag for child in element if isinstance(child.tag, str)}


class LearnerService(ServiceBase):
    @rpc(
        models.FindLearnerByULN,
        _returns=models.FindLearnerResponse,
        _body_style="bare",
        _operation_name="learnerByULN",
        _in_message_name=f"{{{FINDMSG}}}FindLearnerByULN",
        _out_message_name=f"{{{FINDMSG}}}FindLearnerResponse",
    )
    def learnerByULN(ctx, request):
        result = _call(
            ctx,
            Operation.FIND,
            request,
            lambda uow, caller, rt: find.find_by_uln(
                uow, caller, request.ULN, request.FamilyName, request.GivenName, uow.clock.now()
            ),
        )
        return _find_response(request, result, request.FindType == "FUL")

    @rpc(
        models.FindLearnerByDemographics,
        _returns=models.FindLearnerResponse,
        _body_style="bare",
        _operation_name="learnerByDemographics",
        _in_message_name=f"{{{FINDMSG}}}FindLearnerByDemographics",
        _out_message_name=f"{{{FINDMSG}}}FindLearnerResponse",
    )
    def learnerByDemographics(ctx, request):
        full = request.FindType == "FUL"
        result = _call(
            ctx,
            Operation.FIND,
            request,
            lambda uow, caller, rt: find.find_by_demographics(
                uow,
                caller,
                mapping.search_key_from_wire(request),
                full=full,
                possible_match_limit=rt.settings.possible_match_limit,
                now=uow.clock.now(),
            ),
        )
        return _find_response(request, result, full)

    @rpc(
        models.RegisterLearner,
        _returns=models.RegisterLearnerResponse,
        _body_style="bare",
        _operation_name="registerSingleLearner",
        _in_message_name=f"{{{REGMSG}}}RegisterLearner",
        _out_message_name=f"{{{REGMSG}}}RegisterLearnerResponse",
    )
    def registerSingleLearner(ctx, request):
        result = _call(
            ctx,
            Operation.REGISTER,
            request,
            lambda uow, caller, rt: register.register(
                uow,
                caller,
                mapping.details_from_wire(request.Learner),
                now=uow.clock.now(),
                find_window=rt.find_window,
                prohibited_words=rt.prohibited_words,
                rng=rt.rng,
                search_patience=rt.search_patience,
            ),
            field_path="Learner/",
        )
        return models.RegisterLearnerResponse(ResponseCode=result.code.value, ULN=result.uln)

    @rpc(
        models.UpdateLearner,
        _returns=models.UpdateLearnerResponse,
        _body_style="bare",
        _operation_name="updateSingleLearner",
        _in_message_name=f"{{{REGMSG}}}UpdateLearner",
        _out_message_name=f"{{{REGMSG}}}UpdateLearnerResponse",
    )
    def updateSingleLearner(ctx, request):
        wire = request.Learner
        code = _call(
            ctx,
            Operation.UPDATE,
            request,
            lambda uow, caller, rt: update.update(
                uow,
                caller,
                wire.ULN,
                int(wire.VersionNumber),
                mapping.sent_details(wire, _present_children(ctx, "Learner")),
                now=uow.clock.now(),
                prohibited_words=rt.prohibited_words,
            ),
            field_path="Learner/",
        )
        return models.UpdateLearnerResponse(ResponseCode=code.value)

    @rpc(
        models.SubmitBatch,
        _returns=models.SubmitBatchResponse,
        _body_style="bare",
        _operation_name="submitBatchRegistration",
        _in_message_name=f"{{{BATCHMSG}}}SubmitBatch",
        _out_message_name=f"{{{BATCHMSG}}}SubmitBatchResponse",
    )
    def submitBatchRegistration(ctx, request):
        learners = mapping.learners_from_body(ctx.in_body_doc)
        code, job_id = _call(
            ctx,
            Operation.BATCH,
            request,
            lambda uow, caller, rt: batch.submit_from_web_service(
                uow, caller, request.JobType, int(request.LearnerRecordCount), learners, now=uow.clock.now()
            ),
        )
        return models.SubmitBatchResponse(ResponseCode=code.value, JobID=job_id)

    @rpc(
        models.GetSubmitBatchOutput,
        _returns=models.GetSubmitBatchOutputResponse,
        _body_style="bare",
        _operation_name="getBatchRegistrationOutput",
        _in_message_name=f"{{{BATCHMSG}}}GetSubmitBatchOutput",
        _out_message_name=f"{{{BATCHMSG}}}GetSubmitBatchOutputResponse",
    )
    def getBatchRegistrationOutput(ctx, request):
        output = _call(
            ctx,
            Operation.BATCH,
            request,
            lambda uow, caller, rt: batch.web_service_output(
                uow, caller, int(request.JobID), now=uow.clock.now(), retention=rt.batch_retention
            ),
        )
        return mapping.batch_output_to_wire(output)

    @rpc(
        models.RetrieveULNs,
        _returns=models.RetrieveULNsResponse,
        _body_style="bare",
        _operation_name="retrieveULNs",
        _in_message_name=f"{{{REPORTMSG}}}RetrieveULNs",
        _out_message_name=f"{{{REPORTMSG}}}RetrieveULNsResponse",
    )
    def retrieveULNs(ctx, request):
        ulns = [uln for uln in request.ULNsToRetrieve.ULN]
        answers = _call(
            ctx, Operation.FIND, request, lambda uow, caller, rt: find.retrieve_ulns(uow, caller, ulns, uow.clock.now())
        )
        return mapping.retrieved_to_wire(answers)

    @rpc(
        models.VerifyLearner,
        _returns=models.VerifyLearnerResponse,
        _body_style="bare",
        _operation_name="verifyLearner",
        _in_message_name=f"{{{REPORTMSG}}}VerifyLearner",
        _out_message_name=f"{{{REPORTMSG}}}VerifyLearnerResponse",
    )
    def verifyLearner(ctx, request):
        wire = request.LearnerToVerify
        result = _call(
            ctx,
            Operation.VERIFY,
            request,
            lambda uow, caller, rt: verify.verify_learner(
                uow, caller, wire.ULN, mapping.to_verify_from_wire(wire), uow.clock.now()
            ),
        )
        return mapping.verified_to_wire(wire, result)

    @rpc(
        models.SubmitVerifyBatch,
        _returns=models.SubmitVerifyBatchResponse,
        _body_style="bare",
        _operation_name="submitVerifyBatch",
        _in_message_name=f"{{{VLDMSG}}}SubmitVerifyBatch",
        _out_message_name=f"{{{VLDMSG}}}SubmitVerifyBatchResponse",
    )
    def submitVerifyBatch(ctx, request):
        learners = mapping.learners_from_body(ctx.in_body_doc, keep_empty=False)
        code, job_id = _call(
            ctx,
            Operation.VERIFY,
            request,
            lambda uow, caller, rt: batch.submit_from_web_service(
                uow, caller, JobType.VERIFY.value, int(request.LearnerRecordCount), learners,
                now=uow.clock.now(), contact_email=request.OrgEmail or None,
            ),
        )
        return models.SubmitVerifyBatchResponse(ResponseCode=code.value, JobID=job_id)

    @rpc(
        models.GetVerifyBatchOutput,
        _returns=models.GetVerifyBatchOutputResponse,
        _body_style="bare",
        _operation_name="getVerifyBatchOutput",
        _in_message_name=f"{{{VLDMSG}}}GetVerifyBatchOutput",
        _out_message_name=f"{{{VLDMSG}}}GetVerifyBatchOutputResponse",
    )
    def getVerifyBatchOutput(ctx, request):
        output = _call(
            ctx,
            Operation.VERIFY,
            request,
            lambda uow, caller, rt: batch.web_service_output(
                uow, caller, int(request.JobID), now=uow.clock.now(), retention=rt.batch_retention, registers=False
            ),
        )
        return mapping.verify_output_to_wire(output)
