"""Sandbox mode: the request journal, planted faults and settings (the clock, the baseline's time).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sandbox_requests",
        sa.Column("id", LOG_ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("soap_action", sa.String(255), nullable=True),
        sa.Column("ukprn", sa.String(64), nullable=True),
        sa.Column("username", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("near_misses", sa.Text(), nullable=True),
        sa.Column("fault_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_requests"),
        sqlite_autoincrement=True,  # after a reset, ids go on rising (a client follows since_id)
    )
    op.create_table(
        "sandbox_faults",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("ukprn", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("code", sa.String(16), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("times_left", sa.Integer(), nullable=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_faults"),
        sqlite_autoincrement=True,  # a fault's id is never given to another
    )
    op.create_table(
        "sandbox_settings",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sandbox_settings"),
    )


def downgrade() -> None:
    for table in ("sandbox_settings", "sandbox_faults", "sandbox_requests"):
        op.drop_table(table)
    # The baseline's copies (sandbox_baseline_<table>) are made by the sandbox itself, outside the schema.
    connection = op.get_bind()
    for name in sa.inspect(connection).get_table_names():
        if name.startswith("sandbox_baseline_"):
            op.drop_table(name)
