"""An index on ``entity.updated_at``: every incremental check selects the
entities changed since the last run, which without it scanned the whole directory.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.create_index("ix_entity_updated", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_updated")
