"""The credit loop: registers (经营异常名录, 经营异常状态, 严重违法失信名单) with their
listing and removal decisions, the proposals a reviewer decides, the history of each
entity's credit risk class, the date of the class in force, and marks that a targeted
draw consumes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # Plain ALTER TABLE: existing classes have no known date (an import then needs one
    # newer than any decision to change a decided class).
    op.add_column("entity", sa.Column("risk_classified_on", sa.Date(), nullable=True))
    op.add_column("entity_mark", sa.Column("consumed_by", _S(length=64), nullable=True))
    op.add_column("entity_mark", sa.Column("consumed_at", _T(), nullable=True))

    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", _S(length=18), nullable=False),
        sa.Column("register_code", _S(length=20), nullable=False),
        sa.Column("reason_code", _S(length=20), nullable=False),
        sa.Column("reason", _S(length=500), nullable=False),
        sa.Column("organ", _S(length=200), nullable=False),
        sa.Column("decision_no", _S(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("cause", _S(length=100), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("listed_by", _S(length=100), nullable=False),
        sa.Column("listed_at", _T(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removal_reason_code", _S(length=20), nullable=True),
        sa.Column("removal_reason", _S(length=500), nullable=True),
        sa.Column("removal_organ", _S(length=200), nullable=True),
        sa.Column("removal_decision_no", _S(length=100), nullable=True),
        sa.Column("removal_proposal_id", sa.Integer(), nullable=True),
        sa.Column("removed_by", _S(length=100), nullable=True),
        sa.Column("removed_at", _T(), nullable=True),
        sa.ForeignKeyConstraint(["uscc"], ["entity.uscc"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organ", "decision_no", name="uq_register_entry_decision"),
    )
    op.create_index(
        "ix_register_entry_entity", "register_entry", ["uscc", "register_code", "removed_on"]
    )

    op.create_table(
        "credit_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", _S(length=18), nullable=False),
        sa.Column("action", _S(length=8), nullable=False),
        sa.Column("register_code", _S(length=20), nullable=False),
        sa.Column("reason_code", _S(length=20), nullable=False),
        sa.Column("cause", _S(length=100), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("detail", _S(length=500), nullable=False),
        sa.Column("proposed_by", _S(length=100), nullable=False),
        sa.Column("proposed_at", _T(), nullable=False),
        sa.Column("decided_by", _S(length=100), nullable=True),
        sa.Column("decided_at", _T(), nullable=True),
        sa.Column("decision_no", _S(length=100), nullable=True),
        sa.Column("organ", _S(length=200), nullable=True),
        sa.Column("note", _S(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["uscc"], ["entity.uscc"]),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["register_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credit_proposal_queue", "credit_proposal", ["status", "due_on", "id"])
    op.create_index("ix_credit_proposal_entity", "credit_proposal", ["uscc", "status"])

    op.create_table(
        "risk_class_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", _S(length=18), nullable=False),
        sa.Column("old_class", _S(length=1), nullable=True),
        sa.Column("new_class", _S(length=1), nullable=False),
        sa.Column("source", _S(length=12), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("ref", _S(length=200), nullable=False),
        sa.Column("recorded_by", _S(length=100), nullable=False),
        sa.Column("recorded_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["uscc"], ["entity.uscc"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_class_change_entity", "risk_class_change", ["uscc", "id"])


def downgrade() -> None:
    op.drop_index("ix_risk_class_change_entity", table_name="risk_class_change")
    op.drop_table("risk_class_change")
    op.drop_index("ix_credit_proposal_entity", table_name="credit_proposal")
    op.drop_index("ix_credit_proposal_queue", table_name="credit_proposal")
    op.drop_table("credit_proposal")
    op.drop_index("ix_register_entry_entity", table_name="register_entry")
    op.drop_table("register_entry")
    # Plain DROP COLUMN (SQLite ≥ 3.35, as in 0019): a batch copy would drop tables that
    # others reference.
    op.drop_column("entity_mark", "consumed_at")
    op.drop_column("entity_mark", "consumed_by")
    op.drop_column("entity", "risk_classified_on")
