"""Batch registration: the batch learner's fields, job types and states, per-learner return codes.

A batch learner (MIAP `BatchLearner`) is kept as sent: a dict from wire name to text, the
elements that were absent left out. The per-learner `ReturnCode` values RC001-RC013 are public
only as ranges and three meanings; the table below is our reading (docs/our-readings.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from lrs_ws.domain.learner import FIELD_NAMES
from lrs_ws.domain.verification import VerificationCode

# A batch learner (MIAP `BatchLearner`) holds two identifiers and every learner detail, by wire
# name. Their order on the wire is the contract's (lrs_ws.contract.learner_fields.BATCH_FIELDS).
BATCH_IDENTIFIERS: tuple[str, ...] = ("ULN", "MISIdentifier")
BATCH_DETAIL_FIELDS: dict[str, str] = dict(FIELD_NAMES)  # wire name -> field name

MAX_WEB_SERVICE_LEARNERS = 200  # MIAPLearnerRecordCount; LRB files are not bound by it

BatchLearnerFields = dict[str, str]  # wire name -> text as sent; absent elements left out


class JobType(str, Enum):
    FULL = "FUL"  # find, then register or update
    CHECK = "CHK"  # find only; nothing is written
    VERIFY = "VLD"  # submitVerifyBatch: verify each learner's ULN and details; nothing is written

    @property
    def registers(self) -> bool:
        """A registration batch (submitBatchRegistration, LRB files), not a verification one."""
        return self is not JobType.VERIFY


class JobSource(str, Enum):
    WEB_SERVICE = "ws"  # submitBatchRegistration
    FILE = "file"  # an LRB file submitted from the command line


class JobStatus(str, Enum):
    """`JobStatus` on the wire (our reading of the values)."""

    LOADING = "Loading"  # an LRB file still going in; not yet claimable
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"


class Count(str, Enum):
    """The five output counts; every learner falls into exactly one."""

    NEW = "NewLearnersCount"
    EXISTS_UPDATED = "ExistsUpdatedLearnersCount"
    POSSIBLE_MATCH = "PossibleMatchLearnersCount"
    NOT_FOUND = "LearnersNotFoundCount"
    REJECTED = "RejectedLearnersCount"


class ReturnCode(str, Enum):
    """Per-learner outcomes (our reading; see docs/our-readings.md)."""

    ULN_CONFIRMED = "RC001"  # ULN given, learner found, details agree, nothing changed
    MATCHED = "RC002"  # no ULN given; exactly one learner matched the five key fields
    CREATED = "RC003"  # no ULN given, no match: registered for a new ULN
    MASTER_RETURNED = "RC004"  # the ULN given or matched is retired: its master is returned
    UPDATED = "RC005"  # ULN given, learner found, details updated (at most one key field)
    INSUFFICIENT_DATA = "RC006"  # no match, and too little to register
    POSSIBLE_MATCHES = "RC007"  # possible matches; nothing created
    TOO_MANY_MATCHES = "RC008"
    ULN_NOT_FOUND = "RC009"  # ULN given fails its check digit or is not on the register
    DETAILS_DISAGREE = "RC010"  # ULN given exists, but names disagree or 2+ key fields differ
    INVALID = "RC011"  # incorrect format or a rule failure
    NOT_FOUND = "RC012"  # CHK only: no match, nothing registered
    AGE_OUT_OF_RANGE = "RC013"  # portal files only; the web service says RC011

    @property
    def count(self) -> Count:  # type: ignore[override]  # a code's Count; str.count is not used on codes
        return _COUNTS[self]

    def for_web_service(self) -> ReturnCode:
        """The LRS kept RC013 out of the web service (2018): its callers get RC011."""
        return ReturnCode.INVALID if self is ReturnCode.AGE_OUT_OF_RANGE else self

    @property
    def identifies_learner(self) -> bool:
        """The output carries a ULN (found or issued) only for these."""
        return self in _IDENTIFYING


_COUNTS: dict[ReturnCode, Count] = {
    ReturnCode.ULN_CONFIRMED: Count.EXISTS_UPDATED,
    ReturnCode.MATCHED: Count.EXISTS_UPDATED,
    ReturnCode.CREATED: Count.NEW,
    ReturnCode.MASTER_RETURNED: Count.EXISTS_UPDATED,
    ReturnCode.UPDATED: Count.EXISTS_UPDATED,
    ReturnCode.INSUFFICIENT_DATA: Count.REJECTED,
    ReturnCode.POSSIBLE_MATCHES: Count.POSSIBLE_MATCH,
    ReturnCode.TOO_MANY_MATCHES: Count.REJECTED,
    ReturnCode.ULN_NOT_FOUND: Count.NOT_FOUND,
    ReturnCode.DETAILS_DISAGREE: Count.REJECTED,
    ReturnCode.INVALID: Count.REJECTED,
    ReturnCode.NOT_FOUND: Count.NOT_FOUND,
    ReturnCode.AGE_OUT_OF_RANGE: Count.REJECTED,
}

_IDENTIFYING = frozenset(
    {
        ReturnCode.ULN_CONFIRMED,
        ReturnCode.MATCHED,
        ReturnCode.CREATED,
        ReturnCode.MASTER_RETURNED,
        ReturnCode.UPDATED,
    }
)


@dataclass
class BatchJob:
    """A batch registration job and its progress; its learners are kept beside it, in order."""

    id: int
    organisation_id: int
    username: str
    job_type: JobType
    source: JobSource
    status: JobStatus
    learner_count: int
    processed_count: int
    counts: dict[Count, int]
    submitted_at: datetime  # aware UTC
    started_at: datetime | None = None
    finished_at: datetime | None = None
    file_name: str | None = None  # LRB files: the name of the file submitted
    file_reference: str | None = None  # LRB files: the header's FileName
    contact_email: str | None = None  # SubmitVerifyBatch's OrgEmail: kept, nothing sent to it yet
    failure: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.FAILED)


@dataclass(frozen=True)
class LearnerOutcome:
    """What a job did with one learner: its return code and the ULN found or issued; for a
    verification, its WSVRC code, the ULN returned and in `detail` the failed checks and the
    details disclosed (kept as they were when the job ran)."""

    code: ReturnCode | VerificationCode
    uln: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class JobLearner:
    """One learner of a job, as sent, and (once processed) its outcome."""

    position: int  # 1-based, the order sent
    fields: BatchLearnerFields
    outcome: LearnerOutcome | None = None


@dataclass(frozen=True)
class JobPart:
    """A part of a big job that any worker may run beside the others: its learners whose sort
    key (processing_key's first half, the date of birth as sent) is from `first_key` to
    `last_key`. Parts end between days, so two rows of one learner are always in one part and
    run in file order there."""

    job_id: int
    part: int
    first_key: str
    last_key: str


def part_ranges(learners_per_key: list[tuple[str, int]], part_size: int) -> list[tuple[str, str]]:
    """(first key, last key) of each part, from the pending learners per sort key (in key order):
    parts of at least `part_size` learners, never splitting a key."""
    ranges: list[tuple[str, str]] = []
    first: str | None = None
    count = 0
    for key, learners in learners_per_key:
        if first is None:
            first = key
        count += learners
        if count >= part_size:
            ranges.append((first, key))
            first, count = None, 0
    if first is not None:
        if ranges and count < part_size // 2:  # a short tail joins the part before it
            ranges[-1] = (ranges[-1][0], learners_per_key[-1][0])
        else:
            ranges.append((first, learners_per_key[-1][0]))
    return ranges


def processing_key(learner: JobLearner) -> tuple[str, int]:
    """The order a job runs its learners in: by date of birth as sent, then as sent. Learners
    born on one day are matched against the same candidates, read once; two rows of one new
    learner still run in file order (the first registers, the second matches it)."""
    return (learner.fields.get("DateOfBirth") or "")[:10], learner.position


def output_fields(learner: JobLearner) -> BatchLearnerFields:
    """A processed learner as the output gives it: the fields as sent, but `ULN` is the ULN
    confirmed, matched or issued (the master of a retired one), empty when none applies."""
    outcome = learner.outcome
    if outcome is None:
        raise ValueError(f"learner {learner.position} has no outcome yet")
    if not isinstance(outcome.code, ReturnCode):
        raise ValueError(f"learner {learner.position} is not of a registration job")
    fields = dict(learner.fields)
    fields["ULN"] = outcome.uln if outcome.code.identifies_learner and outcome.uln else ""
    return fields
