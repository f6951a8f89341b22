"""Initial schema: organisations, users, learners, recent searches, audit events.

Revision ID: 0001
Revises:
Create Date: 2026-04-20
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Hand-written to match adapters/orm.py; tests/integration/test_migrations.py keeps them in step.
LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("ukprn", sa.String(8), nullable=True),
        sa.Column("organisation_ref", sa.String(6), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("ukprn", name="uq_organisations_ukprn"),
        sa.UniqueConstraint("organisation_ref", name="uq_organisations_organisation_ref"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("roles", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name="fk_users_organisation_id_organisations"
        ),
        sa.UniqueConstraint("organisation_id", "username", name="uq_users_organisation_id_username"),
    )
    op.create_table(
        "learners",
        sa.Column("uln", sa.String(10), nullable=False),
        sa.Column("title", sa.String(35), nullable=True),
        sa.Column("given_name", sa.String(35), nullable=False),
        sa.Column("middle_other_name", sa.String(35), nullable=True),
        sa.Column("family_name", sa.String(35), nullable=False),
        sa.Column("preferred_given_name", sa.String(35), nullable=True),
        sa.Column("previous_family_name", sa.String(35), nullable=True),
        sa.Column("family_name_at_age16", sa.String(35), nullable=True),
        sa.Column("school_at_age16", sa.String(254), nullable=True),
        sa.Column("last_known_address_line1", sa.String(50), nullable=True),
        sa.Column("last_known_address_line2", sa.String(50), nullable=True),
        sa.Column("last_known_address_town", sa.String(50), nullable=True),
        sa.Column("last_known_address_county_or_city", sa.String(50), nullable=True),
        sa.Column("last_known_post_code", sa.String(9), nullable=False),
        sa.Column("date_of_address_capture", sa.Date(), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("place_of_birth", sa.String(35), nullable=True),
        sa.Column("gender", sa.String(1), nullable=False),
        sa.Column("email_address", sa.String(254), nullable=True),
        sa.Column("nationality", sa.String(3), nullable=True),
        sa.Column("scottish_candidate_number", sa.String(9), nullable=True),
        sa.Column("verification_type", sa.String(3), nullable=False),
        sa.Column("other_verification_description", sa.String(255), nullable=True),
        sa.Column("ability_to_share", sa.String(1), nullable=False),
        sa.Column("notes", sa.String(4000), nullable=True),
        sa.Column("created_date", sa.Date(), nullable=False),
        sa.Column("last_updated_date", sa.Date(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("learner_status", sa.String(1), nullable=False),
        sa.Column("tier_level", sa.String(1), nullable=False),
        sa.Column("master_uln", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("uln", name="pk_learners"),
    )
    op.create_index("ix_learners_date_of_birth", "learners", ["date_of_birth"])
    op.create_index("ix_learners_master_uln", "learners", ["master_uln"])
    op.create_table(
        "recent_searches",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("search_key", sa.String(64), nullable=False),
        sa.Column("response_code", sa.String(16), nullable=False),
        sa.Column("searched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recent_searches"),
    )
    op.create_index(
        "ix_recent_searches_organisation_id_search_key_searched_at",
        "recent_searches",
        ["organisation_id", "search_key", "searched_at"],
    )
    op.create_table(
        "audit_events",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(128), nullable=True),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("uln", sa.String(10), nullable=True),
        sa.Column("outcome", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_uln_at", "audit_events", ["uln", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_uln_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_recent_searches_organisation_id_search_key_searched_at", table_name="recent_searches")
    op.drop_table("recent_searches")
    op.drop_index("ix_learners_master_uln", table_name="learners")
    op.drop_index("ix_learners_date_of_birth", table_name="learners")
    op.drop_table("learners")
    op.drop_table("users")
    op.drop_table("organisations")
