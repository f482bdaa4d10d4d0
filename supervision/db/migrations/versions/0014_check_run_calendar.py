"""Check runs record the working-day calendar they counted with.

``calendar`` is the calendar's fingerprint (chinesecalendar and holidays releases, the last
announced year, the extra days). When the next run's calendar differs (the holiday notice
arrived: package upgrade or extra-days file), every entity is checked again so that no
deadline computed by a provisional calendar survives. Earlier runs keep NULL.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.drop_column("calendar")
