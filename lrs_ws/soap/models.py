"""Spyne wire objects of the Learner Register: the names and order of their members are those of
our `xsd/` sequences, read through the contract's type index.

Only the Body's root element is qualified; children are unqualified (`sub_ns=""`), except
`LinkedULNs`, which the live service qualifies in the learner namespace. The XSD does the
validation before spyne sees a request, so every leaf is a plain optional string here unless a
model says otherwise (counts, job IDs, nested models, members spyne must always send).
"""
from __future__ import annotations

from spyne import ComplexModel, Integer, Integer64, Unicode

from lrs_ws.contract import Child, type_index
from lrs_ws.contract.namespaces import BATCHMSG, FINDMSG, LEARNER, REGMSG, REPORTMSG, VLDMSG

_UNQUALIFIED = ""
_XSD = type_index()


def _string(min_occurs: int = 0):
    return Unicode.customize(sub_ns=_UNQUALIFIED, min_occurs=min_occurs)


def _learner_type(name: str) -> tuple[Child, ...]:
    """The children of complex type ``name`` of xsd/learner.xsd."""
    return _XSD.children[f"{{{LEARNER}}}{name}"]


def _message(namespace: str, name: str) -> tuple[Child, ...]:
    """The children of message element ``{namespace}name``."""
    return _XSD.children_of_element(f"{{{namespace}}}{name}")


def _members(children: tuple[Child, ...], **kinds: type) -> list[tuple[str, type]]:
    """A model's members: the children, in order, each an optional unqualified string unless
    ``kinds`` gives its spyne type by name."""
    names = [child.name for child in children]
    if not kinds.keys() <= set(names):
        raise RuntimeError(f"the xsd declares no {sorted(kinds.keys() - set(names))} here")
    return [(name, kinds.get(name) or _string()) for name in names]


class LinkedULNs(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [("ULN", Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))]


class Learner(ComplexModel):
    """A learner as found (MIAP `Learner`)."""

    __namespace__ = LEARNER
    _type_info = _members(
        _learner_type("Learner"),
        LinkedULNs=LinkedULNs.customize(sub_ns=LEARNER),
        VersionNumber=Integer.customize(sub_ns=_UNQUALIFIED, min_occurs=1),
    )


class LearnerToRegister(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("LearnerToRegister"))


class LearnerToUpdate(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("LearnerToUpdate"), VersionNumber=Integer.customize(sub_ns=_UNQUALIFIED))


class FindLearnerByULN(ComplexModel):
    __namespace__ = FINDMSG
    _type_info = _members(_message(FINDMSG, "FindLearnerByULN"))


class FindLearnerByDemographics(ComplexModel):
    __namespace__ = FINDMSG
    _type_info = _members(_message(FINDMSG, "FindLearnerByDemographics"))


_FIND_RESPONSE = _message(FINDMSG, "FindLearnerResponse")
# The search fields a find response echoes as sent: all its members but the code and the learners.
SEARCH_ECHO: tuple[str, ...] = tuple(c.name for c in _FIND_RESPONSE if c.name not in ("ResponseCode", "Learner"))


class FindLearnerResponse(ComplexModel):
    __namespace__ = FINDMSG
    _type_info = _members(_FIND_RESPONSE, Learner=Learner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))


class RegisterLearner(ComplexModel):
    __namespace__ = REGMSG
    _type_info = _members(_message(REGMSG, "RegisterLearner"), Learner=LearnerToRegister.customize(sub_ns=_UNQUALIFIED))


class UpdateLearner(ComplexModel):
    __namespace__ = REGMSG
    _type_info = _members(_message(REGMSG, "UpdateLearner"), Learner=LearnerToUpdate.customize(sub_ns=_UNQUALIFIED))


class RegisterLearnerResponse(ComplexModel):
    __namespace__ = REGMSG
    _type_info = _members(_message(REGMSG, "RegisterLearnerResponse"))


class UpdateLearnerResponse(ComplexModel):
    __namespace__ = REGMSG
    _type_info = _members(_message(REGMSG, "UpdateLearnerResponse"))


class BatchLearner(ComplexModel):
    """A learner of a batch (MIAP `BatchLearner`: not the LearnerToRegister order)."""

    __namespace__ = LEARNER
    _type_info = _members(_learner_type("BatchLearner"))


class OutputBatchLearner(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("OutputBatchLearner"), ReturnCode=_string(min_occurs=1))


_JOB_ID = Integer64.customize(sub_ns=_UNQUALIFIED, min_occurs=1)
_RECORD_COUNT = Integer.customize(sub_ns=_UNQUALIFIED, min_occurs=1)


class SubmitBatch(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = _members(
        _message(BATCHMSG, "SubmitBatch"),
        LearnerRecordCount=_RECORD_COUNT,
        Learner=BatchLearner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"),
    )


class SubmitBatchResponse(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = _members(_message(BATCHMSG, "SubmitBatchResponse"), ResponseCode=_string(min_occurs=1), JobID=_JOB_ID)


class GetSubmitBatchOutput(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = _members(_message(BATCHMSG, "GetSubmitBatchOutput"), JobID=_JOB_ID)


_COUNT = Integer.customize(sub_ns=_UNQUALIFIED)


class GetSubmitBatchOutputResponse(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = _members(
        _message(BATCHMSG, "GetSubmitBatchOutputResponse"),
        **dict.fromkeys(
            (
                "NewLearnersCount", "ExistsUpdatedLearnersCount", "PossibleMatchLearnersCount", "LearnersNotFoundCount",
                "RejectedLearnersCount",
            ),
            _COUNT,
        ),
        Learner=OutputBatchLearner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"),
    )


class ULNsToRetrieve(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [("ULN", Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))]


class RetrieveULNs(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = _members(_message(REPORTMSG, "RetrieveULNs"), ULNsToRetrieve=ULNsToRetrieve.customize(sub_ns=_UNQUALIFIED))


class RetrievedULN(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("MIAPRetrievedULN"))


class RetrievedULNs(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [("VerifiedULN", RetrievedULN.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))]


class RetrieveULNsResponse(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = _members(
        _message(REPORTMSG, "RetrieveULNsResponse"), RetrievedULNs=RetrievedULNs.customize(sub_ns=_UNQUALIFIED, min_occurs=1)
    )


_FAILURE_FLAGS = Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")


class LearnerToVerify(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("MIAPLearnerToVerify"))


class VerifyLearner(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = _members(_message(REPORTMSG, "VerifyLearner"), LearnerToVerify=LearnerToVerify.customize(sub_ns=_UNQUALIFIED))


class VerifiedLearner(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("MIAPVerifiedLearner"), FailureFlag=_FAILURE_FLAGS)


class VerifyLearnerResponse(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = _members(
        _message(REPORTMSG, "VerifyLearnerResponse"), VerifiedLearner=VerifiedLearner.customize(sub_ns=_UNQUALIFIED, min_occurs=1)
    )


class BatchLearnerToVerify(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("MIAPBatchLearnerToVerify"))


class SubmitVerifyBatch(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = _members(
        _message(VLDMSG, "SubmitVerifyBatch"),
        LearnerRecordCount=_RECORD_COUNT,
        Learner=BatchLearnerToVerify.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"),
    )


class SubmitVerifyBatchResponse(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = _members(_message(VLDMSG, "SubmitVerifyBatchResponse"), ResponseCode=_string(min_occurs=1), JobID=_JOB_ID)


class GetVerifyBatchOutput(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = _members(_message(VLDMSG, "GetVerifyBatchOutput"), JobID=_JOB_ID)


class VerifiedBatchLearner(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _members(_learner_type("MIAPVerifiedBatchLearner"), FailureFlag=_FAILURE_FLAGS)


class GetVerifyBatchOutputResponse(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = _members(
        _message(VLDMSG, "GetVerifyBatchOutputResponse"),
        VerifiedLearner=VerifiedBatchLearner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"),
    )
