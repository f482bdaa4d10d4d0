"""一表通查: a console user may belong to a department, so that each department's part of a
joint task's results is reviewed by a reviewer of that department.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing users get no department (a reviewer without one reviews single-department tasks).
    op.add_column("console_user", sa.Column("department_code", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_user") as batch:
        batch.drop_column("department_code")
