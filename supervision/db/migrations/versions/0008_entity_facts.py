"""Derived facts kept between check runs as templates, and
``compliance_record.stored_at``: when this system stored a record, which checks use to
find what changed (``received_at`` comes from the imported file and may be old).

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

    with op.batch_alter_table("compliance_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stored_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    # Existing rows: the best known time is when they were received.
    op.execute("UPDATE compliance_record SET stored_at = received_at")
    with op.batch_alter_table("compliance_record", schema=None) as batch_op:
        batch_op.alter_column(
            "stored_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        )
        batch_op.drop_index("ix_record_received")
        batch_op.create_index("ix_record_stored", ["stored_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("compliance_record", schema=None) as batch_op:
        batch_op.drop_index("ix_record_stored")
        batch_op.create_index("ix_record_received", ["received_at"], unique=False)
        batch_op.drop_column("stored_at")
    op.drop_table("entity_facts")
