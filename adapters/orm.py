"""The database schema as SQLAlchemy 2 declarative tables.

The tables are the source for the Alembic autogenerate comparison only: production schemas are
created by the migrations in `adapters/migrations`, never by `create_all`. The learners' column
lengths are the maxLength facets of `xsd/learner.xsd` (lrs_ws.contract.learner_fields), so
anything that passed schema validation fits.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from lrs_ws.contract.learner_fields import LEARNER_LENGTHS
from lrs_ws.domain.learner import DATE_FIELDS, wire_name
from lrs_ws.domain.learning_event import TEXT_LENGTHS as EVENT_TEXT

# Explicit constraint names keep migrations reproducible across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

ULN_LENGTH = LEARNER_LENGTHS["ULN"]
ADDRESS_IP_LENGTH = 45  # the longest text form of an IPv6 address

# Log tables grow without bound: 64-bit keys on PostgreSQL; SQLite needs INTEGER PRIMARY KEY
# for its rowid alias to autoincrement.
LogId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    ukprn: Mapped[str | None] = mapped_column(String(8), unique=True)
    organisation_ref: Mapped[str | None] = mapped_column(String(6), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("organisation_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    username: Mapped[str] = mapped_column(String(128))
    # Role values joined by commas, sorted: a handful of fixed values needs no child table.
    roles: Mapped[str] = mapped_column(String(255), default="")


# In NameCodes order.
NAME_CODE_COLUMNS: tuple[str, ...] = ("code_given", "code_family", "code_given_mac", "code_given_metaphone", "code_given_nysiis")
CANDIDATE_INDEX_COLUMNS: tuple[str, ...] = (
    "date_of_birth", *NAME_CODE_COLUMNS, "uln", "given_name", "family_name", "previous_family_name", "gender",
    "last_known_post_code", "master_uln",
)


def _learner_column(field: str) -> MappedColumn[Any]:
    """A learner's date, or text as long as its MIAP Learner member may be."""
    if field in DATE_FIELDS:
        return mapped_column(Date)
    return mapped_column(String(LEARNER_LENGTHS[wire_name(field)]))


class LearnerRow(Base):
    __tablename__ = "learners"
    __table_args__ = (
        # The blocking key of demographic search: matching reads only rows born on given dates
        # whose name codes could match (domain.matching.may_match), and only these columns of
        # them (mapping.CANDIDATE_COLUMNS), all from the index.
        Index("ix_learners_candidates", *CANDIDATE_INDEX_COLUMNS),
        # Finding the linked (retired) ULNs of a master.
        Index("ix_learners_master_uln", "master_uln"),
    )

    uln: Mapped[str] = mapped_column(String(ULN_LENGTH), primary_key=True)
    # One column per lrs_ws.domain.learner.DETAIL_FIELDS entry, in the same (wire) order.
    title: Mapped[str | None] = _learner_column("title")
    given_name: Mapped[str] = _learner_column("given_name")
    middle_other_name: Mapped[str | None] = _learner_column("middle_other_name")
    family_name: Mapped[str] = _learner_column("family_name")
    preferred_given_name: Mapped[str | None] = _learner_column("preferred_given_name")
    previous_family_name: Mapped[str | None] = _learner_column("previous_family_name")
    family_name_at_age16: Mapped[str | None] = _learner_column("family_name_at_age16")
    school_at_age16: Mapped[str | None] = _learner_column("school_at_age16")
    last_known_address_line1: Mapped[str | None] = _learner_column("last_known_address_line1")
    last_known_address_line2: Mapped[str | None] = _learner_column("last_known_address_line2")
    last_known_address_town: Mapped[str | None] = _learner_column("last_known_address_town")
    last_known_address_county_or_city: Mapped[str | None] = _learner_column("last_known_address_county_or_city")
    last_known_post_code: Mapped[str] = _learner_column("last_known_post_code")  # as sent
    date_of_address_capture: Mapped[date | None] = _learner_column("date_of_address_capture")
    date_of_birth: Mapped[date] = _learner_column("date_of_birth")
    place_of_birth: Mapped[str | None] = _learner_column("place_of_birth")
    gender: Mapped[str] = _learner_column("gender")
    email_address: Mapped[str | None] = _learner_column("email_address")
    nationality: Mapped[str | None] = _learner_column("nationality")
    scottish_candidate_number: Mapped[str | None] = _learner_column("scottish_candidate_number")
    verification_type: Mapped[str] = _learner_column("verification_type")
    other_verification_description: Mapped[str | None] = _learner_column("other_verification_description")
    ability_to_share: Mapped[str] = _learner_column("ability_to_share")
    notes: Mapped[str | None] = _learner_column("notes")
    # What the LRS itself keeps.
    created_date: Mapped[date] = mapped_column(Date)
    last_updated_date: Mapped[date] = mapped_column(Date)
    version_number: Mapped[int] = mapped_column(Integer)  # optimistic lock
    learner_status: Mapped[str] = _learner_column("learner_status")
    tier_level: Mapped[str] = _learner_column("tier_level")
    # Set when this ULN was retired by a merge. No foreign key: a plain indexed column keeps
    # bulk loads and merges free of self-referencing constraint ordering.
    master_uln: Mapped[str | None] = mapped_column(String(ULN_LENGTH))
    # Not a MIAP field: only R9 UpdateLearnerSubsetFields sets it ([0-9 +()-], at most 20).
    telephone_number: Mapped[str | None] = mapped_column(String(20))
    # The names' normal forms demographic search filters on (domain.matching.NameCodes, kept by
    # mapping.learner_to_row): derived, never sent. NULL (a row written by other means) is read
    # as "could match".
    code_given: Mapped[str | None] = mapped_column(String)
    code_family: Mapped[str | None] = mapped_column(String)
    code_given_mac: Mapped[str | None] = mapped_column(String)
    code_given_metaphone: Mapped[str | None] = mapped_column(String)
    code_given_nysiis: Mapped[str | None] = mapped_column(String)


class RecentSearchRow(Base):
    __tablename__ = "recent_searches"
    __table_args__ = (
        Index(
            "ix_recent_searches_organisation_id_search_key_searched_at",
            "organisation_id",
            "search_key",
            "searched_at",
        ),
    )

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(Integer)
    search_key: Mapped[str] = mapped_column(String(64))
    response_code: Mapped[str] = mapped_column(String(16))
    searched_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC


class AuditEventRow(Base):
    """Append-only; no foreign keys so failed sign-ins of unknown callers are kept too."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_uln_at", "uln", "at"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(128))
    operation: Mapped[str] = mapped_column(String(64))
    uln: Mapped[str | None] = mapped_column(String(ULN_LENGTH))
    outcome: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(ADDRESS_IP_LENGTH))  # the client's IP address


class SignInFailureRow(Base):
    """Consecutive wrong OrgPasswords per organisation and client address (the backoff).

    No foreign key, like the audit: it is bookkeeping about requests, not about the register.
    """

    __tablename__ = "sign_in_failures"

    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_IP_LENGTH), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC


class LearningEventRow(Base):
    """One event of a learner's Personal Learning Record (one column per EVENT_FIELDS entry).

    `uln` is the ULN the event was loaded against, retired ones included; like `master_uln` it
    is a plain indexed column, not a foreign key (imports check it is known). IDs are assigned by
    lrs-ws (max + 1) or kept from the import file, so the key does not autoincrement.
    """

    __tablename__ = "learning_events"
    __table_args__ = (Index("ix_learning_events_uln", "uln"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uln: Mapped[str] = mapped_column(String(ULN_LENGTH))
    achievement_award_date: Mapped[date | None] = mapped_column(Date)
    achievement_provider_name: Mapped[str | None] = mapped_column(String(EVENT_TEXT["achievement_provider_name"]))
    achievement_provider_ukprn: Mapped[str | None] = mapped_column(String(EVENT_TEXT["achievement_provider_ukprn"]))
    awarding_organisation_name: Mapped[str | None] = mapped_column(String(EVENT_TEXT["awarding_organisation_name"]))
    awarding_organisation_ukprn: Mapped[str | None] = mapped_column(String(EVENT_TEXT["awarding_organisation_ukprn"]))
    collection_type: Mapped[str | None] = mapped_column(String(EVENT_TEXT["collection_type"]))
    credits: Mapped[int | None] = mapped_column(Integer)
    date_loaded: Mapped[datetime | None] = mapped_column(DateTime)  # naive, UK time as imported
    grade: Mapped[str | None] = mapped_column(String(EVENT_TEXT["grade"]))
    language_for_assessment: Mapped[str | None] = mapped_column(String(EVENT_TEXT["language_for_assessment"]))
    level: Mapped[str | None] = mapped_column(String(EVENT_TEXT["level"]))
    participation_end_date: Mapped[date | None] = mapped_column(Date)
    participation_start_date: Mapped[date | None] = mapped_column(Date)
    qualification_type: Mapped[str | None] = mapped_column(String(EVENT_TEXT["qualification_type"]))
    restriction: Mapped[str] = mapped_column(String(EVENT_TEXT["restriction"]))  # not "0": sensitive
    return_number: Mapped[str | None] = mapped_column(String(EVENT_TEXT["return_number"]))
    source: Mapped[str] = mapped_column(String(EVENT_TEXT["source"]))  # ILR, NPD, AO...
    status: Mapped[str | None] = mapped_column(String(EVENT_TEXT["status"]))
    subject: Mapped[str | None] = mapped_column(String(EVENT_TEXT["subject"]))
    subject_code: Mapped[str | None] = mapped_column(String(EVENT_TEXT["subject_code"]))
    under_data_challenge: Mapped[str | None] = mapped_column(String(EVENT_TEXT["under_data_challenge"]))


class BatchJobRow(Base):
    """A batch registration job (web service or LRB file) and its progress counters.

    A worker holds a job by `claimed_by` until `lease_until`; a job whose lease ran out (its
    worker died) is claimed again and resumes at its first learner without an outcome.
    """

    __tablename__ = "batch_jobs"
    __table_args__ = (
        Index("ix_batch_jobs_status_id", "status", "id"),
        Index("ix_batch_jobs_organisation_id_id", "organisation_id", "id"),
        {"sqlite_autoincrement": True},  # JobIDs are never reused, even after old jobs are deleted
    )

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    username: Mapped[str] = mapped_column(String(128))
    job_type: Mapped[str] = mapped_column(String(3))  # FUL or CHK
    source: Mapped[str] = mapped_column(String(8))  # ws or file
    status: Mapped[str] = mapped_column(String(16))
    learner_count: Mapped[int] = mapped_column(Integer)
    processed_count: Mapped[int] = mapped_column(Integer)
    new_count: Mapped[int] = mapped_column(Integer)
    exists_updated_count: Mapped[int] = mapped_column(Integer)
    possible_match_count: Mapped[int] = mapped_column(Integer)
    not_found_count: Mapped[int] = mapped_column(Integer)
    rejected_count: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_reference: Mapped[str | None] = mapped_column(String(255))
    contact_email: Mapped[str | None] = mapped_column(String(254))  # SubmitVerifyBatch's OrgEmail
    failure: Mapped[str | None] = mapped_column(String(255))


class BatchJobLearnerRow(Base):
    """One learner of a job: the fields as sent (JSON) and, once processed, its outcome."""

    __tablename__ = "batch_job_learners"
    __table_args__ = (
        # The order a job runs in (lrs_ws.domain.batch.processing_key), resumed by key.
        Index("ix_batch_job_learners_job_id_sort_key_position", "job_id", "sort_key", "position"),
    )

    job_id: Mapped[int] = mapped_column(
        LogId, ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sort_key: Mapped[str] = mapped_column(String(10))  # DateOfBirth as sent ("" when none)
    fields: Mapped[str] = mapped_column(Text)
    return_code: Mapped[str | None] = mapped_column(String(8))  # RC001-RC013, WSVRC001-006
    uln: Mapped[str | None] = mapped_column(String(ULN_LENGTH))
    outcome: Mapped[str | None] = mapped_column(Text)  # JSON: a verification's flags and details


class BatchJobPartRow(Base):
    """A part of a big job: the learners born on days `first_key` to `last_key` (the job's sort
    keys), which any worker may claim and run beside the others' parts. A worker holds a part by
    `claimed_by` until `lease_until`, as it holds a whole job."""

    __tablename__ = "batch_job_parts"

    job_id: Mapped[int] = mapped_column(
        LogId, ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_key: Mapped[str] = mapped_column(String(10))
    last_key: Mapped[str] = mapped_column(String(10))
    done: Mapped[bool] = mapped_column(Boolean)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)


class BatchWorkerRow(Base):
    """What a batch worker (or the supervisor of `serve`'s) last said of itself, and when."""

    __tablename__ = "batch_workers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    supervised: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    seen_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC


class SandboxRequestRow(Base):
    """The sandbox's request journal: one row a SOAP request (passwords masked)."""

    __tablename__ = "sandbox_requests"
    __table_args__ = ({"sqlite_autoincrement": True},)  # after a reset, ids go on rising (since_id)

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC, by the sandbox's clock
    endpoint: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(64))
    soap_action: Mapped[str | None] = mapped_column(String(255))
    ukprn: Mapped[str | None] = mapped_column(String(64))  # as sent
    username: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    request: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(Text)
    near_misses: Mapped[str | None] = mapped_column(Text)  # JSON
    fault_id: Mapped[int | None] = mapped_column(Integer)


class SandboxFaultRow(Base):
    """A fault planted for SOAP calls (sandbox mode)."""

    __tablename__ = "sandbox_faults"
    __table_args__ = ({"sqlite_autoincrement": True},)  # a fault's id is never given to another

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation: Mapped[str] = mapped_column(String(64))
    ukprn: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    seconds: Mapped[float | None] = mapped_column(Float)
    code: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[int | None] = mapped_column(Integer)
    times_left: Mapped[int | None] = mapped_column(Integer)  # None: until deleted
    probability: Mapped[float] = mapped_column(Float)


class SandboxSettingRow(Base):
    """A sandbox setting by name, as JSON: the clock, the baseline's time."""

    __tablename__ = "sandbox_settings"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def _table(row: type[Base]) -> Table:
    """The class's table: SQLAlchemy types `__table__` as any FromClause (a class may map a
    select); each class here maps a Table."""
    return cast(Table, row.__table__)


organisations = _table(OrganisationRow)
users = _table(UserRow)
learners = _table(LearnerRow)
recent_searches = _table(RecentSearchRow)
audit_events = _table(AuditEventRow)
learning_events = _table(LearningEventRow)
sign_in_failures = _table(SignInFailureRow)
batch_jobs = _table(BatchJobRow)
batch_job_learners = _table(BatchJobLearnerRow)
batch_job_parts = _table(BatchJobPartRow)
batch_workers = _table(BatchWorkerRow)
sandbox_requests = _table(SandboxRequestRow)
sandbox_faults = _table(SandboxFaultRow)
sandbox_settings = _table(SandboxSettingRow)

# Writes nothing, yet is a write: SQLite takes its write lock for it, a read-only database refuses it.
NO_OP_WRITE = text("UPDATE organisations SET id = id WHERE 1 = 0")
