"""Sign-in backoff and refusals in the audit: `sign_in_failures`, `audit_events.address`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("organisation_id", "address", name="pk_sign_in_failures"),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("address", sa.String(45), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("address")
    op.drop_table("sign_in_failures")
