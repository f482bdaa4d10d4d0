"""Seeds from the drand beacon: a task records the kind of its seed (typed or beacon), the
beacon round named at commit and, once drawn, that round's signature (the seed's proof).

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-07 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seed_kind", sa.String(length=16), nullable=False, server_default="typed")
        )
        batch_op.add_column(sa.Column("beacon_round", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("beacon_signature", sa.String(length=96), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("beacon_signature")
        batch_op.drop_column("beacon_round")
        batch_op.drop_column("seed_kind")
