"""Findings carry their entity's region: ``region_code`` (the county, 150203) and
``prefecture_code`` (its 盟市, 150200), each leading an index in queue order, so a county or
prefecture reviewer's queue page and total are one index range however small their share of
the province (walking the province's queue and looking up each finding's entity read the
whole queue for a county with no open finding: 1.1 s at 1,000,000 findings).

Triggers keep the copy true at every door: a new finding takes its entity's region, and an
entity whose region changes moves its findings with it. (On SQLite, whose triggers cannot
change the row being inserted, the trigger rewrites a new finding only when the writer did
not pass its entity's region: the check run passes it, so its inserts cost no second write.)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUE = ("severity_rank", "opened_at", "id")

_SQLITE = (
    """
    CREATE TRIGGER finding_region_new AFTER INSERT ON finding
    WHEN NEW.region_code = '' OR NEW.region_code IS NOT (
        SELECT region_code FROM entity WHERE uscc = NEW.uscc)
    BEGIN
        UPDATE finding
           SET region_code = coalesce(
                   (SELECT region_code FROM entity WHERE uscc = NEW.uscc), ''),
               prefecture_code = coalesce(
                   (SELECT substr(region_code, 1, 4) || '00' FROM entity WHERE uscc = NEW.uscc),
                   '')
         WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER finding_region_moves AFTER UPDATE OF region_code ON entity
    WHEN NEW.region_code IS NOT OLD.region_code
    BEGIN
        UPDATE finding
           SET region_code = NEW.region_code,
               prefecture_code = substr(NEW.region_code, 1, 4) || '00'
         WHERE uscc = NEW.uscc;
    END
    """,
)
_POSTGRESQL = (
    """
    CREATE FUNCTION finding_region_new() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT e.region_code, substr(e.region_code, 1, 4) || '00'
          INTO NEW.region_code, NEW.prefecture_code
          FROM entity AS e WHERE e.uscc = NEW.uscc;
        NEW.region_code := coalesce(NEW.region_code, '');
        NEW.prefecture_code := coalesce(NEW.prefecture_code, '');
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER finding_region_new BEFORE INSERT ON finding
    FOR EACH ROW EXECUTE FUNCTION finding_region_new()
    """,
    """
    CREATE FUNCTION finding_region_moves() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE finding
           SET region_code = NEW.region_code,
               prefecture_code = substr(NEW.region_code, 1, 4) || '00'
         WHERE uscc = NEW.uscc;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER finding_region_moves AFTER UPDATE OF region_code ON entity
    FOR EACH ROW WHEN (NEW.region_code IS DISTINCT FROM OLD.region_code)
    EXECUTE FUNCTION finding_region_moves()
    """,
)


def upgrade() -> None:
    for name in ("region_code", "prefecture_code"):
        op.add_column(
            "finding",
            sa.Column(
                name,
                sqlmodel.sql.sqltypes.AutoString(length=6),
                nullable=False,
                server_default="",
            ),
        )
    op.execute(
        "UPDATE finding SET region_code = coalesce((SELECT e.region_code FROM entity AS e"
        " WHERE e.uscc = finding.uscc), '')"
    )
    op.execute(
        "UPDATE finding SET prefecture_code = substr(region_code, 1, 4) || '00'"
        " WHERE region_code <> ''"
    )
    op.create_index(
        "ix_finding_region_queue", "finding", ["status", "region_code", *_QUEUE], unique=False
    )
    op.create_index(
        "ix_finding_prefecture_queue",
        "finding",
        ["status", "prefecture_code", *_QUEUE],
        unique=False,
    )
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER finding_region_moves ON entity")
        op.execute("DROP TRIGGER finding_region_new ON finding")
        op.execute("DROP FUNCTION finding_region_moves()")
        op.execute("DROP FUNCTION finding_region_new()")
    else:
        op.execute("DROP TRIGGER finding_region_moves")
        op.execute("DROP TRIGGER finding_region_new")
    op.drop_index("ix_finding_prefecture_queue", table_name="finding")
    op.drop_index("ix_finding_region_queue", table_name="finding")
    with op.batch_alter_table("finding") as batch:
        batch.drop_column("prefecture_code")
        batch.drop_column("region_code")
