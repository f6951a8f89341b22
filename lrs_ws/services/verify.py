"""Verify a learner's ULN and details (verifyLearner)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lrs_ws.domain.batch import LearnerOutcome
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.learner import Learner
from lrs_ws.domain.rules import calendar_date
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.domain.verification import (
    DetailsToVerify,
    Verification,
    VerificationCode,
    best,
    disclosed_details,
    verify,
)
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, UnitOfWork


@dataclass(frozen=True)
class VerifyResult:
    verification: Verification
    uln: str | None = None  # the ULN to return: the learner's, the master's for a linked ULN
    learner: Learner | None = None  # whose details may be returned (WSVRC001-004 only)


def verify_learner(uow: UnitOfWork, caller: Caller, uln: str, sent: DetailsToVerify, now: datetime) -> VerifyResult:
    """WSVRC001-006 and the failed checks. A linked (merged) ULN is checked against its own
    record and its master's, whichever agrees better, and answered with the master."""
    result = _verify(uow, uln, sent)
    audit(uow, caller, "verifyLearner", uln, result.verification.code.value, now, find=True)
    uow.commit()
    return result


def _verify(uow: UnitOfWork, uln: str, sent: DetailsToVerify) -> VerifyResult:
    learner = uow.learners.get(uln) if is_valid_uln(uln) else None
    if learner is None:
        return VerifyResult(Verification(VerificationCode.ULN_NOT_FOUND))
    if not learner.is_retired:
        verification = verify(sent, learner)
        return VerifyResult(verification, learner.uln, learner if verification.code.discloses_details else None)
    master = uow.learners.get(learner.master_uln) if learner.master_uln else None
    if master is None:
        return VerifyResult(Verification(VerificationCode.ULN_NOT_FOUND))
    verification = best(verify(sent, learner, linked=True), verify(sent, master, linked=True))
    return VerifyResult(verification, master.uln, master if verification.code.discloses_details else None)


def verify_batch_learner(uow: UnitOfWork, fields: dict[str, str]) -> LearnerOutcome:
    """One learner of a verification batch (submitVerifyBatch): the same check as verifyLearner;
    the failed checks and the details disclosed are kept with the outcome, as they were then."""
    born = fields.get("DateOfBirth") or None
    try:
        sent = DetailsToVerify(
            fields.get("GivenName", ""), fields.get("FamilyName", ""),
            calendar_date("DateOfBirth", born) if born else None, fields.get("Gender") or None,
        )
    except InvalidField:  # a date the pattern admits but the calendar does not: no such learner
        return LearnerOutcome(VerificationCode.ULN_NOT_FOUND)
    result = _verify(uow, fields.get("ULN", ""), sent)
    learner = result.learner
    detail = {
        "flags": [flag.value for flag in result.verification.flags],
        "learner": None if learner is None else disclosed_details(learner),
    }
    return LearnerOutcome(result.verification.code, result.uln, detail)
