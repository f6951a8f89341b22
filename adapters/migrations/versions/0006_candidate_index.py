"""Demographic search reads its candidates from one index: `ix_learners_candidates`.

The date-of-birth index found the candidates, but every candidate row was then fetched from the
table: on 1,000,000 learners some 140 scattered rows a search. The new index leads with the date
of birth and carries every column matching reads (`lrs_ws.adapters.mapping.CANDIDATE_COLUMNS`),
so a search reads a few neighbouring index pages and never the table (SQLite: "USING COVERING
INDEX"; PostgreSQL: an index-only scan). It replaces `ix_learners_date_of_birth`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANDIDATE_INDEX_COLUMNS = [
    "date_of_birth", "uln", "given_name", "family_name", "previous_family_name", "gender", "last_known_post_code",
    "master_uln",
]


def upgrade() -> None:
    op.create_index("ix_learners_candidates", "learners", CANDIDATE_INDEX_COLUMNS)
    op.drop_index("ix_learners_date_of_birth", table_name="learners")


def downgrade() -> None:
    op.create_index("ix_learners_date_of_birth", "learners", ["date_of_birth"])
    op.drop_index("ix_learners_candidates", table_name="learners")
