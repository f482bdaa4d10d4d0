"""Planner statistics after bulk writes (``db.refresh_statistics``): on PostgreSQL the demo
load, an import and a check run analyse the tables they changed a lot, in their own
transaction, instead of leaving the next statement to plan without statistics until
autovacuum (when it is on at all) gets there; nothing on SQLite."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from factories import make_entity, write_csv
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from supervision.checks.run import run_check
from supervision.db import Database, needs_statistics, refresh_statistics
from supervision.demo.load import load_demo
from supervision.demo.province import DemoProvince
from supervision.directories.importing import import_file

AS_OF = date(2026, 11, 20)


@given(st.integers(-5, 10_000), st.floats(-1, 1e7, allow_nan=False))
def test_stale_by_autovacuums_own_rule(changed: int, known: float) -> None:
    stale = needs_statistics(changed, known)
    if changed <= 0:
        assert not stale
    elif known < 0:  # never analysed
        assert stale
    else:
        assert stale == (changed > 50 + 0.1 * known)
    # More changes never make statistics fresher.
    assert not stale or needs_statistics(changed + 1, known)


def _analysed(db: Database) -> dict[str, int]:
    """Manual ANALYZE count per table (autovacuum's own analyses are counted apart)."""
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT relname, analyze_count FROM pg_stat_user_tables"))
        return {str(name): int(n) for name, n in rows}


def _has_statistics(db: Database, table: str) -> bool:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = :t"),
            {"t": table},
        ).scalar_one()
    return int(found) > 0


@pytest.fixture
def pg(pg_url: str) -> Any:
    database = Database(pg_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.mark.postgres
def test_a_demo_load_and_its_first_check_leave_statistics(pg: Database) -> None:
    assert not _has_statistics(pg, "compliance_record")
    load_demo(pg, DemoProvince(entities=300, seed=5, as_of=AS_OF))
    analysed = _analysed(pg)
    for table in ("entity", "compliance_record", "inspector", "conflict"):
        assert analysed[table] == 1, table
        assert _has_statistics(pg, table), table
    run_check(pg, as_of=AS_OF)
    analysed = _analysed(pg)
    for table in ("finding", "entity_check_state", "entity_facts"):
        assert analysed[table] == 1, table
    # Nothing changed since: a second run writes next to nothing and analyses nothing new.
    run_check(pg, as_of=AS_OF)
    assert _analysed(pg)["entity_facts"] == 1


@pytest.mark.postgres
def test_an_import_analyses_its_table_only_when_it_changed_enough(
    pg: Database, tmp_path: Path
) -> None:
    rows = [make_entity(n) for n in range(1, 401)]
    import_file(pg, kind="entities", path=write_csv(tmp_path / "a.csv", rows), actor="导入员")
    assert _analysed(pg)["entity"] == 1 and _has_statistics(pg, "entity")
    # 10 of 400 rows changed: under 50 + 10%, the statistics stand.
    changed = [r | {"name": r["name"] + "（更名）"} for r in rows[:10]]
    report = import_file(pg, kind="entities", path=write_csv(tmp_path / "b.csv", changed),
                         actor="导入员")  # fmt: skip
    assert report.updated == 10 and _analysed(pg)["entity"] == 1
    # 200 more rows: past the threshold again.
    more = [make_entity(n) for n in range(401, 601)]
    import_file(pg, kind="entities", path=write_csv(tmp_path / "c.csv", more), actor="导入员")
    assert _analysed(pg)["entity"] == 2


def test_sqlite_is_left_alone(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 's.db'}")
    try:
        load_demo(database, DemoProvince(entities=100, seed=5, as_of=AS_OF))
        with database.engine.begin() as conn:
            assert refresh_statistics(conn, {"entity": 10**6}) == []
            assert (
                conn.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
                ).scalar_one()
                == 0
            )
    finally:
        database.dispose()
