"""One deployment for a province: every console user has a scope, a region prefix (GB/T 2260:
15, 1502, 150203) and the departments their role reaches. A reviewer's department (0022)
seeds their department scope.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing users keep reaching everything (region ""), except that a reviewer's department
    # becomes their department scope (they already reviewed only that department's part).
    op.add_column(
        "console_user",
        sa.Column(
            "scope_region",
            sqlmodel.sql.sqltypes.AutoString(length=6),
            nullable=False,
            server_default="",
        ),
    )
    op.add_column(
        "console_user",
        sa.Column("scope_departments", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    users = sa.table(
        "console_user",
        sa.column("id", sa.Integer()),
        sa.column("department_code", sa.String()),
        sa.column("scope_departments", sa.JSON()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(users.c.id, users.c.department_code).where(users.c.department_code.is_not(None))
    ).all()
    for user_id, department in rows:
        conn.execute(
            users.update().where(users.c.id == user_id).values(scope_departments=[department])
        )


def downgrade() -> None:
    with op.batch_alter_table("console_user") as batch:
        batch.drop_column("scope_departments")
        batch.drop_column("scope_region")
