"""Demographic search reads only the learners whose names could match: `learners.code_*`.

The candidates of a search were every learner born on the date sent (and its day/month swap):
some 230 rows a search on 1,000,000 learners, each built into a Python object and compared, so a
search cost twice as much there as on 100,000. Every match rule needs the given name, or one of
the family names, to agree in one of a few normal forms (`lrs_ws.domain.matching.NameCodes`).
Those forms are now stored beside the names and carried in `ix_learners_candidates`, and a
search reads only the rows of its dates that agree in one of them: a handful, however large the
register. A row without codes (written by other means) is always read.

Existing learners get their codes here, from the same code the service writes them with
(`lrs_ws.adapters.mapping.with_name_codes`); a change to the normal forms needs a migration that
computes them again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lrs_ws.adapters.mapping import with_name_codes

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE_COLUMNS = ("code_given", "code_family", "code_given_mac", "code_given_metaphone", "code_given_nysiis")
OLD_INDEX_COLUMNS = [
    "date_of_birth", "uln", "given_name", "family_name", "previous_family_name", "gender", "last_known_post_code",
    "master_uln",
]
NEW_INDEX_COLUMNS = [OLD_INDEX_COLUMNS[0], *CODE_COLUMNS, *OLD_INDEX_COLUMNS[1:]]
CHUNK = 20_000


def upgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        for name in CODE_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))
    _fill_codes(op.get_bind())
    op.drop_index("ix_learners_candidates", table_name="learners")
    op.create_index("ix_learners_candidates", "learners", NEW_INDEX_COLUMNS)


def _fill_codes(connection: sa.Connection) -> None:
    """Every learner's codes, a chunk of ULNs at a time (in ULN order, by the primary key)."""
    learners = sa.table("learners", *(sa.column(name) for name in ("uln", "given_name", "family_name", *CODE_COLUMNS)))
    read = (
        sa.select(learners.c.uln, learners.c.given_name, learners.c.family_name)
        .where(learners.c.uln > sa.bindparam("after"))
        .order_by(learners.c.uln)
        .limit(CHUNK)
    )
    write = (
        sa.update(learners)
        .where(learners.c.uln == sa.bindparam("b_uln"))
        .values({name: sa.bindparam(name) for name in CODE_COLUMNS})
    )
    after = ""
    while rows := connection.execute(read, {"after": after}).all():
        coded = [with_name_codes({"given_name": given, "family_name": family}) for _, given, family in rows]
        connection.execute(
            write,
            [{"b_uln": uln, **{name: row[name] for name in CODE_COLUMNS}} for (uln, _, _), row in zip(rows, coded, strict=True)],
        )
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_learners_candidates", table_name="learners")
    op.create_index("ix_learners_candidates", "learners", OLD_INDEX_COLUMNS)
    with op.batch_alter_table("learners") as batch:
        for name in CODE_COLUMNS:
            batch.drop_column(name)
