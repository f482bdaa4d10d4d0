"""Lawful inspection teams and result codes: the 执法证's issue and expiry dates and
issuing authority on inspectors; a conflict's period and who declared it (the inspector,
or the entity's 回避 request); a result's follow-up reference (case number, decision
number, receiving organ or department).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inspector", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cert_issued_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cert_expires_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cert_authority", sa.String(length=100), nullable=True))
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="inspector")
        )
    with op.batch_alter_table("inspection_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_ref", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch "move and copy" would drop
    # and recreate ``inspector``, which ``conflict`` references with foreign keys on.
    op.drop_column("inspection_result", "follow_up_ref")
    for column in ("source", "ends_on", "starts_on"):
        op.drop_column("conflict", column)
    for column in ("cert_authority", "cert_expires_on", "cert_issued_on"):
        op.drop_column("inspector", column)
