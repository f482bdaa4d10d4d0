"""Items that know what they apply to: each item version declares its object scope (entity
types, GB/T 4754 industry prefixes, licence kinds); empty means no restriction. A result
version keeps the checklist answers it rests on.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("scope_entity_types", "scope_industries", "scope_licences")


def upgrade() -> None:
    # Plain ALTER TABLE: existing item versions get an empty scope (no restriction).
    for name in _COLUMNS:
        op.add_column(
            "inspection_item",
            sa.Column(name, sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        )

    # The checklist answers a result version rests on (None: entered without a checklist).
    op.add_column("inspection_result", sa.Column("checklist", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("inspection_result", "checklist")
    for name in reversed(_COLUMNS):
        op.drop_column("inspection_item", name)
