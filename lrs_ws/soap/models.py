"""Spyne wire objects of the Learner Register: names and order of our `xsd/` sequences.

Only the Body's root element is qualified; children are unqualified (`sub_ns=""`), except
`LinkedULNs`, which the live service qualifies in the learner namespace. The XSD does the
validation before spyne sees a request, so every leaf is a plain string here.
"""
from __future__ import annotations

from spyne import ComplexModel, Integer, Integer64, Unicode

from lrs_ws.domain.batch import BATCH_FIELDS
from lrs_ws.soap.namespaces import BATCHMSG, FINDMSG, LEARNER, REGMSG, REPORTMSG, VLDMSG

_UNQUALIFIED = ""


def _string(min_occurs: int = 0):
    return Unicode.customize(sub_ns=_UNQUALIFIED, min_occurs=min_occurs)


def _fields(names: str, min_occurs: int = 0) -> list[tuple[str, type]]:
    return [(name, _string(min_occurs)) for name in names.split()]


CREDENTIALS = "OrganisationRef UKPRN OrgPassword UserName"
DETAILS = (
    "Title GivenName MiddleOtherName FamilyName PreferredGivenName PreviousFamilyName "
    "FamilyNameAtAge16 SchoolAtAge16 LastKnownAddressLine1 LastKnownAddressLine2 "
    "LastKnownAddressTown LastKnownAddressCountyOrCity LastKnownPostCode DateOfAddressCapture "
    "DateOfBirth PlaceOfBirth Gender EmailAddress Nationality ScottishCandidateNumber "
    "VerificationType OtherVerificationDescription AbilityToShare Notes"
)
SEARCH_ECHO = (
    "ULN FamilyName GivenName DateOfBirth Gender LastKnownPostCode PreviousFamilyName "
    "SchoolAtAge16 PlaceOfBirth EmailAddress"
)


class LinkedULNs(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [("ULN", Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))]


class Learner(ComplexModel):
    """A learner as found (MIAP `Learner`)."""

    __namespace__ = LEARNER
    _type_info = [
        *_fields("CreatedDate LastUpdatedDate ULN MasterSubstituted"),
        *_fields(DETAILS.replace("AbilityToShare Notes", "")),
        *_fields("TierLevel AbilityToShare LearnerStatus"),
        ("LinkedULNs", LinkedULNs.customize(sub_ns=LEARNER)),
        *_fields("Notes"),
        ("VersionNumber", Integer.customize(sub_ns=_UNQUALIFIED, min_occurs=1)),
    ]


class LearnerToRegister(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _fields(DETAILS)


class LearnerToUpdate(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [*_fields(DETAILS), *_fields("ULN"), ("VersionNumber", Integer.customize(sub_ns=_UNQUALIFIED))]


class FindLearnerByULN(ComplexModel):
    __namespace__ = FINDMSG
    _type_info = _fields("FindType " + CREDENTIALS + " ULN FamilyName GivenName")


class FindLearnerByDemographics(ComplexModel):
    __namespace__ = FINDMSG
    _type_info = _fields(
        "FindType " + CREDENTIALS + " FamilyName GivenName DateOfBirth Gender LastKnownPostCode "
        "PreviousFamilyName SchoolAtAge16 PlaceOfBirth EmailAddress"
    )


class FindLearnerResponse(ComplexModel):
    __namespace__ = FINDMSG
    _type_info = [
        *_fields("ResponseCode"),
        *_fields(SEARCH_ECHO),
        ("Learner", Learner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]


class RegisterLearner(ComplexModel):
    __namespace__ = REGMSG
    _type_info = [*_fields(CREDENTIALS), ("Learner", LearnerToRegister.customize(sub_ns=_UNQUALIFIED))]


class UpdateLearner(ComplexModel):
    __namespace__ = REGMSG
    _type_info = [*_fields(CREDENTIALS), ("Learner", LearnerToUpdate.customize(sub_ns=_UNQUALIFIED))]


class RegisterLearnerResponse(ComplexModel):
    __namespace__ = REGMSG
    _type_info = _fields("ResponseCode ULN")


class UpdateLearnerResponse(ComplexModel):
    __namespace__ = REGMSG
    _type_info = _fields("ResponseCode")


class BatchLearner(ComplexModel):
    """A learner of a batch (MIAP `BatchLearner`: not the LearnerToRegister order)."""

    __namespace__ = LEARNER
    _type_info = _fields(" ".join(BATCH_FIELDS))


class OutputBatchLearner(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [*_fields(" ".join(BATCH_FIELDS)), *_fields("ReturnCode", min_occurs=1)]


class SubmitBatch(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = [
        *_fields(CREDENTIALS + " JobType"),
        ("LearnerRecordCount", Integer.customize(sub_ns=_UNQUALIFIED, min_occurs=1)),
        ("Learner", BatchLearner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]


class SubmitBatchResponse(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = [*_fields("ResponseCode", min_occurs=1), ("JobID", Integer64.customize(sub_ns=_UNQUALIFIED, min_occurs=1))]


class GetSubmitBatchOutput(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = [*_fields(CREDENTIALS), ("JobID", Integer64.customize(sub_ns=_UNQUALIFIED, min_occurs=1))]


_COUNT = Integer.customize(sub_ns=_UNQUALIFIED)


class GetSubmitBatchOutputResponse(ComplexModel):
    __namespace__ = BATCHMSG
    _type_info = [
        *_fields("ResponseCode JobStatus", min_occurs=0),
        *[(name, _COUNT) for name in (
            "NewLearnersCount", "ExistsUpdatedLearnersCount", "PossibleMatchLearnersCount",
            "LearnersNotFoundCount", "RejectedLearnersCount",
        )],
        *_fields("JobStartedDateTime JobFinishedDateTime"),
        ("Learner", OutputBatchLearner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]


class ULNsToRetrieve(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [("ULN", Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))]


class RetrieveULNs(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = [*_fields(CREDENTIALS), ("ULNsToRetrieve", ULNsToRetrieve.customize(sub_ns=_UNQUALIFIED))]


class RetrievedULN(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _fields("ULN MasterULN ResponseCode FamilyName GivenName DateOfBirth Gender")


class RetrievedULNs(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [("VerifiedULN", RetrievedULN.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded"))]


class RetrieveULNsResponse(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = [("RetrievedULNs", RetrievedULNs.customize(sub_ns=_UNQUALIFIED, min_occurs=1))]


VERIFIED = (
    "SearchedULN SearchedFamilyName SearchedGivenName SearchedDateOfBirth SearchedGender "
    "ResponseCode ULN FamilyName GivenName DateOfBirth Gender"
)

class LearnerToVerify(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _fields("ULN FamilyName GivenName DateOfBirth Gender")


class VerifyLearner(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = [*_fields(CREDENTIALS), ("LearnerToVerify", LearnerToVerify.customize(sub_ns=_UNQUALIFIED))]


class VerifiedLearner(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [
        *_fields(VERIFIED),
        ("FailureFlag", Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]


class VerifyLearnerResponse(ComplexModel):
    __namespace__ = REPORTMSG
    _type_info = [("VerifiedLearner", VerifiedLearner.customize(sub_ns=_UNQUALIFIED, min_occurs=1))]



class BatchLearnerToVerify(ComplexModel):
    __namespace__ = LEARNER
    _type_info = _fields("MISIdentifier ULN FamilyName GivenName DateOfBirth Gender")


class SubmitVerifyBatch(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = [
        *_fields(CREDENTIALS),
        ("LearnerRecordCount", Integer.customize(sub_ns=_UNQUALIFIED, min_occurs=1)),
        *_fields("OrgEmail"),
        ("Learner", BatchLearnerToVerify.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]


class SubmitVerifyBatchResponse(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = [*_fields("ResponseCode", min_occurs=1), ("JobID", Integer64.customize(sub_ns=_UNQUALIFIED, min_occurs=1))]


class GetVerifyBatchOutput(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = [*_fields(CREDENTIALS), ("JobID", Integer64.customize(sub_ns=_UNQUALIFIED, min_occurs=1))]


class VerifiedBatchLearner(ComplexModel):
    __namespace__ = LEARNER
    _type_info = [
        *_fields("MISIdentifier " + VERIFIED),
        ("FailureFlag", Unicode.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]


class GetVerifyBatchOutputResponse(ComplexModel):
    __namespace__ = VLDMSG
    _type_info = [
        *_fields("ResponseCode JobStatus JobStartedDateTime JobFinishedDateTime"),
        ("VerifiedLearner", VerifiedBatchLearner.customize(sub_ns=_UNQUALIFIED, max_occurs="unbounded")),
    ]
