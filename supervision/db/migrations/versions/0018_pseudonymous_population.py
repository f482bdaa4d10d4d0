"""Pseudonymous draw populations: a task records its disclosure ("full": population files
list the USCCs, the layout of every task committed before this revision; "pseudonymous":
they list SHA-256(salt ":" USCC)); each committed population row keeps its secret salt and
its pseudonym (both empty for a full-disclosure task).

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, as in 0016: existing tasks become "full" (the layout they were
    # committed and published in), so they keep verifying exactly as before.
    op.add_column(
        "task", sa.Column("disclosure", sa.String(length=16), nullable=False, server_default="full")
    )
    op.add_column("task_population", sa.Column("salt", sa.String(length=64), nullable=True))
    op.add_column("task_population", sa.Column("pseudonym", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("task_population", "pseudonym")
    op.drop_column("task_population", "salt")
    op.drop_column("task", "disclosure")
