"""The yearly plan carries what it is assessed on: its items, its planned tasks with their
months, its coverage targets (``plan_target``: per department and item kind, a ratio of the
entities in scope), and when its notice was published (计划公示) or amended.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE: existing plans get no items, no planned tasks, and stay unpublished.
    for name in ("items", "planned_tasks"):
        op.add_column(
            "plan", sa.Column(name, sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.add_column(
        "plan", sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.add_column("plan", sa.Column("published_by", sa.String(length=200), nullable=True))
    op.add_column(
        "plan", sa.Column("amended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.add_column("plan", sa.Column("amendment_reason", sa.String(length=500), nullable=True))
    op.create_table(
        "plan_target",
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("item_kind", sa.String(length=4), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("entity_types", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("ratio", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_code"], ["plan.code"]),
        sa.PrimaryKeyConstraint("plan_code", "target_id"),
    )


def downgrade() -> None:
    op.drop_table("plan_target")
    for name in (
        "amendment_reason",
        "amended_at",
        "published_by",
        "published_at",
        "planned_tasks",
        "items",
    ):
        op.drop_column("plan", name)
