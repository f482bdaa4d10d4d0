"""Findings carry their entity's region (migration 0025, #22): the scoped queues read a
county's or a prefecture's findings by one index range, so the copy must be true whoever
writes a finding (the check run, the ORM, a bulk insert that passes no region or a wrong
one) and must follow an entity that moves. The scoped queue and its total must then be
exactly the findings of the scope's entities, as the entity table says. SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from factories import make_entity, make_uscc, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from supervision.accounts.scope import Scope
from supervision.checks.review import open_count, open_findings_query
from supervision.console.queue import queue_page
from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.models import CheckRun, Entity, Finding

_E = Entity.__table__  # type: ignore[attr-defined]
_F = Finding.__table__  # type: ignore[attr-defined]
_RUN = CheckRun.__table__  # type: ignore[attr-defined]
_NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
_SEVERITIES = ("critical", "high", "medium", "low")  # ranks 0…3
_COUNTIES = ("150102", "150105", "150203", "150204", "152201")
_SCOPES = ("", "15", "1501", "1502", "1522", "150102", "150203", "150204", "1503", "150301")


def _entity(n: int, region: str, uscc: str | None = None) -> dict[str, Any]:
    return {
        "uscc": uscc or make_uscc(n), "name": f"测试商贸有限公司{n}", "entity_type": "企业",
        "industry_code": "F5211", "region_code": region, "address": "", "legal_rep": "",
        "status": "存续", "risk_class": "A", "abnormal": False,
        "established_on": dt.date(2020, 1, 1), "updated_at": _NOW,
    }  # fmt: skip


def _run(conn: Any) -> int:
    return int(
        conn.execute(
            _RUN.insert().values(
                started_at=_NOW, as_of=_NOW.date(), pack_digest="0" * 64, mode="full", errors=[]
            )
        ).inserted_primary_key[0]
    )


def _finding(uscc: str, n: int, run_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "uscc": uscc, "rule_id": f"t.rule-{n}", "rule_version": 1, "department": "",
        "severity": _SEVERITIES[n % 4], "severity_rank": n % 4, "result_code": "D", "fact_ids": [],
        "matched": [], "status": "open" if n % 5 else "resolved", "first_run_id": run_id,
        "last_run_id": run_id, "opened_as_of": _NOW.date(),
        "opened_at": _NOW - dt.timedelta(minutes=n), "effects": [], **extra,
    }  # fmt: skip


def _regions(db: Database) -> list[tuple[str, str, str, str]]:
    """(finding's region, finding's prefecture, entity's region, uscc) of every finding."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(_F.c.region_code, _F.c.prefecture_code, _E.c.region_code, _F.c.uscc).join(
                _E, _E.c.uscc == _F.c.uscc
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _assert_copies_true(db: Database) -> None:
    rows = _regions(db)
    assert rows
    for region, prefecture, entity_region, uscc in rows:
        assert (region, prefecture) == (entity_region, entity_region[:4] + "00"), uscc


def test_every_writer_gets_the_entity_region_and_findings_follow_a_move(db: Database) -> None:
    entities = [_entity(n, _COUNTIES[n % len(_COUNTIES)]) for n in range(6)]
    with db.engine.begin() as conn:
        conn.execute(_E.insert(), entities)
        run_id = _run(conn)
        # A bulk insert passing no region, one passing a wrong region, and the ORM.
        conn.execute(_F.insert(), [_finding(e["uscc"], 1, run_id) for e in entities[:3]])
        conn.execute(_F.insert(), [
            _finding(e["uscc"], 2, run_id, region_code="110101", prefecture_code="110100")
            for e in entities[3:]
        ])  # fmt: skip
    with db.session() as session:
        session.add(Finding(**_finding(entities[0]["uscc"], 3, run_id)))
        session.commit()
    _assert_copies_true(db)
    moved = entities[1]["uscc"]
    with db.engine.begin() as conn:
        conn.execute(update(_E).where(_E.c.uscc == moved).values(region_code="150802"))
    _assert_copies_true(db)
    with db.engine.connect() as conn:
        assert set(conn.execute(
            select(_F.c.region_code, _F.c.prefecture_code).where(_F.c.uscc == moved)
        ).all()) == {("150802", "150800")}  # fmt: skip


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    homes=st.lists(st.sampled_from(_COUNTIES), min_size=1, max_size=12),
    moves=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(_COUNTIES)), max_size=4),
)
def test_a_scoped_queue_is_exactly_its_entities_findings(
    db: Database, homes: list[str], moves: list[tuple[int, str]]
) -> None:
    with db.engine.begin() as conn:
        conn.execute(_F.delete())
        conn.execute(_E.delete())
        base = 900 + len(homes) * 100
        usccs = [make_uscc(base + i) for i in range(len(homes))]
        conn.execute(_E.insert(), [
            _entity(base + i, home, u) for i, (u, home) in enumerate(zip(usccs, homes, strict=True))
        ])  # fmt: skip
        run_id = _run(conn)
        conn.execute(_F.insert(), [_finding(u, n, run_id) for n in range(4) for u in usccs])
        for index, county in moves:
            if index < len(usccs):
                conn.execute(update(_E).where(_E.c.uscc == usccs[index]).values(region_code=county))
        where = dict(conn.execute(select(_E.c.uscc, _E.c.region_code)).all())
        open_ids = {
            fid: uscc for fid, uscc in conn.execute(
                select(_F.c.id, _F.c.uscc).where(_F.c.status == "open")).all()
        }  # fmt: skip
    for prefix in _SCOPES:
        scope = Scope(region=prefix)
        expected = {fid for fid, uscc in open_ids.items() if where[uscc].startswith(prefix)}
        with db.engine.connect() as conn:
            listed = {row[0] for row in conn.execute(open_findings_query(scope=scope)).all()}
            filtered = {row[0] for row in conn.execute(open_findings_query(region=prefix)).all()}
        assert listed == expected, prefix
        assert open_count(db, scope=scope) == len(expected), prefix
        if prefix:
            assert filtered == expected and open_count(db, region=prefix) == len(expected)
        page = queue_page(db, scope=scope, limit=3)
        seen = [item.finding_id for item in page.items]
        while page.next_cursor:
            page = queue_page(db, scope=scope, limit=3, after=page.next_cursor)
            seen += [item.finding_id for item in page.items]
        assert len(seen) == len(set(seen)) and set(seen) == expected, prefix


def test_migration_0025_copies_the_regions_of_existing_findings(db: Database, db_url: str) -> None:
    from alembic import command

    from supervision.db import alembic_config, make_engine

    entities = [_entity(n, _COUNTIES[n % len(_COUNTIES)]) for n in range(5)]
    with db.engine.begin() as conn:
        conn.execute(_E.insert(), entities)
    db.dispose()
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0024")
        with engine.begin() as conn:
            run_id = _run(conn)
            for n, e in enumerate(entities):
                conn.exec_driver_sql(
                    "INSERT INTO finding (uscc, rule_id, rule_version, department, severity,"
                    " severity_rank, result_code, fact_ids, matched, status, first_run_id,"
                    " last_run_id, opened_as_of, opened_at, effects) VALUES"
                    f" ('{e['uscc']}', 'r{n}', 1, '', 'low', 3, 'D', '[]', '[]', 'open',"
                    f" {run_id}, {run_id}, '2026-07-01', '2026-07-01 00:00:00+00:00', '[]')"
                )
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    finally:
        engine.dispose()
    again = Database(db_url)
    try:
        _assert_copies_true(again)
        assert open_count(again, scope=Scope(region="1502")) == sum(
            e["region_code"].startswith("1502") for e in entities
        )
    finally:
        again.dispose()


def test_an_import_that_moves_an_entity_moves_its_findings(db: Database, tmp_path: Path) -> None:
    """The directory import (an upsert) is a door too: its findings follow the entity."""
    rows = [make_entity(n, region_code=county) for n, county in enumerate(("150102", "150203"))]
    import_file(db, kind="entities", path=write_csv(tmp_path / "a.csv", rows), actor="导入员")
    with db.engine.begin() as conn:
        run_id = _run(conn)
        conn.execute(_F.insert(), [_finding(r["uscc"], 1, run_id) for r in rows])
    assert open_count(db, scope=Scope(region="150203")) == 1
    rows[0]["region_code"] = "150203"
    import_file(db, kind="entities", path=write_csv(tmp_path / "b.csv", rows), actor="导入员")
    _assert_copies_true(db)
    assert open_count(db, scope=Scope(region="150203")) == 2
    assert open_count(db, scope=Scope(region="1501")) == 0
