"""Each drawn task keeps its eligible inspectors per department (``task_eligible_inspector``).

The fairness report counts a department's idle inspectors (eligible somewhere in the task,
assigned nowhere). It read them with ``SELECT DISTINCT department_code, cert_no`` over the
task's eligibility, a row per (entity, department, inspector): millions of rows for a
province's task, 10 s for one report, on every first publication of the site. The draw now
writes the few thousand distinct pairs beside the eligibility; this migration fills them in
for the tasks drawn before it, from the same eligibility.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_eligible_inspector",
        sa.Column("task_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("department_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cert_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["task_code"], ["task.code"]),
        sa.PrimaryKeyConstraint("task_code", "department_code", "cert_no"),
    )
    op.execute(
        "INSERT INTO task_eligible_inspector (task_code, department_code, cert_no) "
        "SELECT DISTINCT task_code, department_code, cert_no FROM task_eligibility"
    )


def downgrade() -> None:
    op.drop_table("task_eligible_inspector")
