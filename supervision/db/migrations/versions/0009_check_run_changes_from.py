"""Check runs record from when on changes may have been invisible to them.

A record stamped before a run started can still commit after it on PostgreSQL (a
transaction in flight); ``changes_from`` is the earliest stamp the next incremental run
must look at again. Earlier runs keep NULL: their ``started_at`` is used, as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changes_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.drop_column("changes_from")
