"""Derived facts kept between check runs as templates (issue 4: full-check speed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_facts",
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("facts_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.Column("due", sa.Text(), nullable=False),
        sa.Column("dates", sa.Text(), nullable=False),
        sa.Column("facts", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["check_run.id"]),
        sa.ForeignKeyConstraint(["uscc"], ["entity.uscc"]),
        sa.PrimaryKeyConstraint("uscc"),
    )


def downgrade() -> None:
    op.drop_table("entity_facts")
