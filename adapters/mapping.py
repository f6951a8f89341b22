"""The one place where database rows and domain objects meet."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeAlias, overload

from sqlalchemy import RowMapping

from lrs_ws.adapters.orm import NAME_CODE_COLUMNS
from lrs_ws.clock import UK
from lrs_ws.domain.batch import (
    BatchJob,
    Count,
    JobLearner,
    JobSource,
    JobStatus,
    JobType,
    LearnerOutcome,
    ReturnCode,
    processing_key,
)
from lrs_ws.domain.learner import DETAIL_FIELDS, Learner, LearnerStatus
from lrs_ws.domain.learning_event import EVENT_FIELDS, LearningEvent
from lrs_ws.domain.matching import MatchCandidate, name_codes
from lrs_ws.domain.roles import Role
from lrs_ws.domain.verification import VerificationCode
from lrs_ws.services.ports import Organisation, User

# A row by column name: a dict, or SQLAlchemy's RowMapping (which Column objects key too).
RowByName: TypeAlias = Mapping[str, Any] | RowMapping

# Columns the LRS keeps beside the details; `linked_ulns` is derived from other rows' master_uln.
KEPT_FIELDS: tuple[str, ...] = (
    "created_date",
    "last_updated_date",
    "version_number",
    "learner_status",
    "tier_level",
    "master_uln",
    "telephone_number",
)
LEARNER_COLUMNS: tuple[str, ...] = ("uln", *DETAIL_FIELDS, *KEPT_FIELDS)
# What every write of a learner stores: its columns and the codes derived from its names.
LEARNER_ROW_COLUMNS: tuple[str, ...] = (*LEARNER_COLUMNS, *NAME_CODE_COLUMNS)

# Columns read for matching, in MatchCandidate order (the post code column has a longer name).
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "uln",
    "given_name",
    "family_name",
    "previous_family_name",
    "date_of_birth",
    "gender",
    "last_known_post_code",
    "master_uln",
)


def learner_to_row(learner: Learner) -> dict[str, Any]:
    """LEARNER_ROW_COLUMNS: the learner's columns and its name codes."""
    row: dict[str, Any] = {name: getattr(learner, name) for name in LEARNER_COLUMNS}
    row["learner_status"] = LearnerStatus(learner.learner_status).value
    return with_name_codes(row)


def with_name_codes(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with the name codes of its given and family names set (matching.NameCodes)."""
    row.update(zip(NAME_CODE_COLUMNS, name_codes(row.get("given_name"), row.get("family_name")), strict=True))
    return row


def row_to_learner(row: RowByName, linked_ulns: Iterable[str] = ()) -> Learner:
    values = {name: row[name] for name in LEARNER_COLUMNS}
    values["learner_status"] = LearnerStatus(values["learner_status"])
    return Learner(**values, linked_ulns=sorted(linked_ulns))


def learner_to_candidate(learner: Learner) -> MatchCandidate:
    return MatchCandidate(
        learner.uln, learner.given_name, learner.family_name, learner.previous_family_name,
        learner.date_of_birth, learner.gender, learner.last_known_post_code, learner.master_uln,
    )


def row_to_candidate(row: Any) -> MatchCandidate:
    """A row of CANDIDATE_COLUMNS (MatchCandidate's order) as a candidate; the date of birth
    may come as ISO text (SQLite, unprocessed) or as a date (PostgreSQL)."""
    uln, given, family, previous, born, gender, post_code, master = row
    if isinstance(born, str):
        born = date.fromisoformat(born)
    return MatchCandidate(uln, given, family, previous, born, gender, post_code, master)


# learning_events columns, in table order: the key, the learner, then the wire fields.
EVENT_COLUMNS: tuple[str, ...] = ("id", "uln", *(name for name in EVENT_FIELDS if name != "id"))


def event_to_row(event: LearningEvent) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(event, name) for name in EVENT_COLUMNS}
    row["restriction"] = event.restriction or "0"
    if event.date_loaded is not None:
        row["date_loaded"] = to_uk_wall_clock(event.date_loaded)
    return row


def row_to_event(row: RowByName) -> LearningEvent:
    return LearningEvent(**{name: row[name] for name in EVENT_COLUMNS})


def roles_to_text(roles: Iterable[Role]) -> str:
    return ",".join(sorted(Role(role).value for role in roles))


def text_to_roles(text: str | None) -> frozenset[Role]:
    return frozenset(Role(part) for part in (text or "").split(",") if part)


def row_to_organisation(row: RowByName) -> Organisation:
    return Organisation(
        id=row["id"],
        name=row["name"],
        ukprn=row["ukprn"],
        organisation_ref=row["organisation_ref"],
        password_hash=row["password_hash"],
    )


def organisation_to_row(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "ukprn": organisation.ukprn,
        "organisation_ref": organisation.organisation_ref,
        "password_hash": organisation.password_hash,
    }


def row_to_user(row: RowByName) -> User:
    return User(
        id=row["id"],
        organisation_id=row["organisation_id"],
        username=row["username"],
        roles=text_to_roles(row["roles"]),
    )


def user_to_row(user: User) -> dict[str, Any]:
    return {
        "organisation_id": user.organisation_id,
        "username": user.username,
        "roles": roles_to_text(user.roles),
    }


def to_uk_wall_clock(moment: datetime) -> datetime:
    """DateLoaded is a wire value in UK time ('YYYY-MM-DD HH:MM:SS'): kept as the UK wall clock."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UK).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    """Timestamps are stored as naive UTC so SQLite and PostgreSQL compare them the same way."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@overload
def from_naive_utc(moment: datetime) -> datetime: ...
@overload
def from_naive_utc(moment: None) -> None: ...
def from_naive_utc(moment: datetime | None) -> datetime | None:
    """A stored naive UTC timestamp as an aware one."""
    return None if moment is None else moment.replace(tzinfo=UTC)


# batch_jobs counter columns, per output count.
COUNT_COLUMNS: dict[Count, str] = {
    Count.NEW: "new_count",
    Count.EXISTS_UPDATED: "exists_updated_count",
    Count.POSSIBLE_MATCH: "possible_match_count",
    Count.NOT_FOUND: "not_found_count",
    Count.REJECTED: "rejected_count",
}


def job_to_row(job: BatchJob) -> dict[str, Any]:
    return {
        "organisation_id": job.organisation_id,
        "username": job.username,
        "job_type": job.job_type.value,
        "source": job.source.value,
        "status": job.status.value,
        "learner_count": job.learner_count,
        "processed_count": job.processed_count,
        **{column: job.counts.get(count, 0) for count, column in COUNT_COLUMNS.items()},
        "submitted_at": to_naive_utc(job.submitted_at),
        "started_at": None if job.started_at is None else to_naive_utc(job.started_at),
        "finished_at": None if job.finished_at is None else to_naive_utc(job.finished_at),
        "file_name": job.file_name,
        "file_reference": job.file_reference,
        "contact_email": job.contact_email,
        "failure": job.failure,
    }


def row_to_job(row: RowByName) -> BatchJob:
    return BatchJob(
        id=row["id"],
        organisation_id=row["organisation_id"],
        username=row["username"],
        job_type=JobType(row["job_type"]),
        source=JobSource(row["source"]),
        status=JobStatus(row["status"]),
        learner_count=row["learner_count"],
        processed_count=row["processed_count"],
        counts={count: row[column] for count, column in COUNT_COLUMNS.items()},
        submitted_at=from_naive_utc(row["submitted_at"]),
        started_at=from_naive_utc(row["started_at"]),
        finished_at=from_naive_utc(row["finished_at"]),
        file_name=row["file_name"],
        file_reference=row["file_reference"],
        contact_email=row["contact_email"],
        failure=row["failure"],
    )


def job_learner_to_row(job_id: int, learner: JobLearner) -> dict[str, Any]:
    outcome = learner.outcome
    return {
        "job_id": job_id,
        "position": learner.position,
        "sort_key": processing_key(learner)[0],
        "fields": _json(learner.fields),
        "return_code": None if outcome is None else outcome.code.value,
        "uln": None if outcome is None else outcome.uln,
        "outcome": None if outcome is None or outcome.detail is None else _json(outcome.detail),
    }


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def outcome_code(text: str) -> ReturnCode | VerificationCode:
    return VerificationCode(text) if text.startswith("WSVRC") else ReturnCode(text)


def row_to_job_learner(row: Any) -> JobLearner:
    outcome = None
    if row.return_code is not None:
        detail = None if row.outcome is None else json.loads(row.outcome)
        outcome = LearnerOutcome(outcome_code(row.return_code), row.uln, detail)
    return JobLearner(position=row.position, fields=json.loads(row.fields), outcome=outcome)
