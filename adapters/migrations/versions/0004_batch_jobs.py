"""Batch registration jobs: `batch_jobs` and `batch_job_learners`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("job_type", sa.String(3), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("learner_count", sa.Integer(), nullable=False),
        sa.Column("processed_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("exists_updated_count", sa.Integer(), nullable=False),
        sa.Column("possible_match_count", sa.Integer(), nullable=False),
        sa.Column("not_found_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("file_reference", sa.String(255), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("failure", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name="fk_batch_jobs_organisation_id_organisations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_batch_jobs"),
        sqlite_autoincrement=True,  # JobIDs are never reused, even after old jobs are deleted
    )
    op.create_index("ix_batch_jobs_status_id", "batch_jobs", ["status", "id"])
    op.create_index("ix_batch_jobs_organisation_id_id", "batch_jobs", ["organisation_id", "id"])
    op.create_table(
        "batch_job_learners",
        sa.Column("job_id", _ID, autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sort_key", sa.String(10), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("return_code", sa.String(8), nullable=True),
        sa.Column("uln", sa.String(10), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["batch_jobs.id"], name="fk_batch_job_learners_job_id_batch_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name="pk_batch_job_learners"),
    )
    op.create_index(
        "ix_batch_job_learners_job_id_sort_key_position", "batch_job_learners", ["job_id", "sort_key", "position"]
    )


def downgrade() -> None:
    op.drop_index("ix_batch_job_learners_job_id_sort_key_position", table_name="batch_job_learners")
    op.drop_table("batch_job_learners")
    op.drop_index("ix_batch_jobs_organisation_id_id", table_name="batch_jobs")
    op.drop_index("ix_batch_jobs_status_id", table_name="batch_jobs")
    op.drop_table("batch_jobs")
