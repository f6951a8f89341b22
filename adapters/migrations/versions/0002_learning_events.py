"""Learning events: the Personal Learning Record (R9 GetLearnerLearningEvents).

PLR reads are audited in the existing `audit_events` table (operation `GetLearnerLearningEvents`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-04-21
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Hand-written to match adapters/orm.py (LearningEventRow); the lengths are frozen here on purpose,
# so that a later change of lrs_ws.domain.learning_event.TEXT_LENGTHS needs its own migration.


def upgrade() -> None:
    op.create_table(
        "learning_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("uln", sa.String(10), nullable=False),
        sa.Column("achievement_award_date", sa.Date(), nullable=True),
        sa.Column("achievement_provider_name", sa.String(255), nullable=True),
        sa.Column("achievement_provider_ukprn", sa.String(20), nullable=True),
        sa.Column("awarding_organisation_name", sa.String(255), nullable=True),
        sa.Column("awarding_organisation_ukprn", sa.String(20), nullable=True),
        sa.Column("collection_type", sa.String(10), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=True),
        sa.Column("date_loaded", sa.DateTime(), nullable=True),
        sa.Column("grade", sa.String(50), nullable=True),
        sa.Column("language_for_assessment", sa.String(50), nullable=True),
        sa.Column("level", sa.String(50), nullable=True),
        sa.Column("participation_end_date", sa.Date(), nullable=True),
        sa.Column("participation_start_date", sa.Date(), nullable=True),
        sa.Column("qualification_type", sa.String(255), nullable=True),
        sa.Column("restriction", sa.String(1), nullable=False),
        sa.Column("return_number", sa.String(10), nullable=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("status", sa.String(10), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("subject_code", sa.String(50), nullable=True),
        sa.Column("under_data_challenge", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_learning_events"),
    )
    op.create_index("ix_learning_events_uln", "learning_events", ["uln"])


def downgrade() -> None:
    op.drop_index("ix_learning_events_uln", table_name="learning_events")
    op.drop_table("learning_events")
