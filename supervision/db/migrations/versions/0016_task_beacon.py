"""Seeds from the drand beacon: a task records the kind of its seed (typed or beacon), the
beacon round named at commit and, once drawn, that round's signature (the seed's proof).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): SQLite adds and (since 3.35) drops columns in place,
    # and a batch copy of ``task`` would trip the foreign keys of committed tasks' rows.
    op.add_column(
        "task", sa.Column("seed_kind", sa.String(length=16), nullable=False, server_default="typed")
    )
    op.add_column("task", sa.Column("beacon_round", sa.BigInteger(), nullable=True))
    op.add_column("task", sa.Column("beacon_signature", sa.String(length=96), nullable=True))


def downgrade() -> None:
    op.drop_column("task", "beacon_signature")
    op.drop_column("task", "beacon_round")
    op.drop_column("task", "seed_kind")
