"""The codes the LRS answers with: `ResponseCode` values and fault `ErrorCode`s.

Descriptions are our own short wording.
"""
from __future__ import annotations

from enum import Enum

from lrs_ws.domain.matching import Outcome


class ResponseCode(str, Enum):
    NO_MATCH = "WSRC0001"
    TOO_MANY_MATCHES = "WSRC0002"
    POSSIBLE_MATCHES = "WSRC0003"
    EXACT_MATCH = "WSRC0004"
    LEARNER_REGISTERED = "WSRC0005"
    LEARNER_UPDATED = "WSRC0006"
    BATCH_SUBMITTED = "WSRC0007"
    BATCH_RUNNING = "WSRC0008"
    BATCH_FINISHED = "WSRC0009"
    BATCH_FAILED = "WSRC0010"
    VERSION_STALE = "WSRC0013"
    INVALID_ABILITY_TO_SHARE_CHANGE = "WSRC0014"
    RECORD_COUNT_MISMATCH = "WSRC0017"
    UNKNOWN_JOB = "WSRC0018"
    ULN_NOT_FOUND = "WSRC0019"
    NO_CHANGES = "WSRC0020"
    REGISTRATION_REFUSED = "WSRC0021"
    MASTER_SUBSTITUTED = "WSRC0022"
    INVALID_ULN = "WSEC0136"
    NOT_SHARED = "WSEC0206"
    LEARNER_NOT_VERIFIED = "WSEC0208"

    @property
    def description(self) -> str:
        return _RESPONSE_DESCRIPTIONS[self]


_RESPONSE_DESCRIPTIONS: dict[ResponseCode, str] = {
    ResponseCode.NO_MATCH: "No learner matches the details given.",
    ResponseCode.TOO_MANY_MATCHES: "Too many learners match; refine the search.",
    ResponseCode.POSSIBLE_MATCHES: "Possible matches found.",
    ResponseCode.EXACT_MATCH: "Exactly one learner matches.",
    ResponseCode.LEARNER_REGISTERED: "Learner registered; the new ULN is returned.",
    ResponseCode.LEARNER_UPDATED: "Learner updated.",
    ResponseCode.BATCH_SUBMITTED: "Batch job accepted.",
    ResponseCode.BATCH_RUNNING: "Batch job still running.",
    ResponseCode.BATCH_FINISHED: "Batch job finished.",
    ResponseCode.BATCH_FAILED: "Batch job failed.",
    ResponseCode.VERSION_STALE: "The learner changed since it was read; read it again.",
    ResponseCode.INVALID_ABILITY_TO_SHARE_CHANGE: "AbilityToShare cannot go back to 0.",
    ResponseCode.RECORD_COUNT_MISMATCH: "The record count does not match the learners sent.",
    ResponseCode.UNKNOWN_JOB: "No such batch job.",
    ResponseCode.ULN_NOT_FOUND: "No learner has this ULN.",
    ResponseCode.NO_CHANGES: "Nothing changed; the learner was not updated.",
    ResponseCode.REGISTRATION_REFUSED: (
        "Not registered: the same details exist, or no recent search preceded the request."
    ),
    ResponseCode.MASTER_SUBSTITUTED: "The ULN was merged; its master record is returned.",
    ResponseCode.INVALID_ULN: "The ULN is not valid.",
    ResponseCode.NOT_SHARED: "The learner has not agreed to share their learning record.",
    ResponseCode.LEARNER_NOT_VERIFIED: "The ULN and names given do not agree.",
}


# A find that identified one learner (directly, or through a merged ULN's master).
EXACT_FIND_CODES: frozenset[ResponseCode] = frozenset(
    {ResponseCode.EXACT_MATCH, ResponseCode.MASTER_SUBSTITUTED}
)


_OUTCOME_CODES: dict[Outcome, ResponseCode] = {
    Outcome.EXACT: ResponseCode.EXACT_MATCH,
    Outcome.POSSIBLE: ResponseCode.POSSIBLE_MATCHES,
    Outcome.TOO_MANY: ResponseCode.TOO_MANY_MATCHES,
    Outcome.NONE: ResponseCode.NO_MATCH,
}


def response_code_for(outcome: Outcome) -> ResponseCode:
    """The find response code of a matching outcome."""
    return _OUTCOME_CODES[outcome]


class ErrorCode(str, Enum):
    """Fault codes (MIAPAPIException / DomainFault `ErrorCode`)."""

    INVALID_REQUEST = "WSEC0001"
    UNKNOWN_REQUEST = "WSEC0002"
    UNKNOWN_ORGANISATION = "WSEC0003"
    OUT_OF_HOURS = "WSEC0004"
    INCORRECT_PASSWORD = "WSEC0005"
    INSUFFICIENT_ACCESS = "WSEC0006"
    UNEXPECTED_ERROR = "WSEC0999"

    @property
    def description(self) -> str:
        return _ERROR_DESCRIPTIONS[self]

    @property
    def is_client_error(self) -> bool:
        """True when the caller must fix the request (soapenv:Client); else the server's fault."""
        return self is not ErrorCode.UNEXPECTED_ERROR


_ERROR_DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.INVALID_REQUEST: "Invalid request: the request is malformed or a field is not valid.",
    ErrorCode.UNKNOWN_REQUEST: "Unknown request: the operation is not recognised.",
    ErrorCode.UNKNOWN_ORGANISATION: "Unknown organisation: the organisation is not registered.",
    ErrorCode.OUT_OF_HOURS: "The service is not available at this time.",
    ErrorCode.INCORRECT_PASSWORD: "Incorrect password for the organisation.",
    ErrorCode.INSUFFICIENT_ACCESS: "The user's roles do not allow this operation.",
    ErrorCode.UNEXPECTED_ERROR: "An unexpected error occurred; please try again later.",
}
