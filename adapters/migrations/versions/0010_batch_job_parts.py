"""Parts of big batch jobs, claimed and run by several workers at once: `batch_job_parts`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_job_parts",
        sa.Column("job_id", LOG_ID, nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("first_key", sa.String(10), nullable=False),
        sa.Column("last_key", sa.String(10), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["batch_jobs.id"], name="fk_batch_job_parts_job_id_batch_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "part", name="pk_batch_job_parts"),
    )


def downgrade() -> None:
    op.drop_table("batch_job_parts")
